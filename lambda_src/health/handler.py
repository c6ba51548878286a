"""Lambda entry point of the health check (handler ``lambda_src.health.handler.handler``, GET /health)."""

from __future__ import annotations

from typing import Any

from . import app


def handler(event: Any, context: Any) -> dict[str, Any]:
    """API Gateway (REST, payload v1) proxy integration for GET /health."""
    return app.handle_health(event, context)


def reset_runtime() -> None:
    """Forget cached settings and boto3 clients (the next invocation re-reads the environment)."""
    app.reset_runtime()
