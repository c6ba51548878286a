"""The server-side rollout (Step Functions, dns-primary) on the emulator: steps, revert on an alarm, abort, status,
Terraform agreeing afterwards, and the migration runbook rendered from what is deployed.

Runs in the traffic phase on the shared platform; every test leaves the split 100/0 and stable, alarms OK.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from harness.platform import Platform
from shared import rollout_engine as contract
from tests.integration.traffic_support import Weights, back_to_primary, persisted, set_alarm

pytestmark = pytest.mark.phase("traffic")


def sfn_rollout(platform: Platform, to: str, steps: str, bake: int) -> Any:
    return platform.ops("rollout", "--engine", "stepfunctions", "--to", to, "--steps", steps, "--bake", str(bake))


def assert_clean_refreshing_plans(platform: Platform) -> None:
    """What the state machine changed is what Terraform would set: a refreshing plan of each DNS stack is empty."""
    for stack in ("dns-primary", "dns-secondary"):
        result = platform.ops("diff", stack, "--refresh", "--detailed-exitcode")
        assert result.returncode == 0, f"{stack} drifted after the state machine's rollout:\n{result.stdout}"


def lock_item(platform: Platform) -> dict[str, Any] | None:
    settings = platform.settings
    found = platform.client("dynamodb", "primary").get_item(
        TableName=settings.state.lock_table, Key={"LockID": {"S": contract.traffic_lock_id(settings)}}
    )
    return found.get("Item")


def wait_for(condition: Callable[[], bool], timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def test_a_rollout_through_the_state_machine_and_back(platform: Platform, dns: Callable[[], Weights]) -> None:
    there = sfn_rollout(platform, "secondary", "50,100", 5)
    said = there.stdout + there.stderr
    assert there.returncode == 0, said
    assert "[step 1] 100/0 -> 50/50 (primary/secondary)" in said
    assert "[step 2] 50/50 -> 0/100 (primary/secondary)" in said
    assert "rollout complete" in said
    assert dns() == (0, 100)
    state = persisted(platform)
    assert state["weights"] == {"primary": 0, "secondary": 100}
    assert state["status"] == "stable"
    assert [h["engine"] for h in state["history"][-1:]] == ["stepfunctions"], "the follower folded the run in"
    assert lock_item(platform) is None
    assert_clean_refreshing_plans(platform)

    back = sfn_rollout(platform, "primary", "100", 0)
    assert back.returncode == 0, back.stdout + back.stderr
    assert dns() == (100, 0)
    assert persisted(platform)["weights"] == {"primary": 100, "secondary": 0}
    assert_clean_refreshing_plans(platform)
    status = platform.ops("rollout-status")
    assert status.returncode == 0
    assert "no execution running; the last one: rollout-to-primary-" in status.stdout + status.stderr


def test_an_alarm_during_a_bake_reverts_and_the_execution_fails_naming_it(
    platform: Platform, dns: Callable[[], Weights]
) -> None:
    fired: list[str] = []

    def fire_when_half_shifted() -> None:
        if wait_for(lambda: dns() == (50, 50) and persisted(platform)["status"] == "in_progress", timeout=300):
            fired.append(set_alarm(platform, "secondary", "ALARM"))

    injector = threading.Thread(target=fire_when_half_shifted, daemon=True)
    injector.start()
    try:
        result = sfn_rollout(platform, "secondary", "50,100", 30)
        injector.join(timeout=30)
        assert fired, "the alarm was never set: the first step did not start"
        assert result.returncode == 1
        said = result.stdout + result.stderr
        assert f"{contract.ALARM_FIRED}: alarm {fired[0]} ({platform.region('secondary')}) in ALARM" in said
        assert dns() == (100, 0)
        state = persisted(platform)
        assert state["status"] == "reverted"
        assert state["weights"] == {"primary": 100, "secondary": 0}
        assert lock_item(platform) is None
        assert_clean_refreshing_plans(platform)
    finally:
        injector.join(timeout=1)
        set_alarm(platform, "secondary", "OK")
    back_to_primary(platform)


def test_abort_stops_the_execution_and_reverts_to_the_last_good_split(
    platform: Platform, dns: Callable[[], Weights]
) -> None:
    outputs = platform.outputs()["dns-primary"]
    sfn = platform.client("stepfunctions", "primary")
    execution = sfn.start_execution(
        stateMachineArn=outputs["state_machine_arn"],
        name=contract.execution_name("secondary", time.strftime("%Y%m%dT%H%M%S")),
        input=json.dumps({"to": "secondary", "steps": [50, 100], "bake_seconds": 300, "reason": "rollout"}),
    )["executionArn"]
    try:
        assert wait_for(lambda: persisted(platform)["status"] == "in_progress" and dns() == (50, 50))
        held = lock_item(platform)
        assert held is not None
        assert json.loads(held["Info"]["S"])["execution"] == execution
        blocked = platform.ops("rollout", "--engine", "local", "--to", "secondary", "--steps", "100", "--bake", "0")
        assert blocked.returncode != 0
        assert "another traffic change holds the lock" in blocked.stderr + blocked.stdout

        aborted = platform.ops("rollout-abort", "--confirm", "yes")
        assert aborted.returncode == 0, aborted.stdout + aborted.stderr
        assert "aborted: traffic is at 100/0" in aborted.stdout + aborted.stderr
    finally:
        if sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
            sfn.stop_execution(executionArn=execution)
    assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"
    assert dns() == (100, 0)
    state = persisted(platform)
    assert state["status"] == "reverted"
    assert state["weights"] == {"primary": 100, "secondary": 0}
    assert lock_item(platform) is None
    back_to_primary(platform)
    assert persisted(platform)["status"] == "stable"
