"""Switch the whole platform to the other region (`make failover`) and back (`make failback`), both regions up.

With `--unplanned` (UNPLANNED=yes) the region left behind is lost: `ops.traffic.region_loss` does that failover,
and never calls it.

1. Pre-checks: both Aurora clusters available, both members of the global cluster, the replica's
   `AuroraGlobalDBReplicationLag` below the threshold, and the target region's `region-unhealthy` alarm
   not firing. Any failure stops here, before anything changes.
2. Write home and database: the write home is fenced (no region takes payments; `ops.traffic.write_home`), then
   Aurora global *switchover* to the target region's cluster (planned: no data loss, the old
   writer becomes a replica). Then the write home opens in the target region and the old home redirects to it
   (docs/write-home.md); if the database did not switch, the fence is undone.
3. Traffic: 100% to the target region, the same way a rollout applies a step (DNS stacks only), then baked
   while the target region's alarm and health check are watched.
4. Post-checks: the writer is now in the target region, both regions name it as the write home and the split
   is all on it.

On the local target the emulator cannot do everything (no switchover or failover of global clusters, no
metrics, the secondary cluster is not a global member): each such check says so and the run continues,
on the local target only. The database itself moves for real there: the two local PostgreSQL instances that
stand in for the clusters are switched with the same pre- and post-checks (`ops.traffic.local_database`).
"""

from __future__ import annotations

import time

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from config.settings import Role, Settings, other_role
from ops.core.aws_clients import client
from ops.core.console import console
from ops.ledger.aurora import Cluster, clusters, describe_global, global_region, writer_role
from ops.state import locks, traffic_split
from ops.state.traffic_split import Split
from ops.traffic import local_database, region_loss, rollout, write_home
from ops.traffic.checks import LAG_METRIC, Check, cluster_status, degraded, max_replica_lag_ms, report

DEFAULT_MAX_LAG_MS = 1000
DEFAULT_BAKE_SECONDS = 60
SWITCH_TIMEOUT_SECONDS = 1800
SWITCH_POLL_SECONDS = 15


def _replica_lag(settings: Settings, replica: Cluster, max_lag_ms: int) -> Check:
    lag = max_replica_lag_ms(settings, replica)
    if lag is None:
        return degraded(settings, "replica lag", f"no datapoints of {LAG_METRIC} for {replica.identifier}")
    return Check(
        "replica lag",
        "ok" if lag < max_lag_ms else "FAIL",
        f"{replica.identifier}: max {lag:.0f} ms over 5 min (threshold {max_lag_ms} ms)",
    )


def pre_checks(
    settings: Settings, found: dict[Role, Cluster], global_id: str, to: Role, max_lag_ms: int
) -> list[Check]:
    """What must hold before anything changes."""
    source = other_role(to)
    checks = [cluster_status(settings, found[to]), cluster_status(settings, found[source])]

    members = describe_global(settings, global_id).get("GlobalClusterMembers", [])
    arns = {m["DBClusterArn"] for m in members}
    for role in (to, source):
        cluster = found[role]
        if cluster.arn in arns:
            checks.append(Check(f"{role} membership", "ok", f"{cluster.identifier} is in {global_id}"))
        else:
            checks.append(
                degraded(settings, f"{role} membership", f"{cluster.identifier} is not a member of {global_id}")
            )
    writer = writer_role(members, found)
    checks.append(
        Check("writer", "ok", f"the writer is in the {writer} region")
        if writer
        else Check("writer", "FAIL", f"no member of {global_id} is a writer")
    )
    checks.append(_replica_lag(settings, found[to] if writer != to else found[source], max_lag_ms))
    if settings.is_local:
        checks.append(local_database.lag_check(settings, to, max_lag_ms))

    checks.append(rollout.region_health(settings, to))
    return checks


