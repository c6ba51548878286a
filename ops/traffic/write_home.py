"""Move the write home (`docs/write-home.md`): the one region whose payment function accepts POST /payments.

Each region's SSM parameter `shared.write_home.parameter_name` holds that region's view: a role, or "fenced".
`switch` moves the home to `to` in five steps, each safe to repeat (a re-run finishes a stopped switch):

1. fence the old home (its parameter = fenced): from now on it answers 503 instead of taking writes;
2. wait out the functions' cache (CACHE_SECONDS) and the payment function's timeout: writes that started before
   the fence have finished;
3. wait until the old home's writes reached the new home: a sentinel item (`SENTINEL_ID`, fresh token) written in
   the old home's table must show in the new home's (consistent read), bounded by `replication_timeout`;
4. open the new home (its parameter = to);
5. point the old home at it (its parameter = to): it redirects (307) from now on.

Planned: a failure in 1-3 undoes the fence and stops (nothing moved). Unplanned (the old home's region is down):
what cannot reach the old region is noted and the switch goes on; writes it took and had not replicated are lost.
`fence` (1-3) and `open_home` (4-5) are separate so failover can move the database between them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from config.settings import ROLES, Role, Settings, other_role
from ops.core.aws_clients import client
from ops.core.aws_errors import AwsAccessError
from ops.deploy.outputs import layer_outputs
from ops.traffic.checks import Check
from shared import write_home
from shared.write_home import FENCED, SENTINEL_ID

DEFAULT_REPLICATION_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.2
UNREACHABLE = (ClientError, BotoCoreError, AwsAccessError)


@dataclass(frozen=True)
class Timing:
    """How long a switch waits: `drain_seconds` None = CACHE_SECONDS + the payment function's timeout."""

    drain_seconds: float | None = None
    replication_timeout: float = DEFAULT_REPLICATION_TIMEOUT_SECONDS
    sleep: Callable[[float], None] = time.sleep

    def drain(self, settings: Settings) -> float:
        if self.drain_seconds is not None:
            return self.drain_seconds
        return float(write_home.CACHE_SECONDS + settings.compute.lambda_timeout_seconds)


def view(settings: Settings, role: Role) -> str:
    """`role`'s region's parameter value (raises the client's error when unreachable)."""
    ssm = client(settings, "ssm", settings.regions.of(role))
    return str(ssm.get_parameter(Name=write_home.parameter_name(settings, role))["Parameter"]["Value"])


def read(settings: Settings) -> dict[Role, str]:
    return {role: view(settings, role) for role in ROLES}


def home(settings: Settings) -> Role | None:
    """The write home when both regions name the same role; None while fenced or when they disagree."""
    views = read(settings)
    homes = {write_home.parse(value) for value in views.values()}
    return homes.pop() if len(homes) == 1 else None


def _put(settings: Settings, role: Role, value: str) -> None:
    ssm = client(settings, "ssm", settings.regions.of(role))
    ssm.put_parameter(Name=write_home.parameter_name(settings, role), Value=value, Type="String", Overwrite=True)


def _set(settings: Settings, role: Role, value: str, name: str, *, unplanned: bool) -> Check:
    try:
        _put(settings, role, value)
    except UNREACHABLE as error:
        return Check(name, "note" if unplanned else "FAIL", f"{role} parameter not set to {value!r}: {error}")
    return Check(name, "ok", f"{role} region's write home = {value!r}")


def set_view(settings: Settings, role: Role, value: str, name: str) -> Check:
    """Set one region's view and nothing else (a lost region's failover touches only the survivor's)."""
    return _set(settings, role, value, name, unplanned=False)


def tables_of(settings: Settings) -> dict[Role, str]:
    return {role: data["table_name"] for role, data in layer_outputs(settings, "data", "the write home").items()}


def _write_sentinel(settings: Settings, role: Role, table: str) -> str:
    token = uuid.uuid4().hex
    client(settings, "dynamodb", settings.regions.of(role)).put_item(
        TableName=table,
        Item={
            "payment_id": {"S": SENTINEL_ID},
            "fence_token": {"S": token},
            "written_at": {"S": datetime.now(UTC).isoformat(timespec="milliseconds")},
        },
    )
    return token


def _sentinel_token(settings: Settings, role: Role, table: str) -> str | None:
    item = (
        client(settings, "dynamodb", settings.regions.of(role))
        .get_item(TableName=table, Key={"payment_id": {"S": SENTINEL_ID}}, ConsistentRead=True)
        .get("Item")
    )
    return item["fence_token"]["S"] if item and "fence_token" in item else None


