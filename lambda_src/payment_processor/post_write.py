"""After a payment is written: run the ledger, audit and event steps, queue failed ones, record the outcome.

A failure here never fails the payment (it is already stored): the step goes to the retry queue, and
if even that fails it is logged as an error and marked ``pending`` on the item.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import repository, retry
from .logging_setup import get_logger
from .payments import STEP_DONE, STEP_PENDING, STEP_RETRY_QUEUED
from .steps import STATUS_FIELDS, STEPS, perform


def _record(payment_id: str, statuses: Mapping[str, str]) -> None:
    log = get_logger()
    try:
        repository.set_fields(payment_id, statuses)
    except Exception:
        log.exception("could not record step status", extra={"payment_id": payment_id, "statuses": dict(statuses)})


def complete(item: Mapping[str, Any]) -> dict[str, str]:
    """Run every step for a freshly written item; return step -> final status."""
    log = get_logger()
    payment_id: str = item["payment_id"]
    outcome: dict[str, str] = {}
    for step in STEPS:
        try:
            perform(step, item)
            outcome[step] = STEP_DONE
        except Exception:
            log.exception("payment step failed; queueing retry", extra={"payment_id": payment_id, "step": step})
            outcome[step] = STEP_RETRY_QUEUED
    # Record before queueing, so a fast retry consumer's "done" is never overwritten by "retry_queued".
    _record(payment_id, {STATUS_FIELDS[step]: status for step, status in outcome.items()})
    for step in [step for step, status in outcome.items() if status == STEP_RETRY_QUEUED]:
        try:
            retry.enqueue(step, payment_id)
        except Exception:
            log.exception("could not queue retry; step left pending", extra={"payment_id": payment_id, "step": step})
            outcome[step] = STEP_PENDING
            _record(payment_id, {STATUS_FIELDS[step]: STEP_PENDING})
    return outcome
