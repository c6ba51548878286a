"""API Gateway proxy responses: JSON bodies, the request id header on every response, one error shape."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

JSON_CONTENT_TYPE = "application/json"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def request_id_of(event: Any, context: Any) -> str:
    """API Gateway's request id, else the Lambda request id, else a fresh one (never raises)."""
    candidates: list[Any] = []
    if isinstance(event, Mapping):
        request_context = event.get("requestContext")
        if isinstance(request_context, Mapping):
            candidates.append(request_context.get("requestId"))
    candidates.append(getattr(context, "aws_request_id", None))
    for candidate in candidates:
        if isinstance(candidate, str) and _REQUEST_ID.fullmatch(candidate):
            return candidate
    return str(uuid.uuid4())


def json_response(
    status: int, body: Mapping[str, Any], request_id: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": JSON_CONTENT_TYPE, "X-Request-Id": request_id, **(headers or {})},
        "body": json.dumps(body),
    }


def error_response(
    status: int, error: str, message: str, request_id: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    return json_response(status, {"error": error, "message": message, "request_id": request_id}, request_id, headers)


def internal_error(request_id: str) -> dict[str, Any]:
    return error_response(500, "internal_error", "internal error", request_id)
