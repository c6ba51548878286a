"""The payments API's responses: the shared JSON shape (``common.responses``) and its error bodies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..common.responses import error_response, json_response

__all__ = [
    "error_response",
    "json_response",
    "method_not_allowed",
    "not_found",
    "redirect",
    "validation_failed",
    "write_home_switching",
]


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


def redirect(location: str, write_home: str, request_id: str) -> dict[str, Any]:
    """307: repeat the same request (method, body, headers) at ``location``, the write home's origin."""
    body = {"write_home": write_home, "location": location, "request_id": request_id}
    return json_response(307, body, request_id, {"Location": location})


def write_home_switching(retry_after_seconds: int, request_id: str) -> dict[str, Any]:
    return error_response(
        503,
        "write_home_switching",
        "the write home is moving to another region; retry shortly",
        request_id,
        {"Retry-After": str(retry_after_seconds)},
    )
