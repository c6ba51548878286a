"""Re-deploys skip a stack only when it is provably unchanged (drift: test_replan.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.platform import Platform
from ops.state import admin as state_admin
from ops.state import store as state_store

pytestmark = pytest.mark.phase("redeploy")


def deploy(platform: Platform, *args: str) -> list[dict[str, Any]]:
    """`deploy ... --json`: one row per stack (stack, result, added, changed, destroyed, seconds)."""
    rows: list[dict[str, Any]] = json.loads(platform.must("deploy", *args, "--json"))["stacks"]
    return rows


def results(rows: list[dict[str, Any]]) -> dict[str, str]:
    return {row["stack"]: row["result"] for row in rows}


def test_redeploy_without_changes_skips_every_stack(platform: Platform, deployed: dict[str, Any]) -> None:
    outcome = results(deploy(platform, "all"))
    assert set(outcome.values()) == {"unchanged"}
    assert len(outcome) == 8


def test_a_moved_state_serial_makes_that_stack_plan_again(platform: Platform, deployed: dict[str, Any]) -> None:
    """Someone else wrote network-primary's state (as Terraform does: object and lock-table digest)."""
    state = state_store.read_state(platform.settings, "network-primary")
    assert state is not None
    state["serial"] += 1
    state_admin.write_state(platform.settings, "network-primary", state)

    outcome = results(deploy(platform, "primary"))
    assert outcome["network-primary"] == "ok"
    assert {s: r for s, r in outcome.items() if s != "network-primary"} == {
        "data-primary": "unchanged",
        "compute-primary": "unchanged",
        "dns-primary": "unchanged",
    }
    assert set(results(deploy(platform, "primary")).values()) == {"unchanged"}


def test_force_applies_everything_and_changes_nothing(platform: Platform, deployed: dict[str, Any]) -> None:
    rows = deploy(platform, "secondary", "--force")
    assert [row["stack"] for row in rows] == [
        "network-secondary",
        "data-secondary",
        "compute-secondary",
        "dns-secondary",
    ]
    assert all((row["result"], row["added"], row["changed"], row["destroyed"]) == ("ok", 0, 0, 0) for row in rows), rows
