"""ops.traffic.write_home against a private emulator: SSM parameters and payments tables in both regions, and a
fake replicator that copies the old home's sentinel to the new home's table after a delay (docs/write-home.md)."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from config.settings import ROLES, Role, Settings
from ops.core.aws_clients import client
from ops.core.tool_env import clean_environ
from ops.ledger import reconcile
from ops.traffic import failover, write_home
from ops.traffic.checks import Check
from shared.write_home import CACHE_SECONDS, FENCED, INITIAL, SENTINEL_ID, parameter_name
from tests.support import ROOT
from tests.unit.private_emulator import private_emulator

TABLE = "payments-write-home-test"
REPLICATION_DELAY = 0.5
FAST = write_home.Timing(drain_seconds=0, replication_timeout=5)
TABLES: dict[Role, str] = dict.fromkeys(ROLES, TABLE)


@pytest.fixture(scope="module")
def emulated() -> Iterator[Settings]:
    with private_emulator() as settings:
        yield settings


def dynamodb(settings: Settings, role: Role) -> Any:
    return client(settings, "dynamodb", settings.regions.of(role))


@pytest.fixture
def platform(emulated: Settings) -> Iterator[Settings]:
    """Both regions as compute-R and data-R leave them: each parameter = INITIAL, an empty table each."""
    for role in ROLES:
        client(emulated, "ssm", emulated.regions.of(role)).put_parameter(
            Name=parameter_name(emulated, role), Value=INITIAL, Type="String", Overwrite=True
        )
        dynamodb(emulated, role).create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "payment_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "payment_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    yield emulated
    for role in ROLES:
        dynamodb(emulated, role).delete_table(TableName=TABLE)


@contextmanager
def replicator(settings: Settings, source: Role, target: Role) -> Iterator[list[float]]:
    """Copies the sentinel from `source`'s table to `target`'s REPLICATION_DELAY after it first sees it (a global
    table's lag); yields the times it copied."""
    copied: list[float] = []
    stop = threading.Event()

    def run() -> None:
        seen: dict[str, float] = {}
        while not stop.is_set():
            item = (
                dynamodb(settings, source)
                .get_item(TableName=TABLE, Key={"payment_id": {"S": SENTINEL_ID}}, ConsistentRead=True)
                .get("Item")
            )
            if item is not None:
                token = item["fence_token"]["S"]
                seen.setdefault(token, time.monotonic())
                if time.monotonic() - seen[token] >= REPLICATION_DELAY:
                    dynamodb(settings, target).put_item(TableName=TABLE, Item=item)
                    copied.append(time.monotonic())
            stop.wait(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield copied
    finally:
        stop.set()
        thread.join(timeout=5)


def outcomes(checks: list[Check]) -> dict[str, str]:
    return {check.name: check.outcome for check in checks}


def test_the_deployed_platform_has_its_write_home_in_the_primary(platform: Settings) -> None:
    assert write_home.read(platform) == {"primary": "primary", "secondary": "primary"}
    assert write_home.home(platform) == "primary"
    lines, home = write_home.status_lines(platform)
    assert home == "primary"
    assert [line.split() for line in lines] == [
        ["primary", platform.regions.of("primary"), "primary"],
        ["secondary", platform.regions.of("secondary"), "primary"],
    ]


def test_a_planned_switch_waits_for_replication_then_opens_the_new_home(platform: Settings) -> None:
    with replicator(platform, "primary", "secondary") as copied:
        started = time.monotonic()
        checks = write_home.switch(platform, "secondary", unplanned=False, tables=TABLES, timing=FAST)
        took = time.monotonic() - started
    assert outcomes(checks) == {
        "write home fence": "ok",
        "write home drain": "ok",
        "write home replication": "ok",
        "write home open": "ok",
        "write home redirect": "ok",
    }
    assert copied, "the replicator copied the sentinel"
    assert took >= REPLICATION_DELAY, "the switch waited for the sentinel"
    assert write_home.read(platform) == {"primary": "secondary", "secondary": "secondary"}
    assert write_home.home(platform) == "secondary"
    assert write_home.post_check(platform, "secondary").outcome == "ok"
    # A re-run changes nothing (it must not fence the home it opened).
    assert outcomes(write_home.switch(platform, "secondary", unplanned=False, tables=TABLES, timing=FAST)) == {
        "write home": "ok"
    }
    assert write_home.home(platform) == "secondary"


def test_the_old_home_is_fenced_while_the_switch_waits(platform: Settings) -> None:
    seen: list[dict[Role, str]] = []

    def watching_sleep(seconds: float) -> None:
        seen.append(write_home.read(platform))
        time.sleep(min(seconds, 0.05))

    timing = write_home.Timing(drain_seconds=None, replication_timeout=5, sleep=watching_sleep)
    with replicator(platform, "primary", "secondary"):
        checks = write_home.fence(platform, "secondary", unplanned=False, tables=TABLES, timing=timing)
    assert all(check.outcome == "ok" for check in checks), checks
    assert seen
    assert all(view == {"primary": FENCED, "secondary": "primary"} for view in seen)
    # The drain covers a function's cache and its longest invocation (config).
    assert f"waited {CACHE_SECONDS + platform.compute.lambda_timeout_seconds}s" in checks[1].detail
    # Nobody takes writes now: the primary is fenced and the secondary still points at the primary... until open.
    assert write_home.home(platform) is None
    assert [c.outcome for c in write_home.open_home(platform, "secondary", unplanned=False)] == ["ok", "ok"]
    assert write_home.home(platform) == "secondary"


def test_a_planned_switch_that_cannot_see_replication_undoes_the_fence(platform: Settings) -> None:
    timing = write_home.Timing(drain_seconds=0, replication_timeout=1)
    checks = write_home.switch(platform, "secondary", unplanned=False, tables=TABLES, timing=timing)
    assert outcomes(checks) == {
        "write home fence": "ok",
        "write home drain": "ok",
        "write home replication": "FAIL",
        "write home unfence": "ok",
    }
    assert "did not show the primary sentinel within 1s" in checks[2].detail
    assert write_home.read(platform) == {"primary": "primary", "secondary": "primary"}


def test_an_unplanned_switch_notes_what_it_cannot_reach_and_opens_the_new_home(platform: Settings) -> None:
    dynamodb(platform, "primary").delete_table(TableName=TABLE)  # the old home's region is gone
    try:
        checks = write_home.switch(platform, "secondary", unplanned=True, tables=TABLES, timing=FAST)
    finally:
        dynamodb(platform, "primary").create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "payment_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "payment_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    assert outcomes(checks)["write home replication"] == "note"
    assert "no sentinel written in the primary table" in checks[2].detail
    assert write_home.home(platform) == "secondary"


def test_an_unplanned_switch_goes_on_when_replication_is_not_seen_in_time(platform: Settings) -> None:
    timing = write_home.Timing(drain_seconds=0, replication_timeout=0.5)
    checks = write_home.switch(platform, "secondary", unplanned=True, tables=TABLES, timing=timing)
    assert outcomes(checks)["write home replication"] == "note"
    assert "writes not replicated yet are lost" in checks[2].detail
    assert write_home.home(platform) == "secondary"


def test_reconcile_counts_payments_not_the_sentinel(platform: Settings) -> None:
    table = dynamodb(platform, "primary")
    table.put_item(TableName=TABLE, Item={"payment_id": {"S": "pay_" + "0" * 32}, "region": {"S": "us-east-1"}})
    table.put_item(TableName=TABLE, Item={"payment_id": {"S": SENTINEL_ID}, "fence_token": {"S": "t"}})
    found = reconcile.Found()
    reconcile._scan_table(platform, platform.regions.of("primary"), TABLE, found)
    assert found.ids["dynamodb"] == {"pay_" + "0" * 32}


# -- failover's wiring: fence before the database, open after it ---------------------------------------------------


@pytest.fixture
def failover_parts(platform: Settings, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """failover._move_writes with the database steps replaced by recorders (what they see of the write home)."""
    calls: list[str] = []
    monkeypatch.setattr(write_home, "tables_of", lambda _: TABLES)
    monkeypatch.setattr(write_home, "Timing", lambda: FAST)

    def database(settings: Settings, *_: Any, **__: Any) -> Check:
        calls.append(f"database while {write_home.read(settings)}")
        return Check("database", "ok", "switched")

    monkeypatch.setattr(failover, "switch_database", database)
    monkeypatch.setattr(failover.local_database, "switch", lambda *_: Check("local database", "ok", "promoted"))
    return calls


def test_failover_fences_before_the_database_and_opens_after_it(platform: Settings, failover_parts: list[str]) -> None:
    with replicator(platform, "primary", "secondary"):
        moved = failover._move_writes(platform, {}, "global", "secondary", verb="failover")
    assert moved
    assert failover_parts == ["database while {'primary': 'fenced', 'secondary': 'primary'}"]
    assert write_home.home(platform) == "secondary"
    # A re-run (the traffic step failed, say) keeps the home open: no second fence.
    assert failover._move_writes(platform, {}, "global", "secondary", verb="failover")
    assert failover_parts[-1] == "database while {'primary': 'secondary', 'secondary': 'secondary'}"


def test_a_failed_database_switch_reopens_the_old_home(
    platform: Settings, failover_parts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(failover, "switch_database", lambda *_, **__: Check("database", "FAIL", "no switchover"))
    with replicator(platform, "primary", "secondary"):
        moved = failover._move_writes(platform, {}, "global", "secondary", verb="failover")
    assert not moved
    assert write_home.read(platform) == {"primary": "primary", "secondary": "primary"}


def make_write_home(settings: Settings) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops", "write-home"],
        cwd=ROOT,
        env=clean_environ(PAYMENTS_DOTENV="none", PAYMENTS_LOCAL_PORT=str(settings.local.port)),
        text=True,
        capture_output=True,
        check=False,
        timeout=120,
    )


def test_make_write_home_prints_each_regions_view(platform: Settings) -> None:
    primary = platform.regions.of("primary")
    shown = make_write_home(platform)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[-1] == f"write home: the primary region ({primary})"
    client(platform, "ssm", primary).put_parameter(
        Name=parameter_name(platform, "primary"), Value=FENCED, Type="String", Overwrite=True
    )
    fenced = make_write_home(platform)
    assert fenced.returncode == 1
    assert re.search(rf"^primary\s+{primary}\s+fenced$", fenced.stdout, re.M), fenced.stdout
    assert fenced.stdout.splitlines()[-1] == "write home: NONE"
