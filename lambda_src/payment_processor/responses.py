"""The payments API's responses: the shared JSON shape (``common.responses``) and its error bodies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..common.responses import error_response, json_response

__all__ = ["error_response", "json_response", "method_not_allowed", "not_found", "validation_failed"]


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
