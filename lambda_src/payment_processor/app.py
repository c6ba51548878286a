"""Invocation wrappers: request id, log context, and the last-resort 500 for the API; SQS batches for retries."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from ..common.responses import internal_error, request_id_of
from ..ledger import connection as ledger_connection
from . import clients, config, write_home
from .api import dispatch, resolve
from .logging_setup import bind, get_logger, log_context
from .request import ApiRequest, parse_event
from .retry import InvalidRetryMessage, redrive


def _region() -> str:
    return os.environ.get("REGION") or os.environ.get("AWS_REGION") or "unknown"


def handle_api(event: Any, context: Any) -> dict[str, Any]:
    request_id = request_id_of(event, context)
    return answer(request_id, lambda: parse_event(event, request_id))


def answer(request_id: str, build: Callable[[], ApiRequest]) -> dict[str, Any]:
    """One API request, whichever adapter received it (the Lambda handler, the HTTP server): `build` makes the
    request inside the log context, so a failure there is logged and answered 500 like any other."""
    log = get_logger()
    with log_context(request_id=request_id, region=_region()):
        try:
            request = build()
            bind(route=f"{request.method} {resolve(request) or request.path[:128]}")
            response = dispatch(request)
            log.info("request completed", extra={"status": response["statusCode"]})
            return response
        except Exception:
            log.exception("unhandled error", extra={"status": 500})
            return internal_error(request_id)


def _redrive_record(record: Any) -> str | None:
    """Handle one SQS record; return its message id if it should stay on the queue for another attempt."""
    log = get_logger()
    record = record if isinstance(record, Mapping) else {}
    message_id = str(record.get("messageId", ""))
    attributes = record.get("attributes")
    receive_count = attributes.get("ApproximateReceiveCount") if isinstance(attributes, Mapping) else None
    try:
        result = redrive(record.get("body") or "")
    except InvalidRetryMessage:
        log.exception("dropping retry message that can never succeed", extra={"message_id": message_id})
        return None
    except Exception:
        log.exception(
            "redrive failed; message will be retried", extra={"message_id": message_id, "receive_count": receive_count}
        )
        return message_id
    log.info(
        "retry message handled",
        extra={"message_id": message_id, "payment_id": result["payment_id"], "step": result["step"]},
    )
    return None


def handle_retry(event: Any, context: Any) -> dict[str, Any]:
    """Redrive each SQS record; failures are reported per message (ReportBatchItemFailures)."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    failures: list[dict[str, str]] = []
    with log_context(request_id=getattr(context, "aws_request_id", None), region=_region(), route="retry"):
        for record in records if isinstance(records, list) else []:
            failed = _redrive_record(record)
            if failed is not None:
                failures.append({"itemIdentifier": failed})
    return {"batchItemFailures": failures}


def reset_runtime() -> None:
    clients.reset()
    config.reset()
    write_home.reset()
    ledger_connection.reset()
