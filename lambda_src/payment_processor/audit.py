"""The audit record of a payment: one SSE-KMS encrypted JSON object per payment in the audit bucket.

The key and the content depend only on the stored item, so writing it again (a retry) is idempotent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from . import clients
from .config import get_settings
from .payments import format_amount

AUDIT_PREFIX = "audit/payments"


def audit_key(item: Mapping[str, Any]) -> str:
    """``audit/payments/<yyyy>/<mm>/<dd>/<payment_id>.json`` (UTC date of creation)."""
    created_at: str = item["created_at"]
    year, month, day = created_at[0:4], created_at[5:7], created_at[8:10]
    return f"{AUDIT_PREFIX}/{year}/{month}/{day}/{item['payment_id']}.json"


def audit_record(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "action": "payment.created",
        "payment_id": item["payment_id"],
        "request_id": item.get("request_id"),
        "idempotency_key": item["idempotency_key"],
        "request_hash": item["request_hash"],
        "amount": format_amount(item["amount"]),
        "currency": item["currency"],
        "customer_id": item["customer_id"],
        "payment_method": item["payment_method"],
        "description": item.get("description"),
        "status": item["status"],
        "created_at": item["created_at"],
        "region": item["region"],
    }


def write_audit(item: Mapping[str, Any]) -> str:
    """Put the audit object (SSE-KMS with the configured key); return its key."""
    settings = get_settings()
    key = audit_key(item)
    clients.s3().put_object(
        Bucket=settings.audit_bucket,
        Key=key,
        Body=json.dumps(audit_record(item), sort_keys=True).encode("utf-8"),
        ContentType="application/json",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=settings.audit_kms_key_id,
    )
    return key
