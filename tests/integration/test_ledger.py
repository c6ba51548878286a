"""The ledger of record after `make deploy`: both databases up and migrated, payments reconciled across sources.

Runs first (phase "ledger"), on the fresh deployment: reconciliation needs every payment complete, which later
tests that break steps on purpose do not leave.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from harness.payments import pay
from harness.platform import Platform
from ops.local import postgres

pytestmark = pytest.mark.phase("ledger")


def _migration_files() -> list[str]:
    from lambda_src.ledger import migrate  # noqa: PLC0415  # the function code's own list of migrations

    return [str(version) for version in migrate.versions()]


def test_deploy_started_both_databases_and_migrated_the_writer(platform: Platform, deployed: dict[str, Any]) -> None:
    status = platform.must("db-status")
    last = _migration_files()[-1]
    local = platform.settings.local
    assert re.search(rf"us-east-1\s+primary\s+127\.0\.0\.1:{local.port + 1}\s+writer\s+-\s+{last}", status), status
    assert re.search(
        rf"eu-west-1\s+secondary\s+127\.0\.0\.1:{local.port + 2}\s+standby\s+0 bytes, [\d.]+ ms \(streaming\)\s+{last}",
        status,
    ), status
    assert "writer: the primary region (us-east-1)" in status
    # Migrating again applies nothing.
    assert f"ledger: schema current at {last} (nothing to apply)" in platform.must("db-migrate")


def test_reconcile_passes_and_fails_on_a_ledger_row_deleted_by_hand(platform: Platform) -> None:
    # Writes sent to the secondary region are redirected (307) to the write home, the primary (docs/write-home.md):
    # every payment is created, and counted, there.
    answers = [pay(platform, role) for role in ("primary", "secondary", "secondary")]
    assert [answer["region"] for answer in answers] == ["us-east-1"] * 3
    paid = [answer["payment_id"] for answer in answers]
    clean = platform.ops("reconcile")
    assert clean.returncode == 0, clean.stdout
    assert re.search(r"^us-east-1\s+3\s+3\s+3\s+3$", clean.stdout, re.M), clean.stdout
    assert re.search(r"^eu-west-1\s+0\s+0\s+0\s+0$", clean.stdout, re.M), clean.stdout
    assert re.search(r"^total\s+3\s+3\s+3\s+3$", clean.stdout, re.M), clean.stdout

    writer = postgres.instances(platform.settings.local)["primary"]
    database = platform.settings.data.database_name
    victim = paid[1]
    payment = postgres.query(writer, "SELECT * FROM payments WHERE payment_id = :id", database=database, id=victim)
    entries = postgres.query(
        writer, "SELECT * FROM ledger_entries WHERE payment_id = :id", database=database, id=victim
    )
    assert len(payment) == 1
    assert len(entries) == 2
    with postgres.connect(writer, database) as connection:
        connection.run("START TRANSACTION")
        connection.run("DELETE FROM ledger_entries WHERE payment_id = :id", id=victim)
        connection.run("DELETE FROM payments WHERE payment_id = :id", id=victim)
        connection.run("COMMIT")

    broken = platform.ops("reconcile")
    assert broken.returncode == 2, broken.stdout
    assert re.search(rf"^\s+{victim}\s+us-east-1\s+ledger$", broken.stdout, re.M), broken.stdout
    assert re.search(r"^total\s+3\s+2\s+3\s+3$", broken.stdout, re.M), broken.stdout
