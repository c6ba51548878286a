"""ledger.admin's functions, as ops calls them in-process, on a real PostgreSQL 15 (and its hot standby)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from lambda_src.ledger import admin, migrate, record
from lambda_src.ledger.admin import AdminError
from ops.local import postgres
from tests.unit.conftest import APP_ROLE, LedgerDatabase


def _item(n: int) -> dict[str, Any]:
    return {
        "payment_id": f"pay_{n:032d}",
        "customer_id": "cust_1",
        "amount": Decimal("1.00"),
        "currency": "USD",
        "created_at": "2026-12-02T05:00:00.000Z",
        "region": "us-east-1",
    }


def test_migrate_reports_what_it_applied_then_nothing(ledger_database: LedgerDatabase) -> None:
    conn = ledger_database.connect()
    assert admin.migrate(conn, APP_ROLE) == {"applied": migrate.versions(), "last": migrate.versions()[-1]}
    assert admin.migrate(conn, APP_ROLE) == {"applied": [], "last": migrate.versions()[-1]}


def test_summary_before_any_migration_is_empty(ledger_database: LedgerDatabase) -> None:
    assert admin.summary(ledger_database.connect()) == {
        "last_migration": None,
        "in_recovery": False,
        "payments": 0,
        "entries": 0,
        "unbalanced": 0,
        "duplicates": 0,
        "payment_ids": [],
        "truncated": False,
        "next_after": None,
    }


def test_summary_counts_and_pages_the_payment_ids(ledger: LedgerDatabase) -> None:
    app = ledger.connect(APP_ROLE)
    for n in (3, 1, 2):
        record.insert_payment(app, _item(n))
    conn = ledger.connect()
    first = admin.summary(conn, limit=2)
    assert (first["payments"], first["entries"], first["unbalanced"], first["duplicates"]) == (3, 6, 0, 0)
    assert first["payment_ids"] == [_item(1)["payment_id"], _item(2)["payment_id"]]
    assert first["truncated"] is True
    assert first["next_after"] == _item(2)["payment_id"]
    assert first["last_migration"]["version"] == 1
    assert json.loads(json.dumps(first)) == first, "a Lambda response: plain JSON"
    second = admin.summary(conn, after=first["next_after"], limit=2)
    assert second["payment_ids"] == [_item(3)["payment_id"]]
    assert second["truncated"] is False
    assert second["next_after"] is None


def test_summary_counts_a_payment_whose_entries_were_tampered_with(ledger: LedgerDatabase) -> None:
    record.insert_payment(ledger.connect(APP_ROLE), _item(1))
    # Only a superuser with triggers off can break the balance: what the count is there to notice.
    postgres.query(
        ledger.server,
        "SET session_replication_role = replica; DELETE FROM ledger_entries WHERE direction = 'credit'",
        database=ledger.name,
    )
    summary = admin.summary(ledger.connect())
    assert (summary["payments"], summary["entries"], summary["unbalanced"]) == (1, 1, 1)


@pytest.mark.parametrize("limit", [0, admin.PAYMENT_IDS_PAGE + 1])
def test_summary_page_size_is_bounded(ledger: LedgerDatabase, limit: int) -> None:
    with pytest.raises(AdminError, match="limit must be from 1 to 10000"):
        admin.summary(ledger.connect(), limit=limit)


def test_status_on_the_writer_and_on_the_standby(ledger: LedgerDatabase, postgres_standby: postgres.Instance) -> None:
    writer = admin.status(ledger.connect())
    assert writer["in_recovery"] is False
    assert writer["last_migration"]["version"] == 1
    assert writer["database"] == ledger.name
    assert writer["server_version"].startswith("15.")
    postgres.wait_for_replay(postgres_standby, ledger.server)
    standby = admin.status(ledger.connect(port=postgres_standby.port))
    assert standby["in_recovery"] is True
    assert standby["last_migration"] == writer["last_migration"], "the migration replicated"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"action": "drop"}, "unknown action 'drop': use migrate, summary or status"),
        ({}, "unknown action 'None': use migrate, summary or status"),
        ("migrate", "unknown action 'None': use migrate, summary or status"),
        ({"action": "summary", "after": 5}, "after must be a payment id"),
        ({"action": "summary", "limit": "all"}, "limit must be a whole number from 1 to 10000"),
    ],
)
def test_a_bad_event_is_a_clear_error_before_connecting(event: Any, message: str) -> None:
    with pytest.raises(AdminError) as refused:
        admin.handler(event, None)
    assert str(refused.value).startswith(message)
