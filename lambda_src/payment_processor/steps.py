"""The side effects that follow a payment write: the audit object and the payment.created event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .audit import write_audit
from .events import publish_created

AUDIT = "audit"
EVENT = "event"
STEPS: tuple[str, ...] = (AUDIT, EVENT)
STATUS_FIELDS: dict[str, str] = {AUDIT: "audit_status", EVENT: "event_status"}


def perform(step: str, item: Mapping[str, Any]) -> None:
    """Run one step for a stored payment item (idempotent: same object key, same event detail)."""
    if step == AUDIT:
        write_audit(item)
    elif step == EVENT:
        publish_created(item)
    else:
        raise ValueError(f"unknown step {step!r}")
