"""Lambda entry points of the payments API.

Handlers (as configured on the functions, ``lambda_src.payment_processor.handler.<entry>``):
    handler        API Gateway REST proxy events (POST /payments, GET /payments?customer_id=, GET /payments/{id})
    retry_handler  SQS events from the retry queue of the ledger/audit/event steps
"""

from __future__ import annotations

from typing import Any

from . import app


def handler(event: Any, context: Any) -> dict[str, Any]:
    """API Gateway (REST, payload v1) proxy integration."""
    return app.handle_api(event, context)


def retry_handler(event: Any, context: Any) -> dict[str, Any]:
    """SQS event source on the retry queue; returns partial batch failures (ReportBatchItemFailures)."""
    return app.handle_retry(event, context)


def reset_runtime() -> None:
    """Forget settings, boto3 clients and the ledger connection (the next invocation re-reads the environment)."""
    app.reset_runtime()
