"""GET /health: 200 when the region's table and bucket answer, 503 ("degraded") when any does not."""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Mapping
from typing import Any

from . import clients, config, responses
from .checks import OK, run_checks
from .logging_setup import get_logger, log_context

HEALTH_PATH = re.compile(r"/health/?")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def _request_id(event: Any, context: Any) -> str:
    request_context = event.get("requestContext") if isinstance(event, Mapping) else None
    candidates = [
        request_context.get("requestId") if isinstance(request_context, Mapping) else None,
        getattr(context, "aws_request_id", None),
    ]
    for candidate in candidates:
        if isinstance(candidate, str) and _REQUEST_ID.fullmatch(candidate):
            return candidate
    return str(uuid.uuid4())


def _route_error(event: Any, request_id: str) -> dict[str, Any] | None:
    """404/405 for API Gateway events that are not GET /health; direct invocations are checked as-is."""
    if not isinstance(event, Mapping) or not event.get("httpMethod"):
        return None
    path = event.get("path")
    if isinstance(path, str) and path and not HEALTH_PATH.fullmatch(path):
        return responses.error_response(404, "not_found", "no such route", request_id)
    if event.get("httpMethod") != "GET":
        return responses.error_response(405, "method_not_allowed", "method not allowed", request_id, {"Allow": "GET"})
    return None


def _settings() -> config.Settings | None:
    try:
        return config.get_settings()
    except config.ConfigError:
        get_logger().exception("health check misconfigured")
        return None


def handle_health(event: Any, context: Any) -> dict[str, Any]:
    request_id = _request_id(event, context)
    log = get_logger()
    region = config.region_from(os.environ) or "unknown"
    with log_context(request_id=request_id, region=region, route="GET /health"):
        try:
            routed = _route_error(event, request_id)
            if routed is not None:
                return routed
            checks = run_checks(_settings())
            healthy = all(result == OK for result in checks.values())
            status = 200 if healthy else 503
            body = {"status": "ok" if healthy else "degraded", "region": region, "checks": checks}
            level = logging.INFO if healthy else logging.ERROR
            log.log(level, "health checked", extra={"status": status, "checks": checks})
            return responses.json_response(status, body, request_id)
        except Exception:
            log.exception("unhandled error", extra={"status": 500})
            return responses.error_response(500, "internal_error", "internal error", request_id)


def reset_runtime() -> None:
    clients.reset()
    config.reset()