def switch_database(settings: Settings, found: dict[Role, Cluster], global_id: str, to: Role) -> Check:
    target = found[to]
    writer = writer_role(describe_global(settings, global_id).get("GlobalClusterMembers", []), found)
    if writer == to:
        return Check("database", "ok", f"the writer is already {target.identifier}: nothing to switch")
    rds = client(settings, "rds", global_region(settings, target.region))
    action = "SwitchoverGlobalCluster"
    console.say(f"    {action}: {global_id} -> {target.arn}")
    try:
        rds.switchover_global_cluster(GlobalClusterIdentifier=global_id, TargetDbClusterIdentifier=target.arn)
    except (ClientError, BotoCoreError, ResponseParserError) as error:  # the emulator answers an HTML 500
        what = f"{action} failed: {error}"
        if settings.is_local:
            what = f"{action} is not implemented (HTTP 500, {type(error).__name__}); the writer stays in {writer}"
        return degraded(settings, "database", what)
    deadline = time.monotonic() + SWITCH_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        described = describe_global(settings, global_id)
        if described.get("Status") == "available" and writer_role(described["GlobalClusterMembers"], found) == to:
            return Check("database", "ok", f"{target.identifier} is the writer")
        console.say(f"    waiting: global cluster {described.get('Status')}")
        time.sleep(SWITCH_POLL_SECONDS)
    return Check("database", "FAIL", f"{target.identifier} is not the writer after {SWITCH_TIMEOUT_SECONDS}s")


def post_checks(settings: Settings, found: dict[Role, Cluster], global_id: str, to: Role) -> list[Check]:
    writer = writer_role(describe_global(settings, global_id).get("GlobalClusterMembers", []), found)
    checks = [
        Check("writer", "ok", f"{found[to].identifier} is the writer")
        if writer == to
        else degraded(settings, "writer", f"the writer is still in the {writer} region, not in {to}")
    ]
    if settings.is_local:
        checks.extend(local_database.post_checks(settings, to))
    checks.append(write_home.post_check(settings, to))
    split = traffic_split.read(settings).weights
    checks.append(Check("traffic", "ok" if split == Split.all_to(to) else "FAIL", f"split {split} (primary/secondary)"))
    return checks


def _move_writes(settings: Settings, found: dict[Role, Cluster], global_id: str, to: Role, *, verb: str) -> bool:
    """Fence the write home, switch the database, open the write home in `to` (a re-run skips a done home)."""
    done = write_home.already(settings, to)
    if done is None and not report(write_home.fence(settings, to, unplanned=False)):
        console.say(f"{verb} stopped: the write home could not be fenced; nothing else was changed")
        return False
    switched = [switch_database(settings, found, global_id, to)]
    if settings.is_local:
        switched.append(local_database.switch(settings, to))
    if not report(switched):
        if done is None:
            report([write_home.unfence(settings, to)])
        console.say(f"{verb} stopped: the database did not switch; traffic is unchanged")
        return False
    if not report([done] if done is not None else write_home.open_home(settings, to, unplanned=False)):
        console.say(f"{verb} stopped: the write home did not open in {to}; run `make {verb}` again")
        return False
    return True


def run(settings: Settings, *, to: Role, unplanned: bool, max_lag_ms: int, bake_seconds: int) -> int:
    if unplanned:
        return region_loss.run(settings, to=to, bake_seconds=bake_seconds)
    verb = "failover" if to == "secondary" else "failback"
    with locks.traffic_locked(settings, f"{verb} to {to}"):
        found, global_id = clusters(settings)
        console.say(f"[1/4] pre-checks: {verb} to the {to} region ({settings.regions.of(to)})")
        if not report(pre_checks(settings, found, global_id, to, max_lag_ms)):
            console.say(f"refusing to start the {verb}: a pre-check failed (nothing was changed)")
            return 1
        console.say(f"[2/4] database: Aurora global planned switchover of {global_id} to {found[to].identifier}")
        if not _move_writes(settings, found, global_id, to, verb=verb):
            return 1
        console.say(f"[3/4] traffic: 100% to {to}")
        code = rollout.execute(settings, to=to, steps=[100], bake_seconds=bake_seconds, reason=verb, watch_roles=[to])
        if code != 0:
            console.say(
                f"{verb} stopped: traffic was not moved to {to} (see above) although the database writer may be "
                f"there now; fix the signal and run `make {verb}` again (it skips what is done)"
            )
            return code
        console.say("[4/4] post-checks")
        if not report(post_checks(settings, found, global_id, to)):
            return 1
    console.say(f"{verb} complete: the {to} region ({settings.regions.of(to)}) serves all traffic")
    return 0
