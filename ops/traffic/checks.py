"""One line of a failover's pre- or post-checks, and the checks both kinds of failover share."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from config.settings import Settings
from ops.core.aws_clients import client
from ops.core.console import console
from ops.ledger.aurora import Cluster

Outcome = Literal["ok", "FAIL", "note"]


@dataclass(frozen=True)
class Check:
    name: str
    outcome: Outcome  # note: could not be verified (emulator), continuing on the local target only
    detail: str

    def __str__(self) -> str:
        return f"    {self.outcome:<5} {self.name}: {self.detail}"


LAG_METRIC = "AuroraGlobalDBReplicationLag"
LAG_WINDOW = timedelta(minutes=5)


def degraded(settings: Settings, name: str, what: str) -> Check:
    """A check the emulator cannot answer: a note locally, a failure on AWS."""
    if settings.is_local:
        return Check(name, "note", f"{what} (emulator); continuing on the local target only")
    return Check(name, "FAIL", what)


def cluster_status(settings: Settings, cluster: Cluster) -> Check:
    try:
        described = client(settings, "rds", cluster.region).describe_db_clusters(DBClusterIdentifier=cluster.identifier)
    except (ClientError, BotoCoreError) as error:
        return Check(f"{cluster.role} cluster", "FAIL", f"{cluster.identifier} cannot be described: {error}")
    status = described["DBClusters"][0]["Status"]
    return Check(
        f"{cluster.role} cluster", "ok" if status == "available" else "FAIL", f"{cluster.identifier} is {status}"
    )


def max_replica_lag_ms(settings: Settings, replica: Cluster) -> float | None:
    """The replica's highest AuroraGlobalDBReplicationLag over the last five minutes (its own region's metric);
    None without datapoints."""
    end = datetime.now(UTC)
    datapoints = client(settings, "cloudwatch", replica.region).get_metric_statistics(
        Namespace="AWS/RDS",
        MetricName=LAG_METRIC,
        Dimensions=[{"Name": "DBClusterIdentifier", "Value": replica.identifier}],
        StartTime=end - LAG_WINDOW,
        EndTime=end,
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    return max((float(d["Maximum"]) for d in datapoints), default=None)


def describe_alarm(settings: Settings, region: str, name: str) -> dict[str, Any] | None:
    """One alarm by name, composite or metric (what DescribeAlarms lists it under); None when it does not exist."""
    found = client(settings, "cloudwatch", region).describe_alarms(
        AlarmNames=[name], AlarmTypes=["CompositeAlarm", "MetricAlarm"]
    )
    alarms = found.get("CompositeAlarms", []) + found.get("MetricAlarms", [])
    return dict(alarms[0]) if alarms else None


def report(checks: Iterable[Check]) -> bool:
    """Print each check; True when none failed."""
    checks = list(checks)
    for check in checks:
        console.say(str(check))
    return all(c.outcome != "FAIL" for c in checks)
