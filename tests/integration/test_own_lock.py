"""Which state locks `ops` releases by itself: only one its own Terraform run took and lost track of."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from config import Settings, load_settings
from config.settings import LocalTarget
from harness.platform import free_port
from ops.core.aws_clients import client
from ops.core.tool_env import clean_environ
from ops.local import emulator
from ops.terraform import own_lock

STACK = "network-primary"


@pytest.fixture(scope="module")
def settings() -> Iterator[Settings]:
    port = free_port()
    emulator.up(LocalTarget(host="127.0.0.1", port=port))
    loaded = load_settings(environ=clean_environ(PAYMENTS_LOCAL_PORT=str(port), PAYMENTS_DOTENV="none"))
    client(loaded, "dynamodb", loaded.state_region).create_table(
        TableName=loaded.state.lock_table,
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield loaded
    emulator.down(loaded.local)


def place_lock(settings: Settings, *, who: str, operation: str, created: str) -> None:
    path = f"{settings.state.bucket}/{settings.environment}/{STACK}.tfstate"
    info = {"ID": "lock-1", "Operation": operation, "Who": who, "Created": created, "Path": path}
    client(settings, "dynamodb", settings.state_region).put_item(
        TableName=settings.state.lock_table, Item={"LockID": {"S": path}, "Info": {"S": json.dumps(info)}}
    )


def lock_present(settings: Settings) -> bool:
    path = f"{settings.state.bucket}/{settings.environment}/{STACK}.tfstate"
    table = client(settings, "dynamodb", settings.state_region)
    return "Item" in table.get_item(TableName=settings.state.lock_table, Key={"LockID": {"S": path}})


def go_time(run: own_lock.TerraformRun, seconds: float) -> str:
    """A time as Terraform writes it (nanoseconds, Z), `seconds` after the run started."""
    return (run.started + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def test_this_runs_own_lock_is_released(settings: Settings) -> None:
    with own_lock.terraform_run(settings, STACK) as run:
        place_lock(settings, who=own_lock.terraform_who(), operation="OperationTypePlan", created=go_time(run, 0.5))
        assert own_lock.release_if_orphaned(settings, run, "plan") == "lock-1"
    assert not lock_present(settings)


@pytest.mark.parametrize(
    ("who", "operation", "after_start", "command"),
    [
        ("ci@another-runner", "OperationTypePlan", 0.5, "plan"),  # someone else's
        (None, "OperationTypePlan", -0.5, "plan"),  # taken before this run started
        (None, "OperationTypeApply", 0.5, "plan"),  # an apply's, not this plan's
    ],
)
def test_any_other_lock_is_kept(
    settings: Settings, who: str | None, operation: str, after_start: float, command: str
) -> None:
    with own_lock.terraform_run(settings, STACK) as run:
        place_lock(
            settings, who=who or own_lock.terraform_who(), operation=operation, created=go_time(run, after_start)
        )
        assert own_lock.release_if_orphaned(settings, run, command) is None
    assert lock_present(settings)


def test_a_lock_is_kept_while_another_run_on_the_stack_is_live(settings: Settings) -> None:
    with own_lock.terraform_run(settings, STACK) as run, own_lock.terraform_run(settings, STACK):
        place_lock(settings, who=own_lock.terraform_who(), operation="OperationTypePlan", created=go_time(run, 0.5))
        assert not run.alone()
        assert own_lock.release_if_orphaned(settings, run, "plan") is None
    assert lock_present(settings)
