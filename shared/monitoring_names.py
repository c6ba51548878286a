"""The names of the alarms and the dashboard each compute stack creates, for whoever points at them by name.

The traffic tooling and the migration runbook (`shared.runbook`) name these without reading a stack: a name is
`Naming.for_role(settings, role).name(<component>)`, so the secondary's are known in the primary region too.
"""

from __future__ import annotations

from typing import Final

from config.settings import Role, Settings
from shared.naming import Naming

REGION_UNHEALTHY: Final = "region-unhealthy"  # each region's composite of its critical alarms
REPLICATION_LAG: Final = "aurora-replication-lag"  # the secondary's only: it watches the global database's replica
DASHBOARD: Final = "payments"  # each region's dashboard


def region_unhealthy_alarm(settings: Settings, role: Role) -> str:
    return Naming.for_role(settings, role).name(REGION_UNHEALTHY)


def replication_lag_alarm(settings: Settings) -> str:
    return Naming.for_role(settings, "secondary").name(REPLICATION_LAG)


def dashboard_name(settings: Settings, role: Role) -> str:
    return Naming.for_role(settings, role).name(DASHBOARD)
