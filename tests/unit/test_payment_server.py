"""The HTTP adapter's pieces without a process: its settings against the platform's facts, its route table against
the API the stacks synthesize, its routing decisions and its API key cache (tests/unit/test_payment_server_http.py
runs the server itself)."""

from __future__ import annotations

import json
import re

import pytest

from lambda_src.payment_server import routes
from lambda_src.payment_server.api_keys import MAX_AGE_SECONDS, ApiKeys
from lambda_src.payment_server.settings import (
    DEFAULT_BASE_PATH,
    DEFAULT_HEALTH_PATH,
    DEFAULT_PORT,
    SettingsError,
    load_settings,
)
from shared import processor_runtime
from shared.api_names import API_BASE_PATH
from tests.support import Synth

REQUIRED = {"API_KEY_SECRET_NAME": "payments-dev-api-keys", "REGION": "us-east-1"}
_REFERENCE = re.compile(r"\$\{aws_api_gateway_resource\.([^.]+)\.id\}")


def test_the_defaults_are_the_platforms_facts() -> None:
    """lambda_src cannot import shared (it is packaged alone): its defaults must not drift from the facts there."""
    settings = load_settings(REQUIRED)
    assert settings.port == DEFAULT_PORT == processor_runtime.PORT
    assert settings.health_path == DEFAULT_HEALTH_PATH == processor_runtime.HEALTH_PATH
    assert settings.base_path == DEFAULT_BASE_PATH == API_BASE_PATH
    assert settings.bind == "0.0.0.0"  # noqa: S104 -- what is asserted


def test_the_environment_overrides_the_defaults() -> None:
    settings = load_settings(
        {**REQUIRED, "PROCESSOR_BIND": "127.0.0.1", "PROCESSOR_PORT": "9000", "API_BASE_PATH": "/v2/"}
    )
    assert (settings.bind, settings.port, settings.base_path) == ("127.0.0.1", 9000, "v2")


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"REGION": "us-east-1"}, "API_KEY_SECRET_NAME is not set: set it to the name of the region's API key secret"),
        ({"API_KEY_SECRET_NAME": "s"}, "REGION is not set: set it (or AWS_REGION) to this deployment's region"),
        ({**REQUIRED, "PROCESSOR_PORT": "http"}, "PROCESSOR_PORT='http': set a port number from 1 to 65535"),
        ({**REQUIRED, "PROCESSOR_PORT": "70000"}, "PROCESSOR_PORT='70000': set a port number from 1 to 65535"),
        ({**REQUIRED, "API_BASE_PATH": "v1/x"}, "API_BASE_PATH='v1/x': set one path segment such as v1"),
        ({**REQUIRED, "PROCESSOR_HEALTH_PATH": "health"}, "PROCESSOR_HEALTH_PATH='health': set a path such as /health"),
    ],
)
def test_a_bad_environment_is_one_line_naming_the_variable(environment: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(environment)
    assert str(error.value) == message


def _api_routes(synth: Synth, stack: str) -> set[tuple[str, str, bool]]:
    """(method, resource path, API key required) of every method of the synthesized REST API."""
    resources = synth.resources(stack, "aws_api_gateway_resource")

    def path_of(reference: str) -> str:
        match = _REFERENCE.fullmatch(reference)
        if match is None:  # the API's root resource
            return ""
        resource = resources[match.group(1)]
        return f"{path_of(resource['parent_id'])}/{resource['path_part']}"

    methods = synth.resources(stack, "aws_api_gateway_method").values()
    return {(m["http_method"], path_of(m["resource_id"]), m["api_key_required"]) for m in methods}


def test_the_servers_routes_are_the_apis(local_dev: Synth) -> None:
    """The server answers the routes the REST API has, with the same key requirement (an API Gateway method's
    `apiKeyRequired`), nothing more."""
    synthesized = _api_routes(local_dev, "compute-primary")
    assert len(synthesized) == 4, synthesized  # POST/GET /payments, GET /payments/{id}, GET /health
    served = {(method, r.resource, r.api_key_required) for r in routes.API_ROUTES for method in r.methods}
    assert served == synthesized


def route(method: str, path: str) -> routes.Routed:
    return routes.route(method, path, base_path="v1", health_path="/health")


@pytest.mark.parametrize(
    ("method", "path", "resource", "parameters"),
    [
        ("GET", "/v1/payments", "/payments", {}),
        ("POST", "/v1/payments/", "/payments", {}),
        ("GET", "/v1/payments/pay_1", "/payments/{id}", {"id": "pay_1"}),
        ("GET", "/v1/payments/pay%5F1", "/payments/{id}", {"id": "pay_1"}),
        ("GET", "/v1/health", "/health", {}),
        ("GET", "/health", "/health", {}),
    ],
)
def test_routes(method: str, path: str, resource: str, parameters: dict[str, str]) -> None:
    routed = route(method, path)
    assert (routed.route.resource, dict(routed.path_parameters)) == (resource, parameters)
    assert routed.route.api_key_required is (resource != "/health")


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("GET", "/v2/payments", "Forbidden"),
        ("GET", "/health/", "Forbidden"),
        ("GET", "/v1/payments/a/b", "Missing Authentication Token"),
        ("HEAD", "/v1/payments", "Missing Authentication Token"),
        ("OPTIONS", "/v1/payments", "Missing Authentication Token"),
    ],
)
def test_refusals(method: str, path: str, message: str) -> None:
    with pytest.raises(routes.Refusal) as refusal:
        route(method, path)
    assert (refusal.value.status, refusal.value.message) == (403, message)


