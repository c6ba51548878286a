"""The alarms the rollout engine watches in a region, with their types (what `describeAlarms` lists them under)."""

from __future__ import annotations

from config.settings import Role, Settings
from shared.local_target import supports_composite_alarms
from shared.monitoring_names import region_unhealthy_alarm, replication_lag_alarm

COMPOSITE, METRIC = "CompositeAlarm", "MetricAlarm"


def watched_alarms(settings: Settings, role: Role) -> tuple[tuple[str, str], ...]:
    """`region-unhealthy` (composite on AWS; a metric alarm locally, gap `composite-alarm`), and in the secondary
    its replica's replication lag, which compute-secondary creates (the primary's cluster has no replica lag)."""
    alarms = [(region_unhealthy_alarm(settings, role), COMPOSITE if supports_composite_alarms(settings) else METRIC)]
    if role == "secondary":
        alarms.append((replication_lag_alarm(settings), METRIC))
    return tuple(alarms)
