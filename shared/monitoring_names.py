"""The full names of the alarms and the dashboard each compute stack creates, for whoever points at them by name.

The migration runbook (`shared.runbook`) names them without reading a stack: a name is
`Naming.for_role(settings, role).name(<component>)`, so the secondary's are known in the primary region too. The
alarm components are `shared.alarm_names`'.
"""

from __future__ import annotations

from typing import Final

from config.settings import Role, Settings
from shared.alarm_names import REGION_UNHEALTHY, REPLICATION_LAG
from shared.local_target import supports_composite_alarms
from shared.naming import Naming

DASHBOARD: Final = "payments"  # each region's dashboard
COMPOSITE: Final = "CompositeAlarm"
METRIC: Final = "MetricAlarm"


def region_unhealthy_alarm(settings: Settings, role: Role) -> str:
    return Naming.for_role(settings, role).name(REGION_UNHEALTHY)


def replication_lag_alarm(settings: Settings) -> str:
    """The secondary's only: it watches the global database's replica."""
    return Naming.for_role(settings, "secondary").name(REPLICATION_LAG)


def watched_alarms(settings: Settings, role: Role) -> tuple[tuple[str, str], ...]:
    """(name, type) of the alarms a traffic migration watches in a region: `region-unhealthy` (composite on AWS; a
    metric alarm locally, gap `composite-alarm`), and in the secondary its replica's replication lag (the
    primary's cluster has no replica to lag). The type is what DescribeAlarms lists the alarm under."""
    alarms = [(region_unhealthy_alarm(settings, role), COMPOSITE if supports_composite_alarms(settings) else METRIC)]
    if role == "secondary":
        alarms.append((replication_lag_alarm(settings), METRIC))
    return tuple(alarms)


def dashboard_name(settings: Settings, role: Role) -> str:
    return Naming.for_role(settings, role).name(DASHBOARD)
