"""How Route 53 judges a health check from its checkers' reports (the rollout watch and the client share it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Route 53 considers an endpoint healthy when more than 18% of its health checkers do.
HEALTHY_CHECKER_SHARE = 0.18


def succeeded(observations: Sequence[dict[str, Any]]) -> int:
    """How many checkers report success (GetHealthCheckStatus's `HealthCheckObservations`)."""
    return sum(1 for o in observations if o.get("StatusReport", {}).get("Status", "").startswith("Success"))


def is_healthy(observations: Sequence[dict[str, Any]]) -> bool | None:
    """The endpoint's status as Route 53 decides it; None while a new check has no observations yet."""
    if not observations:
        return None
    return succeeded(observations) / len(observations) > HEALTHY_CHECKER_SHARE
