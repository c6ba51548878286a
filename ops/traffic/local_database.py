"""The database step of a failover on the local target: move the writer between the two local PostgreSQL instances.

Aurora's global switchover cannot run on the emulator (gap `rds-engine`), so locally the same step acts on the
instances that stand in for the clusters: the pre-check reads the standby's replication lag from
`pg_stat_replication`, the switch promotes the target region's standby and rewinds the old writer into its
standby (`ops.local.postgres`), and the post-check asks `pg_is_in_recovery()` on each side.
"""

from __future__ import annotations

import time

from config.settings import Role, Settings, other_role
from ops.local import postgres
from ops.traffic.checks import Check


def lag_check(settings: Settings, to: Role, max_lag_ms: int) -> Check:
    found = postgres.instances(settings.local)
    writer = postgres.writer(settings.local)
    name = "local replication"
    if writer is None:
        return Check(name, "FAIL", "no local PostgreSQL instance is the writer (see `make db-status`)")
    if writer == to:
        return Check(name, "ok", f"the {to} region's instance is already the writer")
    replication = postgres.replication(found[writer], found[to])
    if replication.state != "streaming":
        return Check(name, "FAIL", f"the {to} region's instance is not streaming from the writer ({replication.state})")
    lag_ms = replication.replay_lag_ms or 0.0
    return Check(
        name,
        "ok" if lag_ms < max_lag_ms else "FAIL",
        f"{to} standby {replication.lag_bytes} bytes and {lag_ms:.1f} ms behind (threshold {max_lag_ms} ms)",
    )


def switch(settings: Settings, to: Role) -> Check:
    """Promote `to`'s instance; rewind the former writer into its standby. Timed: the database step's figure."""
    found = postgres.instances(settings.local)
    writer = postgres.writer(settings.local)
    if writer == to:
        return Check("local database", "ok", f"the {to} region's instance is already the writer: nothing to switch")
    began = time.monotonic()
    postgres.promote(found[to])
    promoted = time.monotonic() - began
    source = other_role(to)
    if postgres.in_recovery(found[source]) is None:
        return Check(
            "local database",
            "ok",
            f"{to} region's instance promoted in {promoted:.2f}s; the {source} region's does not answer and stays "
            "out until `make local-down && make local-up`",
        )
    how = postgres.rejoin_as_standby(found[source], found[to])
    return Check(
        "local database",
        "ok",
        f"{to} region's instance promoted in {promoted:.2f}s; the {source} region's rejoined as its standby through "
        f"{how} ({time.monotonic() - began:.2f}s in all)",
    )


def post_checks(settings: Settings, to: Role) -> list[Check]:
    found = postgres.instances(settings.local)
    expected = {to: False, other_role(to): True}
    checks = []
    for role, recovery in expected.items():
        actual = postgres.in_recovery(found[role])
        what = {None: "does not answer", True: "is a standby", False: "is the writer"}[actual]
        checks.append(Check(f"{role} instance", "ok" if actual is recovery else "FAIL", f"pg_is_in_recovery(): {what}"))
    return checks