class Secret:
    """The secret's text as it changes; counts reads; raises when `broken`."""

    def __init__(self, keys: dict[str, str]) -> None:
        self.keys = keys
        self.reads = 0
        self.broken = False

    def read(self) -> str:
        self.reads += 1
        if self.broken:
            raise ConnectionError("secrets manager unreachable")
        return json.dumps({"keys": self.keys, "current": next(iter(self.keys))})


def keys_with_clock(secret: Secret) -> tuple[ApiKeys, list[float]]:
    now = [1000.0]
    return ApiKeys(secret.read, clock=lambda: now[0]), now


def test_keys_are_read_once_a_minute_so_a_rotation_arrives_within_it() -> None:
    secret = Secret({"a": "value-a"})
    keys, now = keys_with_clock(secret)
    assert keys.accepts("value-a")
    assert not keys.accepts("value-b")
    secret.keys = {"b": "value-b"}  # rotated and the old key retired
    now[0] += MAX_AGE_SECONDS - 1
    assert keys.accepts("value-a"), "within the minute the values read before hold"
    now[0] += 1
    assert keys.accepts("value-b")
    assert not keys.accepts("value-a")
    assert secret.reads == 2
    assert MAX_AGE_SECONDS == 60


def test_an_unreadable_secret_keeps_the_values_read_before_but_fails_without_any() -> None:
    secret = Secret({"a": "value-a"})
    keys, now = keys_with_clock(secret)
    assert keys.accepts("value-a")
    secret.broken = True
    now[0] += MAX_AGE_SECONDS
    assert keys.accepts("value-a")
    fresh, _ = keys_with_clock(secret)
    with pytest.raises(ConnectionError):
        fresh.accepts("value-a")


@pytest.mark.parametrize("text", ['{"keys": {}}', '{"current": "a"}', '{"keys": ["value-a"]}'])
def test_a_secret_without_keys_is_an_error(text: str) -> None:
    keys = ApiKeys(lambda: text)
    with pytest.raises(ValueError, match="holds no keys"):
        keys.accepts("value-a")


def test_the_empty_key_is_never_accepted() -> None:
    keys = ApiKeys(lambda: json.dumps({"keys": {"a": "", "b": "value-b"}}))
    assert not keys.accepts("")


def test_the_listen_backlog_holds_a_burst_of_connections() -> None:
    """socketserver's default backlog (5) resets connections that arrive together (16 concurrent retries of one key
    did, under load); the server asks for the system's maximum."""
    from lambda_src.payment_server.server import PaymentServer  # noqa: PLC0415

    assert PaymentServer.request_queue_size >= 128
