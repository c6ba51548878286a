"""The HTTP adapter as a real process on 127.0.0.1 against a private emulator's table, bucket, key, bus, queue and API
key secret and a ledger database on the local PostgreSQL: the functions' own handler tests (their route, bad-input
and idempotency tables and assertions, imported below) pass over real HTTP, through the API's base path and with a
key; then what API Gateway answered itself, which the server now answers (refusals, keys), health, and SIGTERM."""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from bench.load import Planned, http_call
from harness.payment_server import RunningServer, running_server
from lambda_src.ledger import migrate
from ops.local import postgres
from shared.api_names import API_BASE_PATH
from shared.processor_runtime import HEALTH_PATH
from stacks.data.payments_table import HASH_KEY, INDEXES
from tests.integration.handlers.conftest import Observer, PaymentsApi, Response, function_environment, observing

# The functions' handler tests, collected here again with this module's `api`, `observer` and `deployed_region`.
from tests.integration.handlers.test_handlers_idempotency import (  # noqa: F401
    test_audit_object_is_encrypted_with_the_audit_key_and_matches_the_payment,
    test_concurrent_retries_of_one_key_write_exactly_once,
    test_event_describes_the_payment,
    test_replay_matches_the_normalised_request_not_its_spelling,
    test_replay_returns_the_original_response_and_writes_nothing,
    test_same_key_with_a_different_request_is_a_conflict,
)
from tests.integration.handlers.test_handlers_list_payments import (  # noqa: F401
    test_a_bad_query_is_400_naming_each_parameter,
    test_a_customer_without_payments_gets_an_empty_list,
    test_lists_only_the_customers_payments_newest_first,
    test_pages_cover_every_payment_once,
)
from tests.integration.handlers.test_handlers_payments_api import (  # noqa: F401
    test_base64_encoded_body_is_decoded,
    test_get_returns_the_created_payment,
    test_get_unknown_payment_is_404,
    test_get_with_malformed_id_is_400,
    test_header_names_are_case_insensitive,
    test_invalid_request_is_rejected_and_nothing_written,
    test_null_headers_and_null_body,
    test_payment_id_is_derived_from_the_idempotency_key,
    test_valid_payment_is_created,
)
from tests.unit.conftest import APP_ROLE, ledger_database_on
from tests.unit.private_emulator import private_emulator

KEYS = {"key-2026-01": f"value-{uuid.uuid4().hex}", "key-2026-02": f"value-{uuid.uuid4().hex}"}
SECRET_NAME = "payments-test-api-keys"


