"""GET /payments?customer_id=...: one customer's payments, newest first, a page at a time.

A page holds at most ``limit`` payments (default 20, at most 100); when more remain, the response's
``next_token`` is passed back as the ``next_token`` query parameter for the next page. The token is
the customer index's position (its key attributes), so it is only good for the same customer.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass

from .request import ApiRequest
from .validation import CUSTOMER_ID, PAYMENT_ID, ValidationFailed

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# The customer index's position: its keys and the table's.
POSITION_KEYS = frozenset({"customer_id", "created_at", "payment_id"})


@dataclass(frozen=True)
class ListQuery:
    customer_id: str
    limit: int
    start_after: Mapping[str, str] | None  # where the previous page ended


def encode_token(position: Mapping[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(dict(position), sort_keys=True).encode("utf-8")).decode("ascii")


def _decode_token(token: str, customer_id: str) -> Mapping[str, str] | None:
    try:
        position = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError):
        return None
    if not isinstance(position, dict) or set(position) != POSITION_KEYS:
        return None
    if not all(isinstance(value, str) for value in position.values()):
        return None
    if position["customer_id"] != customer_id or not PAYMENT_ID.fullmatch(position["payment_id"]):
        return None
    return position


def _limit(raw: str | None) -> int | None:
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        return None
    return int(raw)


def validate_list(request: ApiRequest) -> ListQuery:
    """The query of a list request; raises ValidationFailed naming every bad parameter."""
    query = request.query
    problems: list[tuple[str, str]] = []
    customer_id = query.get("customer_id")
    if customer_id is None or not CUSTOMER_ID.fullmatch(customer_id):
        problems.append(("customer_id", "is required and must match cus_ followed by 4-32 letters or digits"))
    limit = _limit(query.get("limit"))
    if limit is None:
        problems.append(("limit", f"must be a whole number from 1 to {MAX_LIMIT}"))
    start_after = None
    token = query.get("next_token")
    if token is not None and customer_id is not None:
        start_after = _decode_token(token, customer_id)
        if start_after is None:
            problems.append(("next_token", "is not a token this list returned for this customer"))
    if problems or customer_id is None or limit is None:
        raise ValidationFailed(problems)
    return ListQuery(customer_id, limit, start_after)
