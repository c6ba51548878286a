"""Payments made through the deployed payment function's own handler, in-process (gap `lambda-invoke`).

`pay` behaves like a client of the API: a region that is not the write home answers 307 with the write home's
origin (`https://origin-<role>.api.<zone>/v1/payments`, docs/write-home.md); `pay` follows it to that role's
function with the same body and Idempotency-Key, and retries a 503 of a write home switch after its Retry-After.
So `pay(platform, "secondary")` means "a write sent to the secondary region": the payment is created by whichever
region is the write home, and its body's `region` says which one answered.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from config.settings import ROLES, Role
from harness.api_events import api_event
from harness.platform import Platform
from ops.ledger import local_lambda
from shared.api_names import origin_name

PAYMENT_HANDLER = "lambda_src.payment_processor.handler.handler"
MAX_REDIRECTS = 2
MAX_SWITCHING_RETRIES = 30  # 503 write_home_switching, Retry-After seconds apart: a switch's fence and drain


def _header(response: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in (response.get("headers") or {}).items() if k.lower() == name.lower()), None)


def redirect_role(platform: Platform, location: str) -> Role:
    """The role whose origin name a 307's Location names."""
    host = urlsplit(location).hostname
    for role in ROLES:
        if origin_name(platform.settings.dns, role) == host:
            return role
    raise AssertionError(f"307 to {location!r}: not the origin of any region")


def post_payment(platform: Platform, role: Role, event: dict[str, Any]) -> tuple[Role, dict[str, Any]]:
    """POST `event` to `role`'s function, following the write home's 307s and 503s; (answering role, response)."""
    redirects = retries = 0
    while True:
        function = platform.outputs()[f"compute-{role}"]["payment_function_name"]
        response: dict[str, Any] = local_lambda.run(
            platform.settings, function, platform.region(role), PAYMENT_HANDLER, event
        )
        status = response["statusCode"]
        if status == 307 and redirects < MAX_REDIRECTS:
            redirects += 1
            role = redirect_role(platform, _header(response, "Location") or "")
        elif status == 503 and retries < MAX_SWITCHING_RETRIES and _header(response, "Retry-After"):
            retries += 1
            time.sleep(float(_header(response, "Retry-After") or 1))
        else:
            return role, response


def pay(platform: Platform, role: Role, *, amount: str = "10.00", currency: str = "USD") -> dict[str, Any]:
    """POST /payments sent to `role`'s region (following a redirect to the write home); the 201's body."""
    body = {"amount": amount, "currency": currency, "customer_id": "cus_Ledger01", "payment_method": "pm_Card4242"}
    event = api_event(
        "POST",
        "/payments",
        body=json.dumps(body),
        headers={"Content-Type": "application/json", "Idempotency-Key": f"key-{uuid.uuid4().hex}"},
    )
    _, response = post_payment(platform, role, event)
    assert response["statusCode"] == 201, response
    answer: dict[str, Any] = json.loads(response["body"])
    return answer
