"""`make rejoin`: a region lost in an unplanned failover is back; bring it in step before anything moves back to it.

The unplanned failover (`ops.traffic.region_loss`) never called the lost region, so when it answers again it still
holds its old view of the world. In order:

1. it answers (its write-home parameter can be read);
2. the two copies of the control plane are in step: replication carried what the failover wrote to the replica
   home (the split, the traffic lock, the deploy records) back to the primary's, so no command reads a stale split;
3. its write home redirects to the surviving home (it named itself, and would have taken writes);
4. its database becomes a replica of the survivor's (Aurora re-adds the old primary to the global cluster as a
   secondary after a failover with data loss, and this waits for that; locally the old writer, restarted on its own
   timeline, is rewound into a standby with `pg_rewind`, or rebuilt from a base backup);
5. both DNS stacks are applied with the persisted split: Terraform's state catches up with the weights the
   failover set straight through Route 53.

Traffic and writes stay in the surviving region; the planned `make failback` (or `make failover`) moves them back.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from config.settings import ROLES, Role, Settings, other_role
from ops.core.aws_clients import client
from ops.core.console import console
from ops.core.errors import RefusedError
from ops.ledger.aurora import clusters, writer_role
from ops.local import postgres
from ops.state import bucket, locks, store, traffic_split
from ops.state.home import with_home
from ops.state.traffic_split import Split
from ops.traffic import rollout, write_home
from ops.traffic.checks import Check, report
from shared.rollout_engine import split_key
from shared.stack_id import all_stacks

IN_STEP_TIMEOUT_SECONDS = 120.0
REJOIN_TIMEOUT_SECONDS = 1800.0
POLL_SECONDS = 1.0


def returning_role(split: Split) -> Role:
    """The region to bring back: the one the persisted split gives no traffic (an unplanned failover moved it all)."""
    for role in ROLES:
        if split == Split.all_to(other_role(role)):
            return role
    raise RefusedError(
        f"rejoin: the split is {split} (primary/secondary), not all on one region; rejoin follows an unplanned "
        "failover, which moves all traffic to the survivor"
    )


def _control_plane_view(settings: Settings) -> tuple[object, ...]:
    """What must agree between the two copies: the split, and each stack's state version."""
    split = bucket.get_json(settings, split_key(settings))
    versions = tuple(store.state_version(store.read_state(settings, s.name)) for s in all_stacks())
    return split, versions


def control_plane_in_step(settings: Settings) -> Check:
    began = time.monotonic()
    while True:
        views = {role: _control_plane_view(with_home(settings, role)) for role in ROLES}
        if views["primary"] == views["secondary"]:
            took = time.monotonic() - began
            return Check("control plane", "ok", f"both homes agree on the split and every state ({took:.1f}s)")
        if time.monotonic() - began > IN_STEP_TIMEOUT_SECONDS:
            return Check(
                "control plane",
                "FAIL",
                f"the state homes still differ after {IN_STEP_TIMEOUT_SECONDS:.0f}s: replication has not caught up "
                "(`make state-status`)",
            )
        time.sleep(POLL_SECONDS)


def _local_database(settings: Settings, role: Role, home: Role) -> Check:
    found = postgres.instances(settings.local)
    returning, survivor = found[role], found[home]
    if postgres.in_recovery(returning) is None:
        return Check("database", "FAIL", f"the {role} region's PostgreSQL instance does not answer")
    if postgres.in_recovery(returning):
        how = "already a standby"
    else:
        through = postgres.rejoin_as_standby(returning, survivor)
        how = f"rewound into a standby of the {home} region's writer through {through}"
    caught_up = postgres.wait_for_replay(returning, survivor, timeout=60.0)
    return Check("database", "ok", f"the {role} region's instance is {how}; caught up in {caught_up:.2f}s")


def _aurora(settings: Settings, role: Role, home: Role) -> Check:
    found, global_id = clusters(settings)
    rds = client(settings, "rds", settings.regions.of(home))
    deadline = time.monotonic() + REJOIN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        described = rds.describe_global_clusters(GlobalClusterIdentifier=global_id)["GlobalClusters"][0]
        members = described.get("GlobalClusterMembers", [])
        member = any(m["DBClusterArn"] == found[role].arn for m in members)
        if member and writer_role(members, found) == home and described.get("Status") == "available":
            return Check("database", "ok", f"{found[role].identifier} is a secondary of {global_id} again")
        console.say(f"    waiting for Aurora to re-add {found[role].identifier} to {global_id} as a secondary")
        time.sleep(15)
    return Check(
        "database",
        "FAIL",
        f"{found[role].identifier} is not a secondary of {global_id} after {REJOIN_TIMEOUT_SECONDS:.0f}s: see the "
        "Aurora console's global database events; re-add it as a secondary cluster, then run `make rejoin` again",
    )


def _dns(settings: Settings) -> Check:
    split = traffic_split.read(settings)
    if not rollout.apply_split(settings, split):
        return Check("dns", "FAIL", "a DNS stack did not apply (see above)")
    return Check("dns", "ok", f"both DNS stacks applied with the split {split.weights} (primary/secondary)")


def run(settings: Settings) -> int:
    console.say("rejoin: waiting for the two copies of the control plane to agree (replication after the outage)")
    if not report([control_plane_in_step(settings)]):
        return 1
    role = returning_role(traffic_split.read(settings).weights)
    home = other_role(role)
    console.say(f"rejoin: the {role} region ({settings.regions.of(role)}) comes back as a replica of {home}")
    with locks.traffic_locked(settings, f"rejoin of {role}"):
        try:
            write_home.view(settings, role)
        except write_home.UNREACHABLE as error:
            console.say(f"refusing to rejoin: the {role} region does not answer yet ({type(error).__name__})")
            return 1
        database = _local_database if settings.is_local else _aurora
        steps: list[tuple[str, Callable[[], Check]]] = [
            (
                f"write home: the {role} region redirects to {home}",
                lambda: write_home.set_view(settings, role, home, "write home redirect"),
            ),
            (f"database: the {role} region's follows {home}'s", lambda: database(settings, role, home)),
            ("DNS: Terraform catches up with the weights", lambda: _dns(settings)),
            ("write home in both regions", lambda: write_home.post_check(settings, home)),
        ]
        for number, (what, step) in enumerate(steps, 1):
            console.say(f"[{number}/{len(steps)}] {what}")
            if not report([step()]):
                console.say(f"rejoin stopped at step {number}; fix what it says and run `make rejoin` again")
                return 1
    console.say(
        f"rejoin complete: the {role} region follows {home}; `make {'failback' if role == 'primary' else 'failover'}` "
        "moves writes and traffic back when you are ready"
    )
    return 0
