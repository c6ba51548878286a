"""Validation of POST /payments (body and Idempotency-Key) and of payment ids in paths.

Every offending field is reported, not just the first. Money is parsed with ``Decimal`` and never
passes through a float.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .config import Settings
from .request import ApiRequest, BodyError

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")
CUSTOMER_ID = re.compile(r"cus_[A-Za-z0-9]{4,32}")
PAYMENT_METHOD = re.compile(r"pm_[A-Za-z0-9]{4,32}")
PAYMENT_ID = re.compile(r"pay_[0-9a-f]{32}")
AMOUNT_TEXT = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]{1,2})?")
DESCRIPTION_MAX = 200
CENT = Decimal("0.01")

REQUIRED_FIELDS = ("amount", "currency", "customer_id", "payment_method")
OPTIONAL_FIELDS = ("description",)
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


@dataclass(frozen=True)
class PaymentRequest:
    idempotency_key: str
    amount: Decimal
    currency: str
    customer_id: str
    payment_method: str
    description: str | None

    def canonical(self) -> dict[str, Any]:
        """The normalised request: what the request hash covers."""
        return {
            "amount": f"{self.amount:.2f}",
            "currency": self.currency,
            "customer_id": self.customer_id,
            "payment_method": self.payment_method,
            "description": self.description,
        }


class ValidationFailed(Exception):
    def __init__(self, fields: list[tuple[str, str]]) -> None:
        super().__init__("validation failed")
        self.fields = fields


class _DuplicateKey(ValueError):
    pass


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def parse_json(text: str) -> Any:
    """JSON with exact numbers; NaN/Infinity become non-finite Decimals (rejected by field checks)."""
    return json.loads(
        text,
        parse_float=Decimal,
        parse_int=Decimal,
        parse_constant=Decimal,
        object_pairs_hook=_reject_duplicates,
    )


def _check_content_type(request: ApiRequest) -> str | None:
    values = request.headers.get_all("Content-Type")
    if not values:
        return None
    media_type = values[-1].split(";", 1)[0].strip().lower()
    if len(values) > 1 or not (media_type == "application/json" or media_type.endswith("+json")):
        return "must be application/json"
    return None


def _check_idempotency_key(request: ApiRequest) -> tuple[str | None, str | None]:
    values = request.headers.get_all(IDEMPOTENCY_HEADER)
    if not values:
        return None, "is required"
    if len(values) > 1:
        return None, "must be sent once"
    if not IDEMPOTENCY_KEY.fullmatch(values[0]):
        return None, "must be 8-64 characters of A-Z, a-z, 0-9, '_' or '-'"
    return values[0], None


def _as_decimal(value: Any) -> Decimal | None:
    """A JSON number (already a Decimal) or a plain decimal string; None for anything else."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str) and AMOUNT_TEXT.fullmatch(value):
        return Decimal(value)
    return None


def _check_amount(value: Any, maximum: Decimal) -> tuple[Decimal | None, str | None]:
    amount = _as_decimal(value)
    if amount is None:
        error = "must be a positive decimal (string or number) with at most 2 decimal places"
    elif not amount.is_finite():
        error = "must be a finite number"
    elif int(amount.as_tuple().exponent) < -2:
        error = "must have at most 2 decimal places"
    elif amount <= 0:
        error = "must be greater than 0"
    elif amount > maximum:
        error = f"must not exceed {maximum}"
    else:
        return amount.quantize(CENT), None
    return None, error


def _check_currency(value: Any, allowed: frozenset[str]) -> tuple[str | None, str | None]:
    if isinstance(value, str) and value in allowed:
        return value, None
    return None, "must be one of " + ", ".join(sorted(allowed))


def _check_pattern(value: Any, pattern: re.Pattern[str], description: str) -> tuple[str | None, str | None]:
    if isinstance(value, str) and pattern.fullmatch(value):
        return value, None
    return None, f"must match {description}"


def _check_description(value: Any) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, str):
        return None, "must be a string"
    if len(value) > DESCRIPTION_MAX:
        return None, f"must be at most {DESCRIPTION_MAX} characters"
    if any(unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in value):
        return None, "must not contain control characters"
    return value, None


def _parse_body(request: ApiRequest) -> tuple[Mapping[str, Any] | None, str | None]:
    try:
        document = parse_json(request.text_body())
    except BodyError as error:
        return None, str(error)
    except _DuplicateKey as error:
        return None, f"has a duplicate key {str(error)[:64]!r}"
    except (ValueError, RecursionError):
        return None, "is not valid JSON"
    if not isinstance(document, dict):
        return None, "must be a JSON object"
    return document, None


def validate_create(request: ApiRequest, settings: Settings) -> PaymentRequest:
    """The validated, normalised payment request; raise ValidationFailed listing every bad field."""
    errors: list[tuple[str, str]] = []
    key, key_error = _check_idempotency_key(request)
    if key_error:
        errors.append((IDEMPOTENCY_HEADER, key_error))
    content_type_error = _check_content_type(request)
    if content_type_error:
        errors.append(("Content-Type", content_type_error))
    body, body_error = _parse_body(request)
    if body is None:
        errors.append(("body", body_error or "is invalid"))
        raise ValidationFailed(errors)

    checks: dict[str, Callable[[Any], tuple[Any, str | None]]] = {
        "amount": lambda value: _check_amount(value, settings.max_amount),
        "currency": lambda value: _check_currency(value, settings.allowed_currencies),
        "customer_id": lambda value: _check_pattern(value, CUSTOMER_ID, "cus_ followed by 4-32 letters or digits"),
        "payment_method": lambda value: _check_pattern(value, PAYMENT_METHOD, "pm_ followed by 4-32 letters or digits"),
        "description": _check_description,
    }
    checked: dict[str, Any] = {}
    for name, check in checks.items():
        if name not in body:
            if name in REQUIRED_FIELDS:
                errors.append((name, "is required"))
            continue
        value, error = check(body[name])
        if error:
            errors.append((name, error))
        checked[name] = value
    errors.extend((name[:64], "is not an allowed field") for name in body if name not in checks)
    if errors or key is None:
        raise ValidationFailed(errors)
    return PaymentRequest(
        idempotency_key=key,
        amount=checked["amount"],
        currency=checked["currency"],
        customer_id=checked["customer_id"],
        payment_method=checked["payment_method"],
        description=checked.get("description"),
    )


def is_payment_id(value: str) -> bool:
    return bool(PAYMENT_ID.fullmatch(value))
