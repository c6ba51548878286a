"""The payment function's write home check, in-process against a private emulator's SSM (docs/write-home.md):
the home takes the write, another region answers 307 to the home's origin, a fenced region 503."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

from config.settings import Settings
from harness.api_events import api_event
from ops.core.aws_clients import client
from ops.ledger.local_lambda import import_handler
from shared.local_target import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from shared.write_home import FENCED
from tests.unit.private_emulator import private_emulator

PARAMETER = "/payments/test/primary/write-home"
ORIGINS = {
    "primary": "https://origin-primary.api.payments.example.org/v1",
    "secondary": "https://origin-secondary.api.payments.example.org/v1",
}
REGION = "us-east-1"
VALID_BODY = {"amount": "12.50", "currency": "USD", "customer_id": "cus_Test1234", "payment_method": "pm_Card4242"}


@pytest.fixture(scope="module")
def emulated() -> Iterator[Settings]:
    with private_emulator() as settings:
        yield settings


@pytest.fixture
def set_home(emulated: Settings) -> Callable[[str], None]:
    ssm = client(emulated, "ssm", REGION)

    def put(value: str) -> None:
        ssm.put_parameter(Name=PARAMETER, Value=value, Type="String", Overwrite=True)

    return put


@pytest.fixture
def handler(emulated: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The payment processor as the primary region's function: write home variables set, boto3 at the emulator."""
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_") or n == "AWS_PROFILE"]:
        monkeypatch.delenv(name)
    environment = {
        "AWS_ENDPOINT_URL": emulated.local.endpoint,
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_KEY,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "REGION": REGION,
        "PAYMENTS_TABLE": "payments-test",  # never reached: validation refuses the bodies these tests send
        "AUDIT_BUCKET": "audit-test",
        "AUDIT_KMS_KEY_ID": "alias/test",
        "EVENT_BUS_NAME": "bus-test",
        "AUDIT_RETRY_QUEUE_URL": "http://127.0.0.1/queue",
        "MAX_AMOUNT": "100000.00",
        "ALLOWED_CURRENCIES": "USD,EUR",
        "LOG_LEVEL": "WARNING",
        "WRITE_HOME_PARAMETER": PARAMETER,
        "REGION_ROLE": "primary",
        "WRITE_HOME_ORIGINS": json.dumps(ORIGINS),
        "WRITE_HOME_CACHE_SECONDS": "0",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    module = import_handler("lambda_src.payment_processor.handler")
    module.reset_runtime()
    yield module
    module.reset_runtime()


def post(handler: ModuleType, body: dict[str, Any] | None = None) -> dict[str, Any]:
    event = api_event(
        "POST",
        "/payments",
        body=json.dumps(body if body is not None else {}),
        headers={"Content-Type": "application/json", "Idempotency-Key": "key-write-home-test"},
    )
    response: dict[str, Any] = handler.handler(event, None)
    return response


def test_the_write_home_takes_the_write(handler: ModuleType, set_home: Callable[[str], None]) -> None:
    """The check lets the request through: it reaches validation (an empty body: 400, so nothing is written)."""
    set_home("primary")
    response = post(handler)
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"] == "validation_failed"


def test_another_home_is_a_307_to_its_origin_without_side_effect(
    handler: ModuleType, set_home: Callable[[str], None]
) -> None:
    set_home("secondary")
    response = post(handler, VALID_BODY)  # valid: it would be written here without the check
    assert response["statusCode"] == 307
    assert response["headers"]["Location"] == "https://origin-secondary.api.payments.example.org/v1/payments"
    body = json.loads(response["body"])
    assert (body["write_home"], body["location"]) == ("secondary", response["headers"]["Location"])
    assert response["headers"]["X-Request-Id"] == body["request_id"]


@pytest.mark.parametrize("value", [FENCED, "tertiary", None], ids=["fenced", "unknown-role", "unreadable"])
def test_a_fenced_unknown_or_unreadable_home_is_a_503_to_retry(
    handler: ModuleType, set_home: Callable[[str], None], emulated: Settings, value: str | None
) -> None:
    if value is None:
        set_home(FENCED)
        client(emulated, "ssm", REGION).delete_parameter(Name=PARAMETER)
    else:
        set_home(value)
    response = post(handler, VALID_BODY)
    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "1"
    assert json.loads(response["body"])["error"] == "write_home_switching"


def test_reads_are_served_while_fenced(handler: ModuleType, set_home: Callable[[str], None]) -> None:
    set_home(FENCED)
    response = handler.handler(api_event("GET", "/payments/nope", resource="/payments/{id}"), None)
    assert response["statusCode"] == 400  # the route ran (an invalid id), not the write home check


def test_the_value_is_trusted_for_the_cache_seconds(
    handler: ModuleType, set_home: Callable[[str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WRITE_HOME_CACHE_SECONDS", "1")
    handler.reset_runtime()
    set_home("secondary")
    assert post(handler)["statusCode"] == 307
    set_home(FENCED)
    assert post(handler)["statusCode"] == 307, "within the cache window the value read before holds"
    time.sleep(1.1)
    assert post(handler)["statusCode"] == 503, "after it, the fence is seen"


def test_without_the_write_home_variables_the_function_is_a_single_region(
    handler: ModuleType, set_home: Callable[[str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    set_home(FENCED)
    monkeypatch.delenv("WRITE_HOME_PARAMETER")
    handler.reset_runtime()
    assert post(handler)["statusCode"] == 400  # validation: no write home check


def test_an_incomplete_write_home_environment_is_a_deployment_error(
    handler: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REGION_ROLE")
    handler.reset_runtime()
    response = post(handler, VALID_BODY)
    assert response["statusCode"] == 500
    assert json.loads(response["body"])["error"] == "internal_error"


def test_an_incomplete_function_environment_is_not_mistaken_for_a_switch(
    handler: ModuleType, set_home: Callable[[str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing setting is a deployment error (500), never a 503 that clients would retry forever."""
    set_home("primary")
    monkeypatch.delenv("PAYMENTS_TABLE")
    handler.reset_runtime()
    assert post(handler, VALID_BODY)["statusCode"] == 500
