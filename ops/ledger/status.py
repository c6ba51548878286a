"""`make db-status`: per region, which database is the writer, which the standby, how far behind, which migration.

Local target: the two PostgreSQL instances themselves (`pg_is_in_recovery()`, `pg_stat_replication`, each one's
`schema_migrations`, readable on the hot standby too). AWS: the global cluster's members (RDS), the replica's
`AuroraGlobalDBReplicationLag` (CloudWatch) and the writer's last migration (the ledger-admin function).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from config.settings import ROLES, Role, Settings
from ops.core.aws_clients import client
from ops.core.console import columns
from ops.ledger import admin_function, aurora
from ops.ledger.migrations import deployed_roles
from ops.local import postgres

LAST_MIGRATION_SQL = "SELECT max(version) FROM schema_migrations"
LAG_METRIC = "AuroraGlobalDBReplicationLag"


@dataclass(frozen=True)
class RegionStatus:
    role: Role
    region: str
    database: str  # what stands for the region's cluster: an address locally, a cluster identifier on AWS
    state: str  # writer | standby | down
    lag: str
    migration: str


def _last_migration(instance: postgres.Instance, database: str) -> str:
    try:
        value = postgres.query(instance, LAST_MIGRATION_SQL, database=database)[0][0]
    except Exception:  # not migrated yet (no table) or not answering: shown, not fatal
        return "none"
    return str(value) if value is not None else "none"


def local_status(settings: Settings) -> list[RegionStatus]:
    found = postgres.instances(settings.local)
    writer = postgres.writer(settings.local)
    rows: list[RegionStatus] = []
    for role in ROLES:
        instance = found[role]
        recovery = postgres.in_recovery(instance)
        state = "down" if recovery is None else "standby" if recovery else "writer"
        lag = "-"
        if state == "standby" and writer is not None:
            replication = postgres.replication(found[writer], instance)
            lag = (
                f"{replication.lag_bytes} bytes, {replication.replay_lag_ms or 0:.1f} ms ({replication.state})"
                if replication.state
                else "not streaming"
            )
        migration = _last_migration(instance, settings.data.database_name) if recovery is not None else "-"
        rows.append(
            RegionStatus(role, settings.regions.of(role), f"{instance.host}:{instance.port}", state, lag, migration)
        )
    return rows


def _lag_ms(settings: Settings, region: str, cluster: str) -> str:
    end = datetime.now(UTC)
    points = client(settings, "cloudwatch", region).get_metric_statistics(
        Namespace="AWS/RDS",
        MetricName=LAG_METRIC,
        Dimensions=[{"Name": "DBClusterIdentifier", "Value": cluster}],
        StartTime=end - timedelta(minutes=5),
        EndTime=end,
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    if not points:
        return "no datapoints (5 min)"
    latest = max(points, key=lambda point: point["Timestamp"])
    return f"{float(latest['Maximum']):.0f} ms"


def aws_status(settings: Settings) -> list[RegionStatus]:
    found, writer = aurora.global_writer(settings)
    migration = "-"
    roles = deployed_roles(settings)
    if roles:
        answer: dict[str, Any] = admin_function.invoke(settings, roles[0], "status")
        migration = str((answer.get("last_migration") or {}).get("version", "none"))
    rows = []
    for role in ROLES:
        cluster = found[role]
        state = "writer" if role == writer else "standby"
        lag = "-" if role == writer else _lag_ms(settings, cluster.region, cluster.identifier)
        rows.append(
            RegionStatus(role, cluster.region, cluster.identifier, state, lag, migration if role == writer else "-")
        )
    return rows


def table(rows: list[RegionStatus]) -> list[str]:
    header = ("region", "", "database", "state", "replication lag", "last migration")
    return columns(header, [(r.region, r.role, r.database, r.state, r.lag, r.migration) for r in rows])


def writer_of(rows: list[RegionStatus]) -> Role | None:
    writers = [row.role for row in rows if row.state == "writer"]
    return writers[0] if len(writers) == 1 else None
