"""API Gateway proxy responses with JSON bodies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def json_response(
    status: int, body: Mapping[str, Any], request_id: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {
            "Content-Type": "application/json",
            "X-Request-Id": request_id,
            "Cache-Control": "no-store",
            **(headers or {}),
        },
        "body": json.dumps(body),
    }


def error_response(
    status: int, error: str, message: str, request_id: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    return json_response(status, {"error": error, "message": message, "request_id": request_id}, request_id, headers)
