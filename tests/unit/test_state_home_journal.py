"""The state-serial journal (issue 16): an apply records the serial it left, a state copy behind it is refused
before anything is applied, a current copy is accepted; lock ids across homes; `state-status`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, ClassVar

import pytest

from config.settings import Settings
from harness.platform import free_port
from ops.core.console import Console
from ops.deploy import engine
from ops.state import admin, home, locks, serial_status, serials, store
from ops.terraform.runner import ChangeSummary
from shared.rollout_engine import traffic_lock_id
from tests.unit.private_emulator import private_emulator
from tests.unit.test_state_home import create_homes, primary_at

STACK = "network-primary"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Settings]:
    with private_emulator() as settings:
        create_homes(settings)
        yield settings


@pytest.fixture
def primary(emulator: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A fresh environment name per test: its own state keys and journal items."""
    monkeypatch.delenv("PAYMENTS_STATE_HOME", raising=False)
    monkeypatch.setenv("PAYMENTS_DOTENV", "none")
    return replace(emulator, environment=f"t{uuid.uuid4().hex[:8]}")


def put_state(settings: Settings, serial: int, lineage: str = "lineage-1") -> None:
    admin.write_state(settings, STACK, {"version": 4, "lineage": lineage, "serial": serial, "outputs": {}})


class FakeTerraform:
    """Stands in for `StackTerraform`: an apply writes the next serial to the copy in use, as Terraform would."""

    applied: ClassVar[list[str]] = []

    def __init__(self, stack: str, settings: Settings, _out: Console) -> None:
        self.stack, self.settings = stack, settings

    def apply(self, *, destroy: bool = False, on_event: Any = None) -> ChangeSummary:
        state = store.read_state(self.settings, self.stack) or {"lineage": "lineage-1", "serial": 0}
        put_state(self.settings, int(state["serial"]) + 1, state["lineage"])
        FakeTerraform.applied.append(self.settings.state.home)
        return ChangeSummary(change=1)


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    FakeTerraform.applied = []
    monkeypatch.setattr(engine, "StackTerraform", FakeTerraform)
    monkeypatch.setattr(engine.traffic_split, "write_stack_tfvars", lambda *_: None)
    monkeypatch.setattr(engine, "config_sha256", lambda _directory: "config")
    monkeypatch.setattr(engine, "_inputs_sha256", lambda *_: "inputs")
    monkeypatch.setattr(engine.releases, "record", lambda *_: None)
    monkeypatch.setattr(engine, "update_outputs", lambda *_: None)
    monkeypatch.setattr(engine, "_before_stack", [])
    return FakeTerraform.applied


def run(settings: Settings) -> tuple[engine.StackResult, list[str]]:
    out = Console.buffered()
    result = engine._run_one(settings, STACK, destroy=False, force=True, out=out)
    return result, out.lines()


def test_an_apply_journals_the_serial_it_left(primary: Settings, fake_engine: list[str]) -> None:
    """Terraform's S3 backend keeps the state's MD5 in the lock table under `<bucket>/<key>-md5` and refuses a state
    that does not match it (Terraform docs, S3 backend, DynamoDB table: "consistency checking"); S3 replication
    copies the object unchanged, so the other home gets the same digest."""
    replica = home.with_home(primary, "secondary")
    put_state(primary, 6)
    result, _ = run(primary)
    assert (result.result, fake_engine) == ("ok", ["primary"])
    assert serials.read(primary, STACK) == store.StateVersion("lineage-1", 7)
    item = locks.dynamodb(primary).get_item(
        TableName=primary.state.lock_table, Key={"LockID": {"S": f"{primary.environment}/state-serials/{STACK}"}}
    )["Item"]
    assert (item["Serial"], item["Lineage"], item["Bucket"]) == (
        {"N": "7"},
        {"S": "lineage-1"},
        {"S": primary.state.bucket},
    )
    digests = [
        locks.dynamodb(primary).get_item(
            TableName=primary.state.lock_table, Key={"LockID": {"S": f"{lock_id}-md5"}}, ConsistentRead=True
        )["Item"]["Digest"]
        for lock_id in (locks.state_lock_id(primary, STACK), locks.state_lock_id(replica, STACK))
    ]
    assert digests[0] == digests[1]  # the replica's copy, once replicated, is the same bytes


