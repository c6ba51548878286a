"""GET /health: 200 when the table and bucket answer, 503 "degraded" naming the failing check."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

Health = Callable[..., tuple[int, dict[str, str], dict[str, Any]]]


@pytest.fixture
def health(lambda_env: Any, health_handler: Any, deployed_region: dict[str, str]) -> Health:
    def call(
        method: str = "GET", path: str = "/health", event: Any = ...
    ) -> tuple[int, dict[str, Any], dict[str, Any]]:
        if event is ...:
            event = {
                "resource": path,
                "path": path,
                "httpMethod": method,
                "headers": None,
                "requestContext": {"requestId": f"req-{uuid.uuid4()}"},
                "body": None,
                "isBase64Encoded": False,
            }
        raw = health_handler.handler(event, None)
        return raw["statusCode"], raw["headers"], json.loads(raw["body"])

    return call


def test_healthy_region(health: Health, deployed_region: dict[str, str]) -> None:
    status, headers, body = health()
    assert status == 200
    assert body == {"status": "ok", "region": deployed_region["region"], "checks": {"table": "ok", "bucket": "ok"}}
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Request-Id"].startswith("req-")
    assert headers["Cache-Control"] == "no-store"


def test_missing_bucket_is_degraded(health: Health, lambda_env: Any) -> None:
    lambda_env(AUDIT_BUCKET=f"missing-{uuid.uuid4().hex[:8]}")
    status, _, body = health()
    assert status == 503
    assert body["status"] == "degraded"
    assert body["checks"] == {"table": "ok", "bucket": "error"}
    assert set(body) == {"status", "region", "checks"}


def test_missing_table_is_degraded_without_details(health: Health, lambda_env: Any) -> None:
    lambda_env(PAYMENTS_TABLE=f"missing-{uuid.uuid4().hex[:8]}")
    status, _, body = health()
    assert status == 503
    assert body["checks"] == {"table": "error", "bucket": "ok"}
    assert "ResourceNotFound" not in json.dumps(body)


def test_unreachable_endpoint_is_degraded(health: Health, lambda_env: Any) -> None:
    lambda_env(AWS_ENDPOINT_URL="http://127.0.0.1:9")  # discard port: connection refused
    status, _, body = health()
    assert status == 503
    assert body["checks"] == {"table": "error", "bucket": "error"}


def test_missing_configuration_is_degraded(health: Health, lambda_env: Any) -> None:
    lambda_env(PAYMENTS_TABLE=None)
    status, _, body = health()
    assert status == 503
    assert body["checks"] == {"table": "error", "bucket": "error"}


def test_direct_invocation_is_checked(health: Health) -> None:
    assert health(event={})[0] == 200


@pytest.mark.parametrize(("method", "path", "status"), [("POST", "/health", 405), ("GET", "/payments", 404)])
def test_other_routes(health: Health, method: str, path: str, status: int) -> None:
    answered, headers, _ = health(method, path)
    assert answered == status
    assert headers["Cache-Control"] == "no-store", "errors are never cached either"
