"""The ledger's schema enforces double entry itself, on a real PostgreSQL 15: what the application never
writes is refused by the database (SQLSTATE checked, so the refusal is the constraint meant)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pg8000.native
import pytest

from tests.unit.conftest import APP_ROLE, LedgerDatabase

PAYMENT = (
    "INSERT INTO payments (payment_id, customer_id, amount, currency, created_at, origin_region) "
    "VALUES (:id, 'cust_1', :amount, :currency, now(), 'us-east-1')"
)
ENTRY = (
    "INSERT INTO ledger_entries (payment_id, account, direction, amount, currency) "
    "VALUES (:id, :account, :direction, :amount, :currency)"
)


def _sqlstate(error: pg8000.native.DatabaseError) -> str:
    return str(error.args[0]["C"])


def _write(conn: Any, payment: tuple[str, str, str], *entries: tuple[str, str, str, str]) -> None:
    """One transaction: the payment (id, amount, currency) and entries (account, direction, amount, currency)."""
    payment_id, amount, currency = payment
    conn.run("BEGIN")
    try:
        conn.run(PAYMENT, id=payment_id, amount=Decimal(amount), currency=currency)
        for account, direction, entry_amount, entry_currency in entries:
            conn.run(
                ENTRY,
                id=payment_id,
                account=account,
                direction=direction,
                amount=Decimal(entry_amount),
                currency=entry_currency,
            )
        conn.run("COMMIT")
    except BaseException:
        conn.run("ROLLBACK")
        raise


def _balanced(amount: str, currency: str = "USD") -> tuple[tuple[str, str, str, str], ...]:
    return (("customer:cust_1", "debit", amount, currency), ("platform:clearing", "credit", amount, currency))


def _count(conn: Any, table: str) -> int:
    return int(conn.run(f"SELECT count(*) FROM {table}")[0][0])  # noqa: S608 -- the tests' own table names


def test_a_balanced_payment_commits_as_the_application_role(ledger: LedgerDatabase) -> None:
    app = ledger.connect(APP_ROLE)
    _write(app, ("pay_1", "10.00", "USD"), *_balanced("10.00"))
    assert app.run("SELECT amount, currency FROM payments") == [[Decimal("10.00"), "USD"]]
    assert _count(app, "ledger_entries") == 2


def test_money_is_exact_numeric(ledger: LedgerDatabase) -> None:
    """0.10 + 0.20 debits balance a 0.30 credit exactly (a float column would not)."""
    app = ledger.connect(APP_ROLE)
    entries = [("a", "debit", "0.10", "USD"), ("b", "debit", "0.20", "USD"), ("c", "credit", "0.30", "USD")]
    _write(app, ("pay_1", "0.30", "USD"), *entries)
    types = app.run(
        "SELECT DISTINCT data_type FROM information_schema.columns WHERE column_name = 'amount' "
        "AND table_name IN ('payments', 'ledger_entries')"
    )
    assert types == [["numeric"]]


@pytest.mark.parametrize(
    "entries",
    [
        pytest.param((("customer:cust_1", "debit", "10.00", "USD"),), id="debit-only"),
        pytest.param((("a", "debit", "10.00", "USD"), ("b", "credit", "9.99", "USD")), id="credit-short"),
        pytest.param(_balanced("9.00"), id="balanced-but-not-the-amount"),
        pytest.param((), id="no-entries"),
    ],
)
def test_an_unbalanced_payment_fails_at_commit_and_leaves_nothing(
    ledger: LedgerDatabase, entries: tuple[tuple[str, str, str, str], ...]
) -> None:
    app = ledger.connect(APP_ROLE)
    app.run("BEGIN")
    app.run(PAYMENT, id="pay_1", amount=Decimal("10.00"), currency="USD")
    for account, direction, amount, currency in entries:
        app.run(ENTRY, id="pay_1", account=account, direction=direction, amount=Decimal(amount), currency=currency)
    # Every statement was accepted: the balance is checked when the transaction commits.
    with pytest.raises(pg8000.native.DatabaseError) as refused:
        app.run("COMMIT")
    assert _sqlstate(refused.value) == "23514"
    assert "unbalanced" in refused.value.args[0]["M"]
    assert _count(app, "payments") == 0
    assert _count(app, "ledger_entries") == 0


def test_removing_one_entry_of_a_committed_payment_fails(ledger: LedgerDatabase) -> None:
    app = ledger.connect(APP_ROLE)
    _write(app, ("pay_1", "10.00", "USD"), *_balanced("10.00"))
    master = ledger.connect()  # the owner may delete; the balance still holds it back
    with pytest.raises(pg8000.native.DatabaseError) as refused:
        master.run("DELETE FROM ledger_entries WHERE direction = 'credit'")
    assert _sqlstate(refused.value) == "23514"
    assert _count(master, "ledger_entries") == 2


def test_a_duplicate_payment_id_is_refused(ledger: LedgerDatabase) -> None:
    app = ledger.connect(APP_ROLE)
    _write(app, ("pay_1", "10.00", "USD"), *_balanced("10.00"))
    with pytest.raises(pg8000.native.DatabaseError) as refused:
        _write(app, ("pay_1", "10.00", "USD"), *_balanced("10.00"))
    assert _sqlstate(refused.value) == "23505"
    assert _count(app, "payments") == 1
    assert _count(app, "ledger_entries") == 2


@pytest.mark.parametrize(
    ("payment", "entries"),
    [
        pytest.param(("pay_1", "-10.00", "USD"), _balanced("-10.00"), id="negative-payment"),
        pytest.param(("pay_1", "0.00", "USD"), _balanced("0.00"), id="zero-payment"),
    ],
)
def test_negative_amounts_are_refused(
    ledger: LedgerDatabase, payment: tuple[str, str, str], entries: tuple[tuple[str, str, str, str], ...]
) -> None:
    app = ledger.connect(APP_ROLE)
    with pytest.raises(pg8000.native.DatabaseError) as refused:
        _write(app, payment, *entries)
    assert _sqlstate(refused.value) == "23514"
    assert "check constraint" in refused.value.args[0]["M"]


def test_a_negative_entry_is_refused_even_when_the_payment_is_valid(ledger: LedgerDatabase) -> None:
    app = ledger.connect(APP_ROLE)
    entries = (("a", "debit", "15.00", "USD"), ("b", "credit", "-5.00", "USD"), ("c", "credit", "20.00", "USD"))
    with pytest.raises(pg8000.native.DatabaseError) as refused:
        _write(app, ("pay_1", "15.00", "USD"), *entries)
    assert _sqlstate(refused.value) == "23514"
    assert "ledger_entries_amount_check" in refused.value.args[0]["M"]


@pytest.mark.parametrize("currency", ["usd", "US", "USDX", "U5D", ""])
def test_currency_must_be_three_upper_case_letters(ledger: LedgerDatabase, currency: str) -> None:
    app = ledger.connect(APP_ROLE)
    with pytest.raises(pg8000.native.DatabaseError) as refused:
        _write(app, ("pay_1", "10.00", currency), *_balanced("10.00", currency))
    assert _sqlstate(refused.value) == "23514"
    assert "payments_currency_check" in refused.value.args[0]["M"]


def test_an_entry_in_another_currency_than_its_payment_is_refused(ledger: LedgerDatabase) -> None:
    app = ledger.connect(APP_ROLE)
    with pytest.raises(pg8000.native.DatabaseError) as refused:
        _write(app, ("pay_1", "10.00", "USD"), *_balanced("10.00", "EUR"))
    assert _sqlstate(refused.value) == "23503"  # the (payment_id, currency) foreign key


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE payments SET amount = 1",
        "DELETE FROM ledger_entries",
        "DELETE FROM payments",
        "TRUNCATE payments CASCADE",
        "CREATE TABLE intruder (x int)",
        "SELECT * FROM schema_migrations",
    ],
)
def test_the_application_role_may_only_insert_and_select_ledger_rows(ledger: LedgerDatabase, statement: str) -> None:
    app = ledger.connect(APP_ROLE)
    _write(app, ("pay_1", "10.00", "USD"), *_balanced("10.00"))
    with pytest.raises(pg8000.native.DatabaseError) as refused:
        app.run(statement)
    assert _sqlstate(refused.value) == "42501"  # insufficient_privilege
