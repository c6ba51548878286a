"""The retry queue: failed ledger/audit/event steps are queued here and redriven by ``redrive``.

Message body: ``{"step": "ledger"|"audit"|"event", "payment_id": "pay_...", "attempt": 1}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from . import clients, repository
from .config import get_settings
from .logging_setup import get_logger
from .payments import STEP_DONE
from .steps import STATUS_FIELDS, perform
from .validation import is_payment_id


class InvalidRetryMessage(ValueError):
    """The message can never succeed (malformed, or the payment does not exist): do not retry it."""


def enqueue(step: str, payment_id: str, attempt: int = 1) -> None:
    url = get_settings().retry_queue_url
    body = json.dumps({"step": step, "payment_id": payment_id, "attempt": attempt})
    fifo: dict[str, str] = {}
    if url.endswith(".fifo"):
        fifo = {"MessageGroupId": payment_id, "MessageDeduplicationId": f"{payment_id}-{step}-{attempt}"}
    clients.sqs().send_message(QueueUrl=url, MessageBody=body, **fifo)


def parse_message(message: Mapping[str, Any] | str | bytes) -> tuple[str, str, int]:
    """(step, payment_id, attempt) from a message body (JSON text or an already decoded mapping)."""
    if isinstance(message, (str, bytes)):
        try:
            message = json.loads(message)
        except ValueError:
            raise InvalidRetryMessage("retry message is not JSON") from None
    if not isinstance(message, Mapping):
        raise InvalidRetryMessage("retry message is not a JSON object")
    step, payment_id, attempt = message.get("step"), message.get("payment_id"), message.get("attempt", 1)
    if step not in STATUS_FIELDS:
        raise InvalidRetryMessage(f"unknown step {str(step)[:32]!r}")
    if not isinstance(payment_id, str) or not is_payment_id(payment_id):
        raise InvalidRetryMessage("invalid payment_id")
    if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 1:
        attempt = 1
    return step, payment_id, attempt


def redrive(message: Mapping[str, Any] | str | bytes) -> dict[str, Any]:
    """Redo the step named by a retry message for the stored payment, then mark it done.

    A step already marked done is skipped, so a message delivered twice does not publish twice.
    Raises InvalidRetryMessage for messages that can never succeed; any other exception means "retry later".
    """
    step, payment_id, attempt = parse_message(message)
    log = get_logger()
    item = repository.get(payment_id)
    if item is None:
        raise InvalidRetryMessage(f"payment {payment_id} does not exist")
    field = STATUS_FIELDS[step]
    if item.get(field) == STEP_DONE:
        log.info("retry step already done", extra={"payment_id": payment_id, "step": step, "attempt": attempt})
        return {"payment_id": payment_id, "step": step, "status": STEP_DONE, "skipped": True}
    perform(step, item)
    repository.set_fields(payment_id, {field: STEP_DONE})
    log.info("retry step completed", extra={"payment_id": payment_id, "step": step, "attempt": attempt})
    return {"payment_id": payment_id, "step": step, "status": STEP_DONE, "skipped": False}
