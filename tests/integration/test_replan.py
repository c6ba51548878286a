"""Right after a deploy, a second plan of every stack shows no changes (runs after the layer checks), and a change
made outside Terraform is reported as drift.

`make diff` first answers from the deploy record, without Terraform; `--refresh` runs the real plan. `make drift`
runs that refreshing plan for every stack at once (concurrently), so one drift report is the refreshing second
plan of all eight stacks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.platform import Platform
from tests.support import STACKS

pytestmark = pytest.mark.phase("replan")


def drift(platform: Platform) -> tuple[int, dict[str, dict[str, Any]]]:
    """`drift --json`: the exit code and each stack's row (status, objects)."""
    result = platform.ops("drift", "--json")
    rows = {row["stack"]: row for row in json.loads(result.stdout)["stacks"]}
    return result.returncode, rows


@pytest.mark.parametrize("stack", STACKS)
def test_second_plan_is_clean_by_the_deploy_record(platform: Platform, deployed: dict[str, Any], stack: str) -> None:
    recorded = platform.ops("diff", stack, "--detailed-exitcode")
    assert recorded.returncode == 0, recorded.stdout
    assert f"{stack}: no changes. Its configuration, its state and the outputs it reads" in recorded.stdout
    assert "Refreshing state" not in recorded.stdout


def test_a_refreshing_second_plan_of_one_stack_is_clean(platform: Platform, deployed: dict[str, Any]) -> None:
    result = platform.ops("diff", "network-primary", "--detailed-exitcode", "--refresh")
    assert result.returncode == 0, f"network-primary plans changes right after deploy:\n{result.stdout[-4000:]}"
    assert "No changes." in result.stdout


def test_a_refreshing_second_plan_of_every_stack_is_clean(platform: Platform, deployed: dict[str, Any]) -> None:
    code, rows = drift(platform)
    assert sorted(rows) == sorted(STACKS)
    assert {stack: row["status"] for stack, row in rows.items()} == dict.fromkeys(STACKS, "clean"), rows
    assert code == 0


def test_drift_outside_terraform_is_reported(platform: Platform, deployed: dict[str, Any]) -> None:
    """The stacks are clean (the test above); a tag set in the console drifts exactly the VPC's stack."""
    ec2 = platform.client("ec2", "primary")
    vpc_id = deployed["network-primary"]["vpc_id"]
    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Owner", "Value": "someone-in-the-console"}])
    try:
        code, rows = drift(platform)
        assert code == 2
        assert {stack for stack, row in rows.items() if row["status"] != "clean"} == {"network-primary"}, rows
        objects = rows["network-primary"]["objects"]
        assert [name.split(".")[0] for name in objects] == ["aws_vpc"], objects
    finally:
        ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Owner", "Value": platform.settings.tags["Owner"]}])
