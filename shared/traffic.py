"""The contract between the DNS stacks and the traffic tooling: the variable that carries a region's weight.

The DNS stacks declare it; ops writes it (from the persisted split) into each DNS stack's tfvars.
"""

from __future__ import annotations

TRAFFIC_WEIGHT_VARIABLE = "traffic_weight"