def _replicated(settings: Settings, to: Role, tables: Mapping[Role, str], timing: Timing, *, unplanned: bool) -> Check:
    old = other_role(to)
    name = "write home replication"
    try:
        token = _write_sentinel(settings, old, tables[old])
    except UNREACHABLE as error:
        return Check(name, "note" if unplanned else "FAIL", f"no sentinel written in the {old} table: {error}")
    started = time.monotonic()
    while True:
        if _sentinel_token(settings, to, tables[to]) == token:
            took = time.monotonic() - started
            return Check(name, "ok", f"the {to} table has the {old} table's writes ({took:.1f}s to catch up)")
        if time.monotonic() - started >= timing.replication_timeout:
            what = f"the {to} table did not show the {old} sentinel within {timing.replication_timeout:.0f}s"
            if unplanned:
                return Check(name, "note", f"{what}; writes not replicated yet are lost")
            return Check(name, "FAIL", what)
        timing.sleep(POLL_SECONDS)


def fence(
    settings: Settings,
    to: Role,
    *,
    unplanned: bool,
    tables: Mapping[Role, str] | None = None,
    timing: Timing | None = None,
) -> list[Check]:
    """Steps 1-3: nobody takes writes and the new home holds everything the old one took. A planned switch that
    fails here is undone (the old home reopens)."""
    timing = timing or Timing()
    old = other_role(to)
    fenced = _set(settings, old, FENCED, "write home fence", unplanned=unplanned)
    if fenced.outcome == "FAIL":
        return [fenced]
    checks = [fenced]
    drain = timing.drain(settings)
    timing.sleep(drain)
    waited = f"waited {drain:.0f}s: cache and in-flight writes of the {old} region"
    checks.append(Check("write home drain", "ok", waited))
    caught_up = _replicated(settings, to, tables or tables_of(settings), timing, unplanned=unplanned)
    checks.append(caught_up)
    if caught_up.outcome == "FAIL":
        checks.append(unfence(settings, to))
    return checks


def unfence(settings: Settings, to: Role) -> Check:
    """Undo a fence: the old home takes writes again (a stopped planned switch)."""
    old = other_role(to)
    try:
        _put(settings, old, old)
    except UNREACHABLE as error:
        what = f"the {old} region is still fenced: {error}; `make write-home` shows each region's view"
        return Check("write home unfence", "FAIL", what)
    return Check("write home unfence", "ok", f"the {old} region takes writes again")


def open_home(settings: Settings, to: Role, *, unplanned: bool) -> list[Check]:
    """Steps 4-5: the new home takes writes, the old home redirects to it."""
    opened = _set(settings, to, to, "write home open", unplanned=False)
    if opened.outcome == "FAIL":
        return [opened]
    old = other_role(to)
    pointed = _set(settings, old, to, "write home redirect", unplanned=unplanned)
    if pointed.outcome == "note":
        pointed = Check(pointed.name, "note", f"{pointed.detail}; when the {old} region is back, run this switch again")
    return [opened, pointed]


def switch(
    settings: Settings,
    to: Role,
    *,
    unplanned: bool,
    tables: Mapping[Role, str] | None = None,
    timing: Timing | None = None,
) -> list[Check]:
    """All five steps; a switch to the home both regions already name changes nothing."""
    done = already(settings, to)
    if done is not None:
        return [done]
    checks = fence(settings, to, unplanned=unplanned, tables=tables, timing=timing)
    if any(check.outcome == "FAIL" for check in checks):
        return checks
    return checks + open_home(settings, to, unplanned=unplanned)


def already(settings: Settings, to: Role) -> Check | None:
    """An ok check when both regions already name `to` (a re-run must not fence the home it opened)."""
    try:
        if home(settings) == to:
            return Check("write home", "ok", f"both regions already name {to}: nothing to switch")
    except (*UNREACHABLE, ValueError):
        pass  # a region that cannot be read (or holds garbage) is what the steps repair or note
    return None


def post_check(settings: Settings, to: Role) -> Check:
    try:
        views = read(settings)
    except UNREACHABLE as error:
        return Check("write home", "FAIL", f"cannot read both regions' write home: {error}")
    ok = all(value == to for value in views.values())
    detail = ", ".join(f"{role}: {value}" for role, value in views.items())
    return Check("write home", "ok" if ok else "FAIL", detail)


def status_lines(settings: Settings) -> tuple[list[str], Role | None]:
    """One line per region (its view, or why it cannot be read), and the agreed home (None: fenced or split)."""
    lines, homes = [], set()
    for role in ROLES:
        try:
            value = view(settings, role)
            homes.add(write_home.parse(value))
        except (*UNREACHABLE, ValueError) as error:
            value, homes = f"unreadable ({error})", {*homes, None}
        lines.append(f"{role:<10} {settings.regions.of(role):<15} {value}")
    agreed = homes.pop() if len(homes) == 1 else None
    return lines, agreed
