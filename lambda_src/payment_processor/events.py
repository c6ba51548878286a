"""The ``payment.created`` event on the region's EventBridge bus.

Consumers dedupe on ``detail.payment_id`` (a retried publish sends the same detail again).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from . import clients
from .config import get_settings
from .payments import format_amount

SOURCE = "payments.api"
DETAIL_TYPE = "payment.created"


class EventPublishError(RuntimeError):
    """EventBridge accepted the call but rejected the entry (FailedEntryCount > 0)."""


def event_detail(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "payment_id": item["payment_id"],
        "status": item["status"],
        "amount": format_amount(item["amount"]),
        "currency": item["currency"],
        "customer_id": item["customer_id"],
        "created_at": item["created_at"],
        "region": item["region"],
    }


def publish_created(item: Mapping[str, Any]) -> None:
    response = clients.events().put_events(
        Entries=[
            {
                "Source": SOURCE,
                "DetailType": DETAIL_TYPE,
                "Detail": json.dumps(event_detail(item), sort_keys=True),
                "EventBusName": get_settings().event_bus_name,
            }
        ]
    )
    if response.get("FailedEntryCount", 0):
        entry = (response.get("Entries") or [{}])[0]
        raise EventPublishError(f"event rejected: {entry.get('ErrorCode', 'unknown')}")
