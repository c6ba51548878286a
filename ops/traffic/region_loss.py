"""Fail over when a region is lost (`make failover UNPLANNED=yes`, `make failback UNPLANNED=yes`): nothing calls it.

The planned switchover (`ops.traffic.failover`) needs both regions. This one presumes the region it leaves is gone
and never sends it a request; every step runs in the surviving region or against a global service:

1. survivor checks: its database answers and its region-unhealthy alarm is not firing. What may be lost is stated:
   the replication lag last measured (Aurora: `AuroraGlobalDBReplicationLag`, the survivor's own metric; locally the
   standby's last replayed transaction and the table replication's lag).
2. fence the survivor (write home = fenced): it stops redirecting writes into the lost region, and takes none until
   its database is the writer.
3. database: Aurora `FailoverGlobalCluster` with `AllowDataLoss`, called in the survivor's region; locally the
   survivor's PostgreSQL standby is promoted.
4. open the survivor (write home = itself).
5. traffic: the split is persisted as 100% to the survivor (in the state copy in use: the replica home when the
   primary's does not answer), and the entry's two weighted records are set to it straight through Route 53's API.
   Terraform cannot do this step: the lost region's DNS stack plans against that region (its provider, its
   certificate and custom domain). Route 53 is global, but its control plane lives in us-east-1; when that is what
   failed, the weights stay as they were and the failover says so and goes on, because the health-check failover
   (Route 53's data plane) already answers the lost region's leg with the survivor.

The lost region's own write-home parameter, database and DNS stack stay as they were while it is down: `make rejoin`
brings it back in step once it answers (docs/drill.md). Every step prints the seconds since the start.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config.settings import ROLES, Role, Settings, other_role
from ops.core.aws_clients import client
from ops.core.console import console
from ops.core.errors import ToolError
from ops.deploy.outputs import outputs_with
from ops.ledger.aurora import Cluster, clusters, writer_role
from ops.local import postgres, table_replication
from ops.state import locks, traffic_split
from ops.state.traffic_split import Split
from ops.traffic import rollout, write_home
from ops.traffic.checks import Check, cluster_status, degraded, max_replica_lag_ms, report
from shared.api_names import entry_name
from shared.write_home import FENCED

STEPS = 5
SWITCH_TIMEOUT_SECONDS = 1800
SWITCH_POLL_SECONDS = 15


class Clock:
    """Seconds since the failover started, for each step's line."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self.now = now
        self.started = now()

    def step(self, number: int, what: str) -> None:
        console.say(f"[{number}/{STEPS}] +{self.now() - self.started:5.1f}s {what}")


def _local_loss_window(settings: Settings, to: Role) -> Check:
    """What the survivor's standby had replayed, and the table replication's measured lag: what may be lost."""
    survivor = postgres.instances(settings.local)[to]
    rows = postgres.query(
        survivor,
        "SELECT pg_last_xact_replay_timestamp()::text, EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())",
    )
    replayed, age = rows[0] if rows else (None, None)
    try:
        tables = table_replication.stats(settings.local)
        measured = f"table replication lag {tables.lag()}"
    except ToolError as error:
        measured = f"no table replication figures ({error})"
    standby = (
        f"the {to} standby last replayed a transaction at {replayed} ({float(age or 0):.1f}s ago)"
        if replayed
        else f"the {to} standby has replayed no transaction"
    )
    return Check("what may be lost", "note", f"{standby}; {measured}: writes newer than that are lost")


def survivor_checks(settings: Settings, found: dict[Role, Cluster], to: Role) -> list[Check]:
    checks: list[Check] = []
    if settings.is_local:
        answers = postgres.in_recovery(postgres.instances(settings.local)[to])
        checks.append(
            Check(f"{to} database", "FAIL", f"the {to} region's PostgreSQL instance does not answer")
            if answers is None
            else Check(f"{to} database", "ok", "the instance answers" + (" (a standby)" if answers else " (a writer)"))
        )
        if answers:
            checks.append(_local_loss_window(settings, to))
    else:
        checks.append(cluster_status(settings, found[to]))
        lag = max_replica_lag_ms(settings, found[to])
        checks.append(
            Check(
                "what may be lost",
                "note",
                f"{found[to].identifier}: replication lag at most {lag:.0f} ms over the last 5 min: writes newer "
                "than that are lost"
                if lag is not None
                else f"no {found[to].identifier} lag datapoints over the last 5 min: the loss cannot be bounded",
            )
        )
    checks.append(rollout.region_health(settings, to))
    return checks


def _failover_aurora(settings: Settings, found: dict[Role, Cluster], global_id: str, to: Role) -> Check:
    target = found[to]
    rds = client(settings, "rds", target.region)
    console.say(f"    FailoverGlobalCluster (AllowDataLoss) in {target.region}: {global_id} -> {target.arn}")
    try:
        rds.failover_global_cluster(
            GlobalClusterIdentifier=global_id, TargetDbClusterIdentifier=target.arn, AllowDataLoss=True
        )
    except (ClientError, BotoCoreError) as error:
        return Check("database", "FAIL", f"FailoverGlobalCluster failed: {error}")
    deadline = time.monotonic() + SWITCH_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        described = rds.describe_global_clusters(GlobalClusterIdentifier=global_id)["GlobalClusters"][0]
        if writer_role(described.get("GlobalClusterMembers", []), found) == to:
            return Check("database", "ok", f"{target.identifier} is the writer")
        console.say(f"    waiting: global cluster {described.get('Status')}")
        time.sleep(SWITCH_POLL_SECONDS)
    return Check("database", "FAIL", f"{target.identifier} is not the writer after {SWITCH_TIMEOUT_SECONDS}s")


