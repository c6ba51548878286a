"""The side effects that follow a payment write: the ledger rows, the audit object, the payment.created event.

The ledger comes first: it is the record of record, and when every step succeeds a consumer of the event
already finds the payment in the ledger. The steps are independent (one failing does not skip the next);
each failed one goes to the retry queue under its own name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..ledger.record import record_payment
from .audit import write_audit
from .events import publish_created

LEDGER = "ledger"
AUDIT = "audit"
EVENT = "event"
STEPS: tuple[str, ...] = (LEDGER, AUDIT, EVENT)
STATUS_FIELDS: dict[str, str] = {LEDGER: "ledger_status", AUDIT: "audit_status", EVENT: "event_status"}


def perform(step: str, item: Mapping[str, Any]) -> None:
    """Run one step for a stored payment item (idempotent: ledger rows ON CONFLICT DO NOTHING on the payment
    id, same audit object key, same event detail)."""
    if step == LEDGER:
        record_payment(item)
    elif step == AUDIT:
        write_audit(item)
    elif step == EVENT:
        publish_created(item)
    else:
        raise ValueError(f"unknown step {step!r}")
