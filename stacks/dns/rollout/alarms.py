"""The alarms the rollout engine watches in a region, with their types (what `describeAlarms` lists them under)."""

from __future__ import annotations

from config.settings import Role, Settings
from shared.alarm_names import REGION_UNHEALTHY, REPLICATION_LAG
from shared.local_target import is_local
from shared.naming import Naming

COMPOSITE, METRIC = "CompositeAlarm", "MetricAlarm"


def watched_alarms(settings: Settings, role: Role) -> tuple[tuple[str, str], ...]:
    """`region-unhealthy` (composite on AWS; a metric alarm locally, gap `composite-alarm`), and in the secondary
    its replica's replication lag, which compute-secondary creates (the primary's cluster has no replica lag)."""
    naming = Naming.for_role(settings, role)
    alarms = [(naming.name(REGION_UNHEALTHY), METRIC if is_local(settings) else COMPOSITE)]
    if role == "secondary":
        alarms.append((naming.name(REPLICATION_LAG), METRIC))
    return tuple(alarms)