def promote_database(settings: Settings, found: dict[Role, Cluster], global_id: str, to: Role) -> list[Check]:
    if not settings.is_local:
        return [_failover_aurora(settings, found, global_id, to)]
    survivor = postgres.instances(settings.local)[to]
    checks = [
        degraded(
            settings,
            "global cluster",
            "FailoverGlobalCluster is not implemented and the emulator keeps global clusters in one region; "
            "not called: the local PostgreSQL instances stand in",
        )
    ]
    if postgres.in_recovery(survivor) is False:
        return [*checks, Check("local database", "ok", f"the {to} region's instance is already the writer")]
    began = time.monotonic()
    postgres.promote(survivor)
    took = time.monotonic() - began
    return [*checks, Check("local database", "ok", f"the {to} region's instance promoted in {took:.2f}s")]


def _weighted_records(settings: Settings, route53: Any, zone_id: str) -> dict[Role, dict[str, Any]]:
    name = entry_name(settings.dns).rstrip(".") + "."
    found = route53.list_resource_record_sets(HostedZoneId=zone_id, StartRecordName=name, StartRecordType="A")
    return {
        record["SetIdentifier"]: record
        for record in found["ResourceRecordSets"]
        if record["Name"] == name and record["Type"] == "A" and record.get("SetIdentifier") in ROLES
    }


def set_route53_weights(settings: Settings, zone_id: str, split: Split, *, comment: str = "") -> Check:
    """Both weighted records of the entry to `split`, in one Route 53 change batch (all or nothing)."""
    name = "route53 weights"
    try:
        route53 = client(settings, "route53", settings.regions.primary)  # global: signed for us-east-1 wherever
        records = _weighted_records(settings, route53, zone_id)
        if set(records) != set(ROLES):
            return Check(name, "FAIL", f"the entry's weighted records are not both there (found {sorted(records)})")
        changes = [
            {"Action": "UPSERT", "ResourceRecordSet": {**records[role], "Weight": split.share(role)}} for role in ROLES
        ]
        route53.change_resource_record_sets(
            HostedZoneId=zone_id,
            ChangeBatch={"Comment": comment or f"unplanned failover: {split}", "Changes": changes},
        )
    except (ClientError, BotoCoreError) as error:
        return Check(
            name,
            "note",
            f"Route 53's API did not take the change ({error}); the health-check failover still answers the lost "
            "region's leg with the survivor; `make rejoin` applies the weights when it can",
        )
    return Check(name, "ok", f"entry weights {split} (primary/secondary) set through Route 53's API")


def move_traffic(settings: Settings, to: Role, bake_seconds: int) -> list[Check]:
    state = traffic_split.read(settings)
    target = Split.all_to(to)
    previous = state.weights
    zone_id = outputs_with(settings, ["dns-primary"])["dns-primary"]["zone_id"]
    checks = [set_route53_weights(settings, zone_id, target)]
    state.add_history(source=previous, target=target, result="applied", reason="unplanned failover")
    state.weights, state.status, state.rollout = target, "stable", None
    traffic_split.write(settings, state)
    checks.append(Check("split", "ok", f"{previous} -> {target} persisted ({settings.state_bucket})"))
    signal, _ = rollout.bake(rollout.Watch.of(settings, [to]), bake_seconds)
    checks.append(
        Check(f"{to} region health", "FAIL", str(signal))
        if signal
        else Check(f"{to} region health", "ok", f"healthy for {bake_seconds}s")
    )
    return checks


def run(settings: Settings, *, to: Role, bake_seconds: int) -> int:
    lost = other_role(to)
    verb = "failover" if to == "secondary" else "failback"
    console.say(
        f"WARNING: an unplanned {verb} treats the {lost} region ({settings.regions.of(lost)}) as lost and sends it "
        "nothing. Writes it took and had not replicated are lost (the bound is stated below). Use it only when that "
        f"region is down; otherwise use the planned `make {verb}`."
    )
    clock = Clock()
    with locks.traffic_locked(settings, f"unplanned {verb} to {to}"):
        found, global_id = clusters(settings)
        steps: list[tuple[str, Callable[[], list[Check]], str]] = [
            (
                f"checks of the {to} region ({settings.regions.of(to)})",
                lambda: survivor_checks(settings, found, to),
                f"the {to} region is not fit to take over (nothing changed)",
            ),
            (
                f"write home: the {to} region fenced until its database is the writer",
                lambda: [write_home.set_view(settings, to, FENCED, "write home fence")],
                f"the {to} region could not be fenced",
            ),
            (
                f"database: the {to} region's becomes the writer",
                lambda: promote_database(settings, found, global_id, to),
                f"the database did not move; the {to} region stays fenced",
            ),
            (
                f"write home: the {to} region takes writes",
                lambda: [write_home.set_view(settings, to, to, "write home open")],
                f"the {to} region's write home did not open; run the failover again",
            ),
            (f"traffic: 100% to {to}", lambda: move_traffic(settings, to, bake_seconds), "see above"),
        ]
        for number, (what, step, stopped) in enumerate(steps, 1):
            clock.step(number, what)
            if not report(step()):
                console.say(f"unplanned {verb} stopped at step {number}: {stopped}")
                return 1
    console.say(
        f"unplanned {verb} complete in {clock.now() - clock.started:.1f}s: the {to} region takes all traffic and "
        f"writes. The {lost} region's write home, database and DNS stack are out of step until it is back: then run "
        "`make rejoin`, and later the planned switch back."
    )
    return 0
