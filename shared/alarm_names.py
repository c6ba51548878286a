"""Alarm name components the compute stacks create and the traffic tooling and rollout engine watch by name."""

from __future__ import annotations

from typing import Final

REGION_UNHEALTHY: Final = "region-unhealthy"  # the one alarm a rollout watches per region (composite on AWS)
REPLICATION_LAG: Final = "aurora-replication-lag"  # the secondary's replica falling behind (critical)
