"""POST /payments and GET /payments/{id}: validation, responses and routing."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import pytest

MISSING = object()


def body(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "amount": "12.50",
        "currency": "USD",
        "customer_id": "cus_Test1234",
        "payment_method": "pm_Card4242",
        "description": "order 1001",
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not MISSING}


def raw(**overrides: str) -> str:
    """A body as JSON text with some values spliced in verbatim (numbers as written, NaN, ...)."""
    values = {k: json.dumps(v) for k, v in body().items()}
    values.update(overrides)
    return "{" + ", ".join(f'"{key}": {value}' for key, value in values.items()) + "}"


VALID = [
    pytest.param(body(), "12.50", id="string-amount"),
    pytest.param(body(amount="0.01"), "0.01", id="min-string"),
    pytest.param(body(amount="100000.00"), "100000.00", id="max-string"),
    pytest.param(body(amount="100000"), "100000.00", id="max-no-places"),
    pytest.param(raw(amount="100000.00"), "100000.00", id="max-number"),
    pytest.param(raw(amount="0.01"), "0.01", id="min-number"),
    pytest.param(raw(amount="12"), "12.00", id="integer-number"),
    pytest.param(raw(amount="12.5"), "12.50", id="one-place-number"),
    pytest.param(raw(amount="1e2"), "100.00", id="exponent-number"),
    pytest.param(raw(amount="1.5E1"), "15.00", id="exponent-with-places"),
    pytest.param(body(amount="7.1"), "7.10", id="one-place-string"),
    pytest.param(body(currency="EUR"), "12.50", id="EUR"),
    pytest.param(body(currency="GBP"), "12.50", id="GBP"),
    pytest.param(body(description=MISSING), "12.50", id="no-description"),
    pytest.param(body(description=None), "12.50", id="null-description"),
    pytest.param(body(description="café ☕ — ok"), "12.50", id="unicode-description"),
    pytest.param(body(description="x" * 200), "12.50", id="description-200"),
    pytest.param(body(customer_id="cus_" + "A" * 32, payment_method="pm_" + "9" * 32), "12.50", id="longest-ids"),
]


@pytest.mark.parametrize(("payload", "amount"), VALID)
def test_valid_payment_is_created(api: Any, observer: Any, payload: dict[str, Any] | str, amount: str) -> None:
    items_before = observer.item_count()
    response = api.post(raw=payload) if isinstance(payload, str) else api.post(payload)

    assert response.status == 201, response.body
    sent = json.loads(payload) if isinstance(payload, str) else payload
    assert response.body == {
        "payment_id": response.body["payment_id"],
        "status": "created",
        "amount": amount,
        "currency": sent["currency"],
        "customer_id": sent["customer_id"],
        "payment_method": sent["payment_method"],
        "description": sent.get("description"),
        "created_at": response.body["created_at"],
        "region": api.region,
    }
    assert re.fullmatch(r"pay_[0-9a-f]{32}", response.body["payment_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", response.body["created_at"])
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Request-Id"]
    assert "Idempotent-Replayed" not in response.headers
    assert observer.item_count() == items_before + 1
    item = observer.item(response.body["payment_id"])
    assert item["amount"]["N"] in (amount, amount.rstrip("0").rstrip("."))
    assert item["status"] == {"S": "created"}
    assert item["audit_status"] == {"S": "done"}
    assert item["event_status"] == {"S": "done"}


def test_header_names_are_case_insensitive(api: Any) -> None:
    headers = {"idempotency-key": api.new_key(), "content-type": "application/json"}
    response = api.post(body(), key=None, headers=headers)
    assert response.status == 201


def test_payment_id_is_derived_from_the_idempotency_key(api: Any) -> None:
    key = api.new_key()
    response = api.post(body(), key=key)
    assert response.body["payment_id"] == "pay_" + hashlib.sha256(key.encode()).hexdigest()[:32]


INVALID = [
    # (payload, extra post kwargs, fields reported)
    pytest.param(body(amount=MISSING), {}, ["amount"], id="missing-amount"),
    pytest.param({}, {}, ["amount", "currency", "customer_id", "payment_method"], id="empty-object"),
    pytest.param(body(currency=MISSING, payment_method=MISSING), {}, ["currency", "payment_method"], id="missing-2"),
    pytest.param(body(tip="1.00"), {}, ["tip"], id="unknown-field"),
    pytest.param(body(amount="0"), {}, ["amount"], id="amount-0-string"),
    pytest.param(raw(amount="0"), {}, ["amount"], id="amount-0-number"),
    pytest.param(body(amount="0.00"), {}, ["amount"], id="amount-0.00"),
    pytest.param(raw(amount="-1"), {}, ["amount"], id="amount-minus-1-number"),
    pytest.param(body(amount="-1"), {}, ["amount"], id="amount-minus-1-string"),
    pytest.param(raw(amount="1.001"), {}, ["amount"], id="amount-3-places-number"),
    pytest.param(body(amount="1.001"), {}, ["amount"], id="amount-3-places-string"),
    pytest.param(raw(amount="1.100"), {}, ["amount"], id="amount-3-places-trailing-zero"),
    pytest.param(raw(amount="1e-3"), {}, ["amount"], id="amount-exponent-3-places"),
    pytest.param(body(amount="1e2"), {}, ["amount"], id="amount-exponent-string"),
    pytest.param(body(amount="abc"), {}, ["amount"], id="amount-abc"),
    pytest.param(body(amount=""), {}, ["amount"], id="amount-empty"),
    pytest.param(body(amount=" 12.50"), {}, ["amount"], id="amount-whitespace"),
    pytest.param(body(amount=True), {}, ["amount"], id="amount-true"),
    pytest.param(body(amount=None), {}, ["amount"], id="amount-null"),
    pytest.param(body(amount=["1"]), {}, ["amount"], id="amount-list"),
    pytest.param(body(amount="100000.01"), {}, ["amount"], id="amount-above-max-string"),
    pytest.param(raw(amount="100000.01"), {}, ["amount"], id="amount-above-max-number"),
    pytest.param(raw(amount="1e999999"), {}, ["amount"], id="amount-huge-exponent"),
    pytest.param(raw(amount="NaN"), {}, ["amount"], id="amount-NaN-literal"),
    pytest.param(raw(amount="Infinity"), {}, ["amount"], id="amount-Infinity-literal"),
    pytest.param(body(amount="NaN"), {}, ["amount"], id="amount-NaN-string"),
    pytest.param(body(currency="usd"), {}, ["currency"], id="currency-lowercase"),
    pytest.param(body(currency="JPY"), {}, ["currency"], id="currency-not-allowed"),
    pytest.param(body(currency=840), {}, ["currency"], id="currency-number"),
    pytest.param(body(customer_id="cus_abc"), {}, ["customer_id"], id="customer-too-short"),
    pytest.param(body(customer_id="cust_1234"), {}, ["customer_id"], id="customer-prefix"),
    pytest.param(body(customer_id="cus_1234!"), {}, ["customer_id"], id="customer-charset"),
    pytest.param(body(customer_id="cus_" + "a" * 33), {}, ["customer_id"], id="customer-too-long"),
    pytest.param(body(customer_id="cus_1234\n"), {}, ["customer_id"], id="customer-trailing-newline"),
    pytest.param(body(payment_method="pm_abc"), {}, ["payment_method"], id="pm-too-short"),
    pytest.param(body(payment_method="card_4242"), {}, ["payment_method"], id="pm-prefix"),
    pytest.param(body(payment_method=4242), {}, ["payment_method"], id="pm-number"),
    pytest.param(body(description="x" * 201), {}, ["description"], id="description-too-long"),
    pytest.param(body(description="two\nlines"), {}, ["description"], id="description-control-char"),
    pytest.param(body(description="nul\u0000"), {}, ["description"], id="description-nul"),
    pytest.param(raw(description='"lone \\ud800 surrogate"'), {}, ["description"], id="description-surrogate"),
    pytest.param(body(description=12), {}, ["description"], id="description-number"),
    pytest.param(
        body(amount="0", currency="XXX", customer_id="bad", payment_method="bad", description=1, extra=1),
        {},
        ["amount", "currency", "customer_id", "payment_method", "description", "extra"],
        id="every-field",
    ),
    pytest.param(body(), {"key": None}, ["Idempotency-Key"], id="missing-key"),
    pytest.param(body(), {"key": "short"}, ["Idempotency-Key"], id="key-too-short"),
    pytest.param(body(), {"key": "k" * 65}, ["Idempotency-Key"], id="key-too-long"),
    pytest.param(body(), {"key": "key with spaces"}, ["Idempotency-Key"], id="key-charset"),
    pytest.param(body(amount="0"), {"key": None}, ["Idempotency-Key", "amount"], id="missing-key-and-amount"),
    pytest.param(body(), {"headers": {"Content-Type": "text/plain"}}, ["Content-Type"], id="content-type"),
    pytest.param("[]", {}, ["body"], id="body-array"),
    pytest.param('"a string"', {}, ["body"], id="body-string"),
    pytest.param("42", {}, ["body"], id="body-number"),
    pytest.param("null", {}, ["body"], id="body-null"),
    pytest.param('{"amount": ', {}, ["body"], id="malformed-json"),
    pytest.param("", {}, ["body"], id="empty-body"),
    pytest.param("{" + '"amount": "1.00", ' * 2 + '"currency": "USD"}', {}, ["body"], id="duplicate-key"),
    pytest.param("[" * 100_000, {}, ["body"], id="too-large"),
    pytest.param("[" * 5000 + "]" * 5000, {}, ["body"], id="deeply-nested"),
    pytest.param(b'{"amount": "\xff12.50"}', {}, ["body"], id="non-utf8"),
    pytest.param("", {"key": None, "base64": "not*base64"}, ["Idempotency-Key", "body"], id="invalid-base64"),
]


@pytest.mark.parametrize(("payload", "options", "fields"), INVALID)
def test_invalid_request_is_rejected_and_nothing_written(
    api: Any, observer: Any, payload: Any, options: dict[str, Any], fields: list[str]
) -> None:
    before = observer.snapshot()
    options = dict(options)
    if "base64" in options:
        event = api.event("POST", "/payments", body=options.pop("base64"), headers={}, base64_encoded=True)
        response = api.invoke(event)
    elif isinstance(payload, (str, bytes)):
        response = api.post(raw=payload, **options)
    else:
        response = api.post(payload, **options)

    assert response.status == 400, response.body
    assert response.body["error"] == "validation_failed"
    assert response.field_names == fields
    assert all(entry["message"] for entry in response.body["fields"])
    assert response.body["request_id"] == response.headers["X-Request-Id"]
    assert observer.snapshot() == before


def test_null_headers_and_null_body(api: Any, observer: Any) -> None:
    before = observer.snapshot()
    response = api.invoke(api.event("POST", "/payments", body=None, headers=None))
    assert response.status == 400
    assert response.field_names == ["Idempotency-Key", "body"]
    assert observer.snapshot() == before


def test_base64_encoded_body_is_decoded(api: Any) -> None:
    encoded = base64.b64encode(json.dumps(body()).encode()).decode()
    event = api.event(
        "POST", "/payments", body=encoded, headers={"Idempotency-Key": api.new_key()}, base64_encoded=True
    )
    assert api.invoke(event).status == 201


def test_get_returns_the_created_payment(api: Any) -> None:
    created = api.post(body(description=None))
    fetched = api.get(created.body["payment_id"])
    assert fetched.status == 200
    assert fetched.raw_body == created.raw_body


def test_get_unknown_payment_is_404(api: Any) -> None:
    response = api.get("pay_" + "0" * 32)
    assert response.status == 404
    assert response.body["error"] == "not_found"


@pytest.mark.parametrize("payment_id", ["abc", "pay_XYZ", "pay_" + "g" * 32, "pay_" + "0" * 33, "pay_" + "A" * 32])
def test_get_with_malformed_id_is_400(api: Any, payment_id: str) -> None:
    response = api.get(payment_id)
    assert response.status == 400
    assert response.field_names == ["id"]


def test_get_routes_by_path_when_resource_is_a_proxy(api: Any) -> None:
    created = api.post(body())
    event = api.event("GET", f"/payments/{created.body['payment_id']}", resource="/{proxy+}")
    assert api.invoke(event).status == 200


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("PUT", "/payments", 405, "GET, POST"),
        ("DELETE", "/payments/pay_" + "0" * 32, 405, "GET"),
        ("PUT", "/payments/pay_" + "0" * 32, 405, "GET"),
        ("GET", "/refunds", 404, None),
        ("POST", "/", 404, None),
    ],
)
def test_other_routes(api: Any, method: str, path: str, status: int, allow: str | None) -> None:
    resource = "/payments/{id}" if path.startswith("/payments/") else path
    response = api.invoke(api.event(method, path, resource=resource, body="{}", headers={}))
    assert response.status == status
    assert response.headers.get("Allow") == allow
    assert response.body["error"] in ("not_found", "method_not_allowed")


@pytest.mark.parametrize("event", [{}, None, [], {"httpMethod": 7, "headers": "x", "requestContext": None}])
def test_junk_events_get_a_json_404(api: Any, event: Any) -> None:
    response = api.invoke(event)
    assert response.status == 404
    assert response.headers["X-Request-Id"]