def test_a_replica_copy_behind_the_journal_is_refused_and_nothing_is_applied(
    primary: Settings, fake_engine: list[str]
) -> None:
    replica = home.with_home(primary, "secondary")
    put_state(primary, 6)
    run(primary)  # serial 7 applied through the primary; the journal says so
    put_state(replica, 5)  # the replica's copy has not caught up
    serials.write(replica, STACK, store.StateVersion("lineage-1", 7))  # the lock table's journal has (global table)
    result, lines = run(replica)
    assert (result.result, fake_engine) == ("FAILED", ["primary"])
    assert lines == [
        f"==> {STACK}: the state copy in eu-west-1 ({primary.state.bucket}-replica) is serial 5 but serial 7 was "
        "applied (journal): the copy is stale; wait for replication and run again (`make state-status` shows both "
        "copies)"
    ]
    assert store.state_version(store.read_state(replica, STACK)) == store.StateVersion("lineage-1", 5)


def test_a_replica_copy_that_caught_up_is_accepted(primary: Settings, fake_engine: list[str]) -> None:
    replica = home.with_home(primary, "secondary")
    put_state(replica, 7)
    serials.write(replica, STACK, store.StateVersion("lineage-1", 7))
    result, _ = run(replica)
    assert (result.result, fake_engine) == ("ok", ["secondary"])
    assert serials.read(replica, STACK) == store.StateVersion("lineage-1", 8)


def test_staleness_is_a_lower_serial_of_the_same_lineage_or_no_copy() -> None:
    journal = store.StateVersion("a", 7)
    assert serials.is_stale(store.StateVersion("a", 6), journal)
    assert serials.is_stale(None, journal)
    assert not serials.is_stale(store.StateVersion("a", 7), journal)
    assert not serials.is_stale(store.StateVersion("a", 9), journal)
    assert not serials.is_stale(store.StateVersion("b", 1), journal)  # a state made again from nothing
    assert not serials.is_stale(store.StateVersion("a", 1), None)  # nothing journaled yet


def test_the_traffic_lock_and_the_journal_are_the_same_item_from_either_home(primary: Settings) -> None:
    """Terraform's S3 backend derives its lock's LockID from the backend's bucket and key (Terraform docs, S3
    backend: "key names that include the values of the bucket and key"), so the state lock follows the copy in use;
    the traffic lock and the journal are ours, and must be one item whichever home a command chose."""
    replica = home.with_home(primary, "secondary")
    assert traffic_lock_id(replica) == traffic_lock_id(primary)
    assert traffic_lock_id(primary) == f"{primary.state.bucket}/{primary.environment}/traffic/lock"
    assert serials.journal_id(replica, STACK) == serials.journal_id(primary, STACK)
    assert locks.state_lock_id(primary, STACK) == f"{primary.state.bucket}/{primary.environment}/{STACK}.tfstate"
    assert (
        locks.state_lock_id(replica, STACK) == f"{primary.state.bucket}-replica/{primary.environment}/{STACK}.tfstate"
    )


def test_state_status_shows_both_copies_and_the_journal(primary: Settings) -> None:
    replica = home.with_home(primary, "secondary")
    put_state(primary, 7)
    put_state(replica, 5)
    serials.write(primary, STACK, store.StateVersion("lineage-1", 7))
    rows = serial_status.collect(primary, [STACK, "data-primary"])
    assert [(r.stack, r.copies, r.journal) for r in rows] == [
        (
            STACK,
            {"primary": store.StateVersion("lineage-1", 7), "secondary": store.StateVersion("lineage-1", 5)},
            store.StateVersion("lineage-1", 7),
        ),
        ("data-primary", {"primary": None, "secondary": None}, None),
    ]
    lines = serial_status.lines(primary, rows)
    assert [line.split() for line in lines[1:3]] == [[STACK, "7", "5", "(stale)", "7"], ["data-primary", "-", "-", "-"]]
    assert lines[-1] == (f"state home in use: primary ({primary.state.bucket} in us-east-1; chosen by the probe)")
    assert not serial_status.in_use_is_stale(primary, rows)
    assert serial_status.in_use_is_stale(replica, rows)
    assert serial_status.as_json(primary, rows)["stacks"][0] == {
        "stack": STACK,
        "primary": 7,
        "secondary": 5,
        "journal": 7,
    }


def test_state_status_reads_nothing_from_a_home_that_does_not_answer(
    primary: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    replica = home.with_home(primary, "secondary")
    put_state(replica, 3)
    primary_at(monkeypatch, free_port())
    rows = serial_status.collect(replica, [STACK])
    assert rows[0].copies == {"primary": serial_status.UNREACHABLE, "secondary": store.StateVersion("lineage-1", 3)}
    assert serial_status.lines(replica, rows)[1].split() == [STACK, "unreachable", "3", "-"]
