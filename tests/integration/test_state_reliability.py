"""Remote state under stress: concurrent applies, a stale lock, an interrupted apply, an earlier version restored.

All on `network-primary` of the session's platform; each test leaves the stack as it found it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from harness.platform import Platform
from ops.state import locks
from ops.terraform import own_lock
from tests.support import ROOT

pytestmark = pytest.mark.phase("state")

STACK = "network-primary"
RETENTION = "PAYMENTS_NETWORK_FLOW_LOG_RETENTION_DAYS"  # a change of it is one in-place update of the flow log group
CHANGED = {RETENTION: "60"}


def state(platform: Platform) -> dict[str, Any]:
    settings = platform.settings
    body = platform.client("s3", "primary").get_object(
        Bucket=settings.state.bucket, Key=f"{settings.environment}/{STACK}.tfstate"
    )["Body"]
    return json.loads(body.read())


def start_ops(platform: Platform, *args: str, **env: str) -> subprocess.Popen[str]:
    """`python -m ops ...` in the background; with `--json` stderr (the progress) is kept apart from the JSON."""
    return subprocess.Popen(
        [sys.executable, "-m", "ops", *args],
        cwd=ROOT,
        env={**platform.env, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if "--json" in args else subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def prepare_change(platform: Platform, **env: str) -> None:
    """Synthesize and initialize once, so the concurrent runs below race only for the state lock."""
    result = subprocess.run(
        [sys.executable, "-m", "ops", "diff", STACK],
        cwd=ROOT,
        env={**platform.env, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def resource_addresses(document: dict[str, Any]) -> list[str]:
    return sorted(
        f"{r['type']}.{r['name']}[{i}]"
        for r in document["resources"]
        if r["mode"] == "managed"
        for i, _ in enumerate(r["instances"])
    )


def test_concurrent_applies_are_serialized_by_the_lock(platform: Platform, deployed: dict[str, Any]) -> None:
    """Two, then four writers race for the same change; one apply at the end puts the configured retention back."""
    for writers, days in ((2, "60"), (4, "90")):
        before = state(platform)
        env = {RETENTION: days, "PAYMENTS_STATE_LOCK_TIMEOUT_SECONDS": "900"}
        prepare_change(platform, **env)
        runs = [start_ops(platform, "apply", STACK, "--force", "--json", **env) for _ in range(writers)]
        logs = [run.communicate(timeout=1800) for run in runs]
        assert [run.returncode for run in runs] == [0] * writers, logs
        changed = [row["changed"] for summary, _ in logs for row in json.loads(summary)["stacks"]]
        assert sorted(changed) == [0] * (writers - 1) + [1], logs  # exactly one run changed the log group
        after = state(platform)
        assert after["lineage"] == before["lineage"]
        assert after["serial"] == before["serial"] + 1, writers
        assert resource_addresses(after) == resource_addresses(before)
        group = platform.client("logs", "primary").describe_log_groups(
            logGroupNamePrefix=deployed[STACK]["flow_log_group_name"]
        )["logGroups"][0]
        assert group["retentionInDays"] == int(days), writers
    platform.must("apply", STACK)  # back to the configured retention


def test_a_stale_lock_is_reported_with_its_holder_and_released_on_request(
    platform: Platform, deployed: dict[str, Any]
) -> None:
    settings = platform.settings
    lock_id = "3f1c2a7e-0000-4000-8000-00000000dead"
    info = {
        "ID": lock_id,
        "Operation": "OperationTypeApply",
        "Who": "ci@crashed-runner",
        "Version": "1.11.4",
        "Created": "2026-01-01T00:00:00Z",
        "Path": f"{settings.state.bucket}/dev/{STACK}.tfstate",
        "Info": "",
    }
    platform.client("dynamodb", "primary").put_item(
        TableName=settings.state.lock_table,
        Item={"LockID": {"S": f"{settings.state.bucket}/dev/{STACK}.tfstate"}, "Info": {"S": json.dumps(info)}},
    )
    blocked = start_ops(platform, "apply", STACK, "--force", PAYMENTS_STATE_LOCK_TIMEOUT_SECONDS="5")  # not 2 min
    log = blocked.communicate(timeout=600)[0]
    assert blocked.returncode == 1, log
    assert f"make unlock STACK={STACK} LOCK_ID={lock_id}" in log
    assert "state is locked by ci@crashed-runner" in log

    refused = platform.ops("unlock", STACK, lock_id)  # no terminal, no CONFIRM=yes
    assert refused.returncode == 1
    assert "refusing without a terminal; re-run with CONFIRM=yes" in refused.stderr
    wrong = platform.ops("unlock", STACK, "not-the-lock", "--confirm", "yes")
    assert wrong.returncode == 1
    assert f"the lock is {lock_id}" in wrong.stderr

    platform.must("unlock", STACK, lock_id, "--confirm", "yes")
    assert "ok" in platform.must("apply", STACK, "--force")


def test_a_lock_the_run_took_itself_and_lost_is_released_and_the_run_repeated(
    platform: Platform, deployed: dict[str, Any]
) -> None:
    """What a lost answer to Terraform's lock PutItem leaves: a lock by this user and host, taken after the run began.

    The lock is placed a minute ahead, so it reads as taken during the run, which then waits out its lock timeout
    on it exactly as Terraform waits on its own lock.
    """
    settings = platform.settings
    path = f"{settings.state.bucket}/{settings.environment}/{STACK}.tfstate"
    ahead = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
    info = {"ID": "lost-answer", "Operation": "OperationTypePlan", "Who": own_lock.terraform_who(), "Created": ahead}
    platform.client("dynamodb", "primary").put_item(
        TableName=settings.state.lock_table,
        Item={"LockID": {"S": path}, "Info": {"S": json.dumps({**info, "Path": path})}},
    )
    run = start_ops(
        platform, "diff", STACK, "--refresh", "--detailed-exitcode", PAYMENTS_STATE_LOCK_TIMEOUT_SECONDS="2"
    )
    log = run.communicate(timeout=600)[0]
    assert run.returncode == 0, log
    assert f"{STACK}: released state lock lost-answer, which this plan took itself" in log
    assert "No changes." in log
    assert (
        platform.client("dynamodb", "primary")
        .get_item(TableName=settings.state.lock_table, Key={"LockID": {"S": path}})
        .get("Item")
        is None
    )


def test_an_interrupted_apply_converges_on_rerun(platform: Platform, deployed: dict[str, Any]) -> None:
    before = resource_addresses(state(platform))
    prepare_change(platform, **CHANGED)
    run = start_ops(platform, "apply", STACK, "--force", **CHANGED)
    assert run.stdout is not None
    seen = ""
    deadline = time.monotonic() + 600
    while "applying" not in seen and time.monotonic() < deadline:
        seen += run.stdout.readline()
    time.sleep(3)  # let Terraform get into the apply
    os.killpg(run.pid, signal.SIGTERM)  # what CI cancelling a job or Ctrl-C does to the whole group
    log = run.communicate(timeout=600)[0]
    assert run.returncode == 128 + signal.SIGTERM, log
    assert "letting Terraform stop at a safe point and release the state lock" in log
    assert locks.state_lock(platform.settings, STACK) is None, log  # Terraform released it before exiting

    rerun = subprocess.run(
        [sys.executable, "-m", "ops", "apply", STACK, "--force"],
        cwd=ROOT,
        env={**platform.env, **CHANGED},
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert resource_addresses(state(platform)) == before  # nothing duplicated, nothing lost
    vpcs = platform.client("ec2", "primary").describe_vpcs(
        Filters=[{"Name": "cidr", "Values": [platform.settings.network.primary_cidr]}]
    )["Vpcs"]
    assert len(vpcs) == 1
    platform.must("apply", STACK)  # back to the configured retention


def test_an_earlier_state_version_can_be_restored(platform: Platform, deployed: dict[str, Any]) -> None:
    versions = json.loads(platform.must("state-versions", STACK, "--json"))["versions"]
    assert len(versions) >= 2
    assert versions[0]["latest"] is True
    current_serial = versions[0]["serial"]
    previous_id = versions[1]["version_id"]

    refused = platform.ops("state-restore", STACK, previous_id)
    assert refused.returncode == 1
    platform.must("state-restore", STACK, previous_id, "--confirm", "yes")
    restored = state(platform)
    assert restored["serial"] == current_serial + 1
    plan = platform.ops("diff", STACK)
    assert plan.returncode == 0, plan.stdout  # the lock table's digest matches the restored state
    platform.must("apply", STACK, "--force")