def _resources(endpoint: str, region: str) -> dict[str, str]:
    """What the data and compute stacks create for the processor, made with boto3 (names as the handler tests')."""
    session = boto3.session.Session(region_name=region, aws_access_key_id="test", aws_secret_access_key="test")

    def aws(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint)  # type: ignore[call-overload]

    suffix = uuid.uuid4().hex[:8]
    key_arn = aws("kms").create_key(Description="audit")["KeyMetadata"]["Arn"]
    table, bucket = f"payments-{suffix}", f"audit-{suffix}"
    attributes = sorted({HASH_KEY, *(name for pair in INDEXES.values() for name in pair)})
    aws("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": HASH_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in attributes],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": hash_key, "KeyType": "HASH"},
                    {"AttributeName": range_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, (hash_key, range_key) in INDEXES.items()
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    s3 = aws("s3")
    s3.create_bucket(
        Bucket=bucket,
        **({} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}),
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    bus = aws("events").create_event_bus(Name=f"payments-{suffix}")["EventBusArn"].rsplit("/", 1)[1]
    queue_url = aws("sqs").create_queue(QueueName=f"retry-{suffix}")["QueueUrl"]
    aws("secretsmanager").create_secret(
        Name=SECRET_NAME, SecretString=json.dumps({"keys": KEYS, "current": "key-2026-02"})
    )
    return {
        "region": region,
        "table": table,
        "bucket": bucket,
        "kms_key_id": key_arn,
        "bus": bus,
        "retry_queue_url": queue_url,
        "endpoint": endpoint,
    }


@pytest.fixture(scope="module")
def deployed_region(postgres_server: postgres.Instance) -> Iterator[dict[str, str]]:
    with private_emulator() as settings:
        names = _resources(settings.local.endpoint, settings.regions.primary)
        with ledger_database_on(postgres_server) as ledger:
            migrate.apply(ledger.connect(), writer_role=APP_ROLE)
            names["ledger_hosts"] = f"{ledger.server.host}:{ledger.server.port}"
            names["ledger_database"] = ledger.name
            yield names


def server_environment(names: Mapping[str, str]) -> dict[str, str]:
    """What an instance's environment file holds for these resources (boto3 at the emulator)."""
    return {
        **function_environment(names),
        "LEDGER_WRITER_HOSTS": names["ledger_hosts"],
        "LEDGER_DATABASE": names["ledger_database"],
        "LEDGER_USER": APP_ROLE,
        "LEDGER_TLS": "disable",
        "API_KEY_SECRET_NAME": SECRET_NAME,
        "API_BASE_PATH": API_BASE_PATH,
        "PROCESSOR_HEALTH_PATH": HEALTH_PATH,
    }


@pytest.fixture(scope="module")
def server(deployed_region: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    log = tmp_path_factory.mktemp("payment-server") / "server.log"
    with running_server(server_environment(deployed_region), log) as running:
        yield running


@pytest.fixture(scope="module")
def observer(deployed_region: dict[str, str]) -> Iterator[Observer]:
    with observing(deployed_region) as watching:
        yield watching


def send(
    server: RunningServer,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        answer = connection.getresponse()
        text = answer.read().decode()
        raw = {"statusCode": answer.status, "headers": dict(answer.getheaders()), "body": text}
    finally:
        connection.close()
    return Response(answer.status, raw["headers"], json.loads(text) if text else {}, text, raw)


class HttpPaymentsApi(PaymentsApi):
    """The handler tests' client, sending each event's request over HTTP as a client would through the custom
    domain: `/v1` + the route's path, the query, the headers with an API key, the body's bytes."""

    def __init__(self, server: RunningServer, names: Mapping[str, str], key: str) -> None:
        self.server, self.names, self.region, self.key = server, names, names["region"], key

    def invoke(self, event: Any) -> Response:
        body = event.get("body")
        if event.get("isBase64Encoded"):
            try:
                body = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError):
                pytest.skip("a body flagged base64 that is not base64 exists only in an event, not in HTTP")
        query = urlencode(event.get("queryStringParameters") or {})
        path = f"/{API_BASE_PATH}{event['path']}" + (f"?{query}" if query else "")
        headers = {**(event.get("headers") or {}), "x-api-key": self.key}
        payload = body.encode() if isinstance(body, str) else body
        return send(self.server, event["httpMethod"], path, body=payload, headers=headers)


@pytest.fixture
def api(server: RunningServer, deployed_region: dict[str, str]) -> HttpPaymentsApi:
    return HttpPaymentsApi(server, deployed_region, KEYS["key-2026-02"])


# -- what API Gateway answered itself --------------------------------------------------------------------------------

PAYMENT = "/payments/pay_" + "0" * 32


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("PUT", "/v1/payments", "Missing Authentication Token"),
        ("DELETE", f"/v1{PAYMENT}", "Missing Authentication Token"),
        ("PATCH", f"/v1{PAYMENT}", "Missing Authentication Token"),
        ("GET", "/v1/refunds", "Missing Authentication Token"),
        ("GET", f"/v1{PAYMENT}/refunds", "Missing Authentication Token"),
        ("POST", "/v1/", "Missing Authentication Token"),
        ("GET", "/v1", "Missing Authentication Token"),
        ("POST", "/v1/health", "Missing Authentication Token"),
        ("GET", "/v2/payments", "Forbidden"),
        ("GET", "/payments", "Forbidden"),
        ("GET", "/", "Forbidden"),
        ("POST", HEALTH_PATH, "Missing Authentication Token"),
    ],
)
def test_unmapped_routes_are_refused_as_api_gateway_refuses_them(
    server: RunningServer, observer: Observer, method: str, path: str, message: str
) -> None:
    """API Gateway's MISSING_AUTHENTICATION_TOKEN gateway response (403) is its answer "when the client attempts to
    invoke an unsupported API method or resource", before any key check
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html); a path
    outside the custom domain's base path mappings is 403 Forbidden. ops/client/gateway.py emulates the same."""
    before = observer.snapshot()
    response = send(server, method, path, body=b"{}", headers={"x-api-key": KEYS["key-2026-02"]})
    assert (response.status, response.body) == (403, {"message": message})
    assert response.headers["Content-Type"] == "application/json"
    assert observer.snapshot() == before


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-api-key": ""}, {"x-api-key": "value-unknown"}, {"x-api-key": KEYS["key-2026-02"][:-1]}],
    ids=["missing", "empty", "unknown", "prefix"],
)
@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/v1/payments"), ("GET", "/v1/payments"), ("GET", f"/v1{PAYMENT}")]
)
def test_a_missing_or_wrong_key_is_forbidden(
    server: RunningServer, observer: Observer, headers: dict[str, str], method: str, path: str
) -> None:
    """A method that requires an API key answers 403 {"message": "Forbidden"} without one, or with a value that is
    not a key of the stage's usage plans (INVALID_API_KEY, 403: "when an invalid API key is submitted for a method
    requiring an API key", https://docs.aws.amazon.com/apigateway/latest/developerguide/
    supported-gateway-response-types.html); here the keys are the API key secret's values."""
    before = observer.snapshot()
    body = json.dumps(PaymentsApi.valid_body()).encode()
    sent = {"Content-Type": "application/json", "Idempotency-Key": PaymentsApi.new_key(), **headers}
    response = send(server, method, path, body=body if method == "POST" else None, headers=sent)
    assert (response.status, response.body) == (403, {"message": "Forbidden"})
    assert observer.snapshot() == before


