"""A payment into the ledger: its row and two balanced entries, in one transaction, exactly once.

``INSERT ... ON CONFLICT (payment_id) DO NOTHING``: the entries are written only when this call inserted
the payment row, so a repeat (a retried step, a redelivered message, two racing writers) adds nothing.
Entries: the customer's account is debited and the platform's clearing account credited, both by the
payment's amount in its currency (the database checks at COMMIT that they balance).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .connection import run_on_writer

CLEARING_ACCOUNT = "platform:clearing"

INSERT_PAYMENT = """
INSERT INTO payments (payment_id, customer_id, amount, currency, created_at, origin_region)
VALUES (:payment_id, :customer_id, :amount, :currency, CAST(:created_at AS timestamptz), :region)
ON CONFLICT (payment_id) DO NOTHING
RETURNING payment_id
"""
INSERT_ENTRIES = """
INSERT INTO ledger_entries (payment_id, account, direction, amount, currency)
VALUES (:payment_id, :customer_account, 'debit', :amount, :currency),
       (:payment_id, :clearing_account, 'credit', :amount, :currency)
"""


def customer_account(customer_id: str) -> str:
    return f"customer:{customer_id}"


def insert_payment(conn: Any, item: Mapping[str, Any]) -> bool:
    """Record ``item`` (a stored payment: payment_id, customer_id, amount, currency, created_at, region) on
    ``conn`` (a ``pg8000.native`` connection, no transaction open); True if this call inserted it."""
    values: dict[str, Any] = {
        "payment_id": str(item["payment_id"]),
        "customer_id": str(item["customer_id"]),
        "amount": Decimal(str(item["amount"])),
        "currency": str(item["currency"]),
        "created_at": str(item["created_at"]),
        "region": str(item["region"]),
    }
    conn.run("BEGIN")
    try:
        inserted = bool(conn.run(INSERT_PAYMENT, **values))
        if inserted:
            conn.run(
                INSERT_ENTRIES,
                payment_id=values["payment_id"],
                customer_account=customer_account(values["customer_id"]),
                clearing_account=CLEARING_ACCOUNT,
                amount=values["amount"],
                currency=values["currency"],
            )
        conn.run("COMMIT")
    except BaseException:
        _rollback(conn)
        raise
    return inserted


def _rollback(conn: Any) -> None:
    with contextlib.suppress(Exception):  # the connection is gone; the caller's error says why
        conn.run("ROLLBACK")


def record_payment(item: Mapping[str, Any]) -> bool:
    """Record ``item`` on the container's writer connection (see ``insert_payment``)."""
    return run_on_writer(lambda conn: insert_payment(conn, item))
