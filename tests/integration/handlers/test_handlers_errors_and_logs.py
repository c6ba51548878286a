"""Internal errors are opaque 500s; logs are JSON lines with context and without sensitive data."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

SECRET = "arn:aws:dynamodb:secret-internal-detail"


def _explode(*_: Any, **__: Any) -> None:
    raise RuntimeError(f"boom {SECRET}")


def _assert_opaque_500(response: Any) -> None:
    assert response.status == 500
    assert response.body == {
        "error": "internal_error",
        "message": "internal error",
        "request_id": response.headers["X-Request-Id"],
    }
    assert SECRET not in response.raw_body
    assert "Traceback" not in response.raw_body


def test_unexpected_exception_on_create_is_an_opaque_500(
    api: Any, observer: Any, payment_modules: dict[str, Any], monkeypatch: pytest.MonkeyPatch, log_lines: Any
) -> None:
    monkeypatch.setattr(payment_modules["repository"], "insert", _explode)
    before = observer.snapshot()
    log_lines()

    response = api.post(api.valid_body())

    _assert_opaque_500(response)
    assert observer.snapshot() == before
    (error,) = [line for line in log_lines() if line["level"] == "ERROR"]
    assert error["message"] == "unhandled error"
    assert SECRET in error["exception"]
    assert error["request_id"] == response.headers["X-Request-Id"]
    assert error["status"] == 500


def test_dynamodb_error_on_get_is_an_opaque_500(
    api: Any, payment_modules: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    class FailingDynamo:
        def get_item(self, **_: Any) -> None:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": SECRET}}, "GetItem")

    monkeypatch.setattr(payment_modules["clients"], "dynamodb", FailingDynamo)
    _assert_opaque_500(api.get("pay_" + "1" * 32))


def test_missing_configuration_is_an_opaque_500(api: Any, observer: Any) -> None:
    api.configure(PAYMENTS_TABLE=None, MAX_AMOUNT="lots")
    before = observer.snapshot()
    response = api.post(api.valid_body())
    _assert_opaque_500(response)
    assert "PAYMENTS_TABLE" not in response.raw_body
    assert observer.snapshot() == before


def test_log_lines_carry_context_and_no_sensitive_data(api: Any, log_lines: Any) -> None:
    log_lines()
    key = api.new_key()
    response = api.post(api.valid_body(payment_method="pm_SensitiveToken99", description="secret-note"), key=key)
    assert response.status == 201

    lines = log_lines()
    assert lines
    for line in lines:
        assert line["request_id"] == response.headers["X-Request-Id"]
        assert line["region"] == api.region
        assert line["route"] == "POST /payments"
        assert line["payment_id"] == response.body["payment_id"]
        assert {"level", "message", "timestamp"} <= set(line)
    text = "\n".join(map(str, lines))
    for sensitive in ("pm_SensitiveToken99", "SensitiveToken", "secret-note", key):
        assert sensitive not in text
    assert lines[-1]["message"] == "request completed"
    assert lines[-1]["status"] == 201
    assert any(line.get("payment_method_prefix") == "pm_" for line in lines)


def test_validation_failures_are_logged_by_field_name_only(api: Any, log_lines: Any) -> None:
    log_lines()
    response = api.post(api.valid_body(customer_id="cus_!!leaky-value!!"))
    assert response.status == 400
    text = "\n".join(map(str, log_lines()))
    assert "customer_id" in text
    assert "leaky-value" not in text
