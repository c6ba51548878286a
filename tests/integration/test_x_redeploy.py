"""Re-deploys skip a stack only when it is provably unchanged; drift is reported when something changed outside."""

from __future__ import annotations

import re
from typing import Any

from ops.state import admin as state_admin
from ops.state import store as state_store
from tests.integration.platform import Platform


def results(log: str) -> dict[str, str]:
    rows = re.findall(r"^([a-z]+-(?:primary|secondary))\s+(ok|unchanged|FAILED|not run)\s", log, re.M)
    return dict(rows)


def test_redeploy_without_changes_skips_every_stack(platform: Platform, deployed: dict[str, Any]) -> None:
    log = platform.must("deploy", "all")
    assert set(results(log).values()) == {"unchanged"}
    assert len(results(log)) == 8


def test_a_moved_state_serial_makes_that_stack_plan_again(platform: Platform, deployed: dict[str, Any]) -> None:
    """Someone else wrote network-primary's state (as Terraform does: object and lock-table digest)."""
    state = state_store.read_state(platform.settings, "network-primary")
    assert state is not None
    state["serial"] += 1
    state_admin.write_state(platform.settings, "network-primary", state)

    outcome = results(platform.must("deploy", "primary"))
    assert outcome["network-primary"] == "ok"
    assert {s: r for s, r in outcome.items() if s != "network-primary"} == {
        "data-primary": "unchanged",
        "compute-primary": "unchanged",
        "dns-primary": "unchanged",
    }
    assert set(results(platform.must("deploy", "primary")).values()) == {"unchanged"}


def test_force_applies_everything_and_changes_nothing(platform: Platform, deployed: dict[str, Any]) -> None:
    log = platform.must("deploy", "secondary", "--force")
    rows = re.findall(r"^([a-z]+-secondary)\s+ok\s+(\d+)\s+(\d+)\s+(\d+)\s", log, re.M)
    assert [row[0] for row in rows] == ["network-secondary", "data-secondary", "compute-secondary", "dns-secondary"]
    assert all(row[1:] == ("0", "0", "0") for row in rows), rows


def test_drift_outside_terraform_is_reported(platform: Platform, deployed: dict[str, Any]) -> None:
    clean = platform.ops("drift")
    assert clean.returncode == 0, clean.stdout
    ec2 = platform.client("ec2", "primary")
    vpc_id = deployed["network-primary"]["vpc_id"]
    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Owner", "Value": "someone-in-the-console"}])
    try:
        drifted = platform.ops("drift")
        assert drifted.returncode == 2
        assert re.search(r"^network-primary\s+drifted\s", drifted.stdout, re.M)
        assert re.search(r"^network-secondary\s+clean\s", drifted.stdout, re.M)
    finally:
        ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Owner", "Value": platform.settings.tags["Owner"]}])
