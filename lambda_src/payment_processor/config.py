"""Runtime settings, read from the environment once per container.

Environment contract (all required unless noted):
    PAYMENTS_TABLE         DynamoDB table (hash key payment_id)
    AUDIT_BUCKET           S3 bucket for audit objects (audit/payments/<yyyy>/<mm>/<dd>/<payment_id>.json)
    AUDIT_KMS_KEY_ID       KMS key id/ARN/alias for SSE-KMS of the audit objects
    EVENT_BUS_NAME         EventBridge bus for payment.created (source payments.api)
    AUDIT_RETRY_QUEUE_URL  SQS queue for failed ledger/audit/event steps (consumed by retry_handler)
    REGION                 region of this deployment; falls back to AWS_REGION (always set by Lambda)
    MAX_AMOUNT             largest accepted amount, decimal string with at most 2 places (e.g. 100000.00)
    ALLOWED_CURRENCIES     comma-separated ISO 4217 codes (e.g. USD,EUR,GBP)
    CUSTOMER_INDEX         the table's index by customer_id and created_at; required by GET /payments only
    LOG_LEVEL              optional, default INFO
POST /payments also reads WRITE_HOME_PARAMETER, REGION_ROLE, WRITE_HOME_ORIGINS and WRITE_HOME_CACHE_SECONDS
(``write_home``): which region accepts writes; without them every write is accepted here.
The ledger step reads LEDGER_WRITER_HOSTS, LEDGER_DATABASE, LEDGER_USER and LEDGER_TLS (``lambda_src.ledger.config``)
when it first connects, so a missing one fails that step (retried through the queue), not the payment.
boto3 itself honours AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> (local emulator).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ..common.per_container import Once

_CURRENCY = re.compile(r"[A-Z]{3}")


class ConfigError(RuntimeError):
    """The function's environment is incomplete or invalid (a deployment problem, never the caller's)."""


@dataclass(frozen=True)
class Settings:
    table_name: str
    audit_bucket: str
    audit_kms_key_id: str
    event_bus_name: str
    retry_queue_url: str
    region: str
    max_amount: Decimal
    allowed_currencies: frozenset[str]
    customer_index: str


def _required(environ: Mapping[str, str], name: str, problems: list[str]) -> str:
    value = environ.get(name, "").strip()
    if not value:
        problems.append(f"{name} is not set")
    return value


def _decimal_places(value: Decimal) -> int:
    """Digits written after the point (0 for NaN and infinities, whose exponent is a letter)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _max_amount(raw: str, problems: list[str]) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal("NaN")
    if raw and (not value.is_finite() or value <= 0 or _decimal_places(value) > 2):
        problems.append("MAX_AMOUNT must be a positive decimal with at most 2 decimal places")
    return value


def _currencies(raw: str, problems: list[str]) -> frozenset[str]:
    codes = frozenset(code.strip().upper() for code in raw.split(",") if code.strip())
    if raw and (not codes or any(not _CURRENCY.fullmatch(code) for code in codes)):
        problems.append("ALLOWED_CURRENCIES must be a comma-separated list of ISO 4217 codes")
    return codes


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``environ`` (default ``os.environ``); raise ConfigError listing every problem."""
    env = os.environ if environ is None else environ
    problems: list[str] = []
    region = env.get("REGION", "").strip() or env.get("AWS_REGION", "").strip()
    if not region:
        problems.append("REGION (or AWS_REGION) is not set")
    settings = Settings(
        table_name=_required(env, "PAYMENTS_TABLE", problems),
        audit_bucket=_required(env, "AUDIT_BUCKET", problems),
        audit_kms_key_id=_required(env, "AUDIT_KMS_KEY_ID", problems),
        event_bus_name=_required(env, "EVENT_BUS_NAME", problems),
        retry_queue_url=_required(env, "AUDIT_RETRY_QUEUE_URL", problems),
        region=region,
        max_amount=_max_amount(_required(env, "MAX_AMOUNT", problems), problems),
        allowed_currencies=_currencies(_required(env, "ALLOWED_CURRENCIES", problems), problems),
        customer_index=env.get("CUSTOMER_INDEX", "").strip(),
    )
    if problems:
        raise ConfigError("; ".join(problems))
    return settings


_settings = Once(load_settings)


def get_settings() -> Settings:
    """The container's settings, loaded on first use (a failed load is retried on the next call)."""
    return _settings.get()


def reset() -> None:
    _settings.reset()
