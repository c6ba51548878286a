"""`make state-status`: each stack's state serial in both homes beside the journal's, and the home in use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config.loader import STATE_HOME_SELECTOR, forced_state_home
from config.settings import ROLES, Role, Settings
from ops.core.console import columns
from ops.state import home, serials, store

UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class StackSerials:
    stack: str
    copies: dict[Role, store.StateVersion | str | None]  # a version, None (no state) or UNREACHABLE
    journal: store.StateVersion | None


def collect(settings: Settings, stacks: list[str]) -> list[StackSerials]:
    """Both copies of every stack's state (a home that does not answer the probe is not read at all) and the
    journal as the lock table in use holds it."""
    answering = {role: home.unreachable_error(settings, role) is None for role in ROLES}
    rows = []
    for stack in stacks:
        copies: dict[Role, store.StateVersion | str | None] = {
            role: store.state_version(store.read_state(home.with_home(settings, role), stack))
            if answering[role]
            else UNREACHABLE
            for role in ROLES
        }
        rows.append(StackSerials(stack, copies, serials.read(settings, stack)))
    return rows


def _stale(copy: store.StateVersion | str | None, journal: store.StateVersion | None) -> bool:
    return not isinstance(copy, str) and serials.is_stale(copy, journal)


def _cell(copy: store.StateVersion | str | None, journal: store.StateVersion | None) -> str:
    return f"{_serial(copy)} (stale)" if _stale(copy, journal) else _serial(copy)


def _serial(version: store.StateVersion | str | None) -> str:
    return version if isinstance(version, str) else "-" if version is None else str(version.serial)


def in_use_is_stale(settings: Settings, rows: list[StackSerials]) -> bool:
    """Some stack's copy in use is behind the journal: an apply of it would be refused."""
    return any(_stale(row.copies[settings.state.home], row.journal) for row in rows)


def lines(settings: Settings, rows: list[StackSerials]) -> list[str]:
    header = ["stack", *(f"{role} ({settings.regions.of(role)})" for role in ROLES), "journal"]
    table = [
        [row.stack, *(_cell(row.copies[role], row.journal) for role in ROLES), _serial(row.journal)] for row in rows
    ]
    how = f"forced by {STATE_HOME_SELECTOR}" if forced_state_home() is not None else "chosen by the probe"
    return [
        *columns(header, table),
        f"state home in use: {settings.state.home} ({settings.state_bucket} in {settings.state_region}; {how})",
    ]


def as_json(settings: Settings, rows: list[StackSerials]) -> dict[str, Any]:
    """`--json`: per stack each home's serial (null: no state; "unreachable") and the journal's."""

    def serial(version: store.StateVersion | str | None) -> int | str | None:
        return version if isinstance(version, str) or version is None else version.serial

    stacks = [
        {"stack": row.stack, **{r: serial(row.copies[r]) for r in ROLES}, "journal": serial(row.journal)}
        for row in rows
    ]
    return {
        "home": settings.state.home,
        "bucket": settings.state_bucket,
        "region": settings.state_region,
        "stacks": stacks,
    }
