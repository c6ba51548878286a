"""record_payment on a real PostgreSQL 15: one payment and balanced entries, however often it is called, through
the container's connection as the payment-processor function makes it (settings from the environment)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from lambda_src.ledger import connection, record
from lambda_src.ledger.config import ConfigError
from lambda_src.payment_processor import steps
from ops.local import postgres
from tests.unit.conftest import APP_ROLE, LedgerDatabase

ITEM: dict[str, Any] = {
    "payment_id": "pay_" + "1" * 32,
    "customer_id": "cust_42",
    "amount": Decimal("125.50"),
    "currency": "EUR",
    "created_at": "2026-12-02T05:00:00.123Z",
    "region": "eu-west-1",
}


@pytest.fixture
def function_env(ledger: LedgerDatabase, monkeypatch: pytest.MonkeyPatch) -> Iterator[LedgerDatabase]:
    """The environment the compute stack gives the function on the local target (a dead candidate first)."""
    monkeypatch.setenv("LEDGER_WRITER_HOSTS", f"127.0.0.1:1,{ledger.server.host}:{ledger.server.port}")
    monkeypatch.setenv("LEDGER_DATABASE", ledger.name)
    monkeypatch.setenv("LEDGER_USER", APP_ROLE)
    monkeypatch.setenv("LEDGER_TLS", "disable")
    monkeypatch.setenv("REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")  # the IAM token is presigned locally; trust ignores it
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    connection.reset()
    yield ledger
    connection.reset()


def _rows(ledger: LedgerDatabase) -> tuple[list[list[Any]], list[list[Any]]]:
    conn = ledger.connect()
    payments = conn.run("SELECT payment_id, customer_id, amount, currency, origin_region, created_at FROM payments")
    entries = conn.run("SELECT account, direction, amount, currency FROM ledger_entries ORDER BY direction")
    return payments, entries


def test_insert_payment_twice_records_once(ledger: LedgerDatabase) -> None:
    app = ledger.connect(APP_ROLE)
    assert record.insert_payment(app, ITEM) is True
    assert record.insert_payment(app, ITEM) is False
    payments, entries = _rows(ledger)
    assert len(payments) == 1
    payment_id, customer_id, amount, currency, region, created_at = payments[0]
    assert (payment_id, customer_id, amount, currency, region) == (
        ITEM["payment_id"],
        "cust_42",
        ITEM["amount"],
        "EUR",
        "eu-west-1",
    )
    assert created_at.isoformat(timespec="milliseconds") == "2026-12-02T05:00:00.123+00:00"
    assert entries == [
        ["platform:clearing", "credit", Decimal("125.50"), "EUR"],
        ["customer:cust_42", "debit", Decimal("125.50"), "EUR"],
    ]


def test_a_failed_insert_leaves_the_connection_usable(ledger: LedgerDatabase) -> None:
    app = ledger.connect(APP_ROLE)
    with pytest.raises(Exception, match="currency"):
        record.insert_payment(app, {**ITEM, "currency": "eur"})
    assert record.insert_payment(app, ITEM) is True


def test_record_payment_uses_one_connection_found_among_the_candidates(function_env: LedgerDatabase) -> None:
    assert record.record_payment(ITEM) is True
    assert steps.perform(steps.LEDGER, ITEM) is None  # the retry path: same call, nothing added
    assert record.record_payment({**ITEM, "payment_id": "pay_" + "2" * 32}) is True
    payments, entries = _rows(function_env)
    assert len(payments) == 2
    assert len(entries) == 4
    sessions = function_env.connect().run(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name AND datname = :db",
        name=connection.APPLICATION_NAME,
        db=function_env.name,
    )
    assert sessions == [[1]], "one connection per container, reused"


def test_a_lost_connection_is_dropped_and_the_writer_found_again(function_env: LedgerDatabase) -> None:
    assert record.record_payment(ITEM) is True
    terminated = postgres.query(  # as the server's superuser, like a restart or a failover would
        function_env.server,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name AND datname = :db",
        name=connection.APPLICATION_NAME,
        db=function_env.name,
    )
    assert terminated == [[True]]
    assert record.record_payment({**ITEM, "payment_id": "pay_" + "3" * 32}) is True
    payments, _ = _rows(function_env)
    assert len(payments) == 2


def test_a_missing_setting_names_the_variable(function_env: LedgerDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEDGER_DATABASE")
    monkeypatch.setenv("LEDGER_TLS", "prefer")
    connection.reset()
    with pytest.raises(
        ConfigError, match=r"^LEDGER_TLS must be one of verify-full, disable; LEDGER_DATABASE is not set$"
    ):
        record.record_payment(ITEM)
