"""The payment record: id derivation, request hash, the stored item and its public view."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .validation import CENT, PaymentRequest

STATUS_CREATED = "created"

# ledger_status / audit_status / event_status values
STEP_IN_PROGRESS = "in_progress"  # written with the payment; the step has not finished yet
STEP_DONE = "done"
STEP_RETRY_QUEUED = "retry_queued"  # failed; a message on the retry queue will redo it
STEP_PENDING = "pending"  # failed and could not be queued either: needs a sweep / manual redrive


def payment_id_for(idempotency_key: str) -> str:
    """Deterministic: every retry of one Idempotency-Key targets the same item."""
    return "pay_" + hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]


def request_hash(request: PaymentRequest) -> str:
    canonical = json.dumps(request.canonical(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def utc_now() -> str:
    """ISO-8601 UTC with milliseconds; fixed width, so it sorts as a GSI range key."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_item(request: PaymentRequest, *, region: str, request_id: str, created_at: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "payment_id": payment_id_for(request.idempotency_key),
        "idempotency_key": request.idempotency_key,
        "request_hash": request_hash(request),
        "amount": request.amount,
        "currency": request.currency,
        "customer_id": request.customer_id,
        "payment_method": request.payment_method,
        "status": STATUS_CREATED,
        "created_at": created_at,
        "region": region,
        "request_id": request_id,
        "ledger_status": STEP_IN_PROGRESS,
        "audit_status": STEP_IN_PROGRESS,
        "event_status": STEP_IN_PROGRESS,
    }
    if request.description is not None:
        item["description"] = request.description
    return item


def format_amount(amount: Any) -> str:
    return f"{Decimal(amount).quantize(CENT):.2f}"


def public_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """The API representation; a function of the stored item only, so replays are byte-identical."""
    return {
        "payment_id": item["payment_id"],
        "status": item["status"],
        "amount": format_amount(item["amount"]),
        "currency": item["currency"],
        "customer_id": item["customer_id"],
        "payment_method": item["payment_method"],
        "description": item.get("description"),
        "created_at": item["created_at"],
        "region": item["region"],
    }
