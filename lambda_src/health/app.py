"""GET /health: 200 when the region's table and bucket answer, 503 ("degraded") when any does not."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from typing import Any

from ..common.logging_setup import log_context
from ..common.responses import error_response, internal_error, json_response, request_id_of
from . import config
from .checks import OK, run_checks
from .runtime import get_logger, reset_clients

HEALTH_PATH = re.compile(r"/health/?")
NO_STORE = {"Cache-Control": "no-store"}  # a cached health answer would hide an outage


def _route_error(event: Any, request_id: str) -> dict[str, Any] | None:
    """404/405 for API Gateway events that are not GET /health; direct invocations are checked as-is."""
    if not isinstance(event, Mapping) or not event.get("httpMethod"):
        return None
    # `resource` is the API's own template; through a custom domain `path` carries the base path (`/v1/health`).
    path = event.get("resource") or event.get("path")
    if isinstance(path, str) and path and not HEALTH_PATH.fullmatch(path):
        return error_response(404, "not_found", "no such route", request_id)
    if event.get("httpMethod") != "GET":
        return error_response(405, "method_not_allowed", "method not allowed", request_id, {"Allow": "GET"})
    return None


def _settings() -> config.Settings | None:
    try:
        return config.get_settings()
    except config.ConfigError:
        get_logger().exception("health check misconfigured")
        return None


def handle_health(event: Any, context: Any) -> dict[str, Any]:
    """Every answer, errors included, carries ``Cache-Control: no-store``."""
    request_id = request_id_of(event, context)
    routed = _route_error(event, request_id)
    return _no_store(routed) if routed is not None else check(request_id)


def check(request_id: str) -> dict[str, Any]:
    """GET /health's answer, whichever adapter received it (the Lambda handler, the HTTP server)."""
    return _no_store(_answer(request_id))


def _no_store(response: dict[str, Any]) -> dict[str, Any]:
    response["headers"].update(NO_STORE)
    return response


def _answer(request_id: str) -> dict[str, Any]:
    log = get_logger()
    region = config.region_from(os.environ) or "unknown"
    with log_context(request_id=request_id, region=region, route="GET /health"):
        try:
            checks = run_checks(_settings())
            healthy = all(result == OK for result in checks.values())
            status = 200 if healthy else 503
            body = {"status": "ok" if healthy else "degraded", "region": region, "checks": checks}
            level = logging.INFO if healthy else logging.ERROR
            log.log(level, "health checked", extra={"status": status, "checks": checks})
            return json_response(status, body, request_id)
        except Exception:
            log.exception("unhandled error", extra={"status": 500})
            return internal_error(request_id)


def reset_runtime() -> None:
    reset_clients()
    config.reset()
