"""Payments made through the deployed payment function's own handler, in-process (gap `lambda-invoke`)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from harness.api_events import api_event
from harness.platform import Platform
from ops.ledger import local_lambda

PAYMENT_HANDLER = "lambda_src.payment_processor.handler.handler"


def pay(platform: Platform, role: str, *, amount: str = "10.00", currency: str = "USD") -> dict[str, Any]:
    """POST /payments in `role`'s region with the deployed function's environment; returns the response body."""
    function = platform.outputs()[f"compute-{role}"]["payment_function_name"]
    body = {"amount": amount, "currency": currency, "customer_id": "cus_Ledger01", "payment_method": "pm_Card4242"}
    event = api_event(
        "POST",
        "/payments",
        body=json.dumps(body),
        headers={"Content-Type": "application/json", "Idempotency-Key": f"key-{uuid.uuid4().hex}"},
    )
    response = local_lambda.run(platform.settings, function, platform.region(role), PAYMENT_HANDLER, event)
    assert response["statusCode"] == 201, response
    answer: dict[str, Any] = json.loads(response["body"])
    return answer
