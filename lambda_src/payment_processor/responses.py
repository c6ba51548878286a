"""API Gateway proxy responses (JSON bodies, request id header on every response)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

JSON_CONTENT_TYPE = "application/json"


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


def validation_failed(fields: Sequence[tuple[str, str]], request_id: str) -> dict[str, Any]:
    body = {
        "error": "validation_failed",
        "message": "the request is invalid",
        "fields": [{"field": field, "message": message} for field, message in fields],
        "request_id": request_id,
    }
    return json_response(400, body, request_id)


def not_found(message: str, request_id: str) -> dict[str, Any]:
    return error_response(404, "not_found", message, request_id)


def method_not_allowed(allowed: Sequence[str], request_id: str) -> dict[str, Any]:
    return error_response(405, "method_not_allowed", "method not allowed", request_id, {"Allow": ", ".join(allowed)})


def internal_error(request_id: str) -> dict[str, Any]:
    return error_response(500, "internal_error", "internal error", request_id)
