"""Moving traffic between the regions: staged rollouts and database failover/failback."""
