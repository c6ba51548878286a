"""The DNS layer: the hosted zone, the health checks and the records that split and fail over traffic."""