@pytest.mark.parametrize("key_id", sorted(KEYS))
def test_every_key_in_the_secret_is_accepted(server: RunningServer, key_id: str) -> None:
    """During a rotation the secret holds the old and the new key: both are accepted, as both are API Gateway keys."""
    response = send(server, "GET", f"/v1{PAYMENT}", headers={"X-API-Key": KEYS[key_id]})
    assert response.status == 404
    assert response.body["error"] == "not_found"


@pytest.mark.parametrize("path", [HEALTH_PATH, f"/{API_BASE_PATH}/health"])
def test_health_needs_no_key_and_checks_the_table_and_bucket(
    server: RunningServer, deployed_region: dict[str, str], path: str
) -> None:
    response = send(server, "GET", path)
    assert response.status == 200, response.body
    assert response.body == {
        "status": "ok",
        "region": deployed_region["region"],
        "checks": {"table": "ok", "bucket": "ok"},
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Request-Id"]


def _log_lines(server: RunningServer) -> list[dict[str, Any]]:
    return [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]


def test_each_request_is_logged_with_its_request_id_and_no_key(server: RunningServer, api: HttpPaymentsApi) -> None:
    created = api.post(api.valid_body())
    refused = send(server, "GET", "/v1/payments", headers={"x-api-key": "value-unknown"})
    lines = _log_lines(server)
    (completed,) = [
        line
        for line in lines
        if line.get("request_id") == created.headers["X-Request-Id"] and line["message"] == "request completed"
    ]
    assert (completed["status"], completed["route"], completed["region"]) == (201, "POST /payments", api.region)
    (refusal,) = [line for line in lines if line.get("request_id") == refused.headers["X-Request-Id"]]
    assert (refusal["status"], refusal["reason"], refusal["route"]) == (403, "Forbidden", "GET /v1/payments")
    text = server.log.read_text()
    assert all(value not in text for value in KEYS.values())
    assert "value-unknown" not in text


@pytest.mark.parametrize(
    ("length", "status", "message"),
    [(str(10 * 1024 * 1024 + 1), 413, "Request Too Long"), ("-1", 400, "Bad Request"), ("ten", 400, "Bad Request")],
    ids=["above-api-gateways-10-mb", "negative", "not-a-number"],
)
def test_a_body_the_server_will_not_read_is_refused(
    server: RunningServer, length: str, status: int, message: str
) -> None:
    """A REST API's payload limit is 10 MB (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html);
    above it API Gateway answers its REQUEST_TOO_LARGE gateway response, 413 (supported-gateway-response-types)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.putrequest("POST", "/v1/payments")
        connection.putheader("Content-Length", length)
        connection.endheaders()
        answer = connection.getresponse()
        assert (answer.status, json.loads(answer.read())) == (status, {"message": message})
        assert answer.getheader("Connection") == "close"
    finally:
        connection.close()


def test_sigterm_finishes_the_request_in_flight_then_exits_0(
    deployed_region: dict[str, str], tmp_path: Path, observer: Observer
) -> None:
    """systemd stops the unit with SIGTERM: the server stops accepting, answers what it already received, exits 0."""
    with running_server(server_environment(deployed_region), tmp_path / "server.log") as own:
        key = PaymentsApi.new_key()
        body = json.dumps(PaymentsApi.valid_body()).encode()
        connection = http.client.HTTPConnection("127.0.0.1", own.port, timeout=60)
        # Headers now, the body after the signal: the request is in flight while the server is told to stop.
        connection.putrequest("POST", "/v1/payments")
        for name, value in {
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            "x-api-key": KEYS["key-2026-01"],
            "Content-Length": str(len(body)),
        }.items():
            connection.putheader(name, value)
        connection.endheaders()
        time.sleep(0.5)  # the server has read the request line and headers and waits for the body
        own.process.send_signal(15)
        time.sleep(0.5)
        connection.send(body)
        answer = connection.getresponse()
        payload = json.loads(answer.read())
        connection.close()
        assert answer.status == 201, payload
        assert answer.getheader("Connection") == "close"
        assert own.process.wait(30) == 0
        assert observer.item(payload["payment_id"]) is not None
        with pytest.raises(ConnectionRefusedError):
            send(own, "GET", HEALTH_PATH)
    assert any(line["message"] == "stopped" and line["drained"] is True for line in _log_lines(own))


def test_a_server_without_its_key_secret_setting_refuses_to_start(
    tmp_path: Path, deployed_region: dict[str, str]
) -> None:
    environment = {k: v for k, v in server_environment(deployed_region).items() if k != "API_KEY_SECRET_NAME"}
    refused = pytest.raises(RuntimeError, match="exited 2: payment_server: API_KEY_SECRET_NAME is not set")
    with refused, running_server(environment, tmp_path / "server.log"):
        pass


def test_concurrent_requests_are_served_at_once(server: RunningServer) -> None:
    """A threading server: a slow request does not hold the others (each connection has its thread)."""
    idle = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    idle.connect()  # an open keep-alive connection that sends nothing
    try:
        started = time.monotonic()
        results: list[int] = []
        threads = [
            threading.Thread(target=lambda: results.append(send(server, "GET", HEALTH_PATH).status)) for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert results == [200] * 8
        assert time.monotonic() - started < 20
    finally:
        idle.close()
    assert os.path.exists(server.log)


def test_the_load_benchmarks_http_caller_pays_through_the_server(server: RunningServer) -> None:
    """`make bench-load TARGET=http` sends its requests with `bench.load.http_call`: a payment, then its replay."""
    call = http_call(server, KEYS["key-2026-01"])
    planned = Planned("new", PaymentsApi.new_key(), json.dumps(PaymentsApi.valid_body()))
    first, replay = call(planned), call(planned)  # the same thread: one keep-alive connection
    assert (first[0], replay[0]) == (201, 201)
    assert json.loads(replay[2]) == json.loads(first[2])
    assert replay[1]["Idempotent-Replayed"] == "true"
