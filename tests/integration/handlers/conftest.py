"""Fixtures for the Lambda handler tests: the handlers run in-process against what the stacks deployed.

The emulator cannot run Lambda containers here, so the handler code runs in this process with boto3
pointed at the session's emulator, on the table, bucket, key, bus and retry queue that `deploy primary`
and `deploy secondary` really created (names from the outputs file), once per region. The tests add
their own observer (an SQS queue behind a rule on the bus) to see the events.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.config import Config

from harness.api_events import api_event
from harness.platform import Platform
from stacks.compute.stack import CUSTOMER_INDEX

REPO_ROOT = Path(__file__).resolve().parents[3]
FAKE_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
MAX_AMOUNT = "100000.00"
ALLOWED_CURRENCIES = ("USD", "EUR", "GBP")
_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=2, read_timeout=10)


# --------------------------------------------------------------------------------------------------------------
# Where the resources come from
# --------------------------------------------------------------------------------------------------------------


def names_from_outputs(outputs: Mapping[str, Any], role: str, endpoint: str) -> dict[str, str]:
    """What the handlers need of one region, from the outputs file the deploys wrote."""
    data, compute = outputs[f"data-{role}"], outputs[f"compute-{role}"]
    return {
        "region": compute["region"],
        "table": data["table_name"],
        "bucket": data["audit_bucket_name"],
        "kms_key_id": data["key_arn"],
        "bus": compute["event_bus_name"],
        "retry_queue_url": compute["retry_queue_url"],
        "payment_function": compute["payment_function_name"],
        "endpoint": endpoint,
    }


_ledger_variables: dict[str, dict[str, str]] = {}


def ledger_variables(names: Mapping[str, str]) -> dict[str, str]:
    """The LEDGER_* variables of the deployed payment function: where the local target's ledger lives (gap
    `rds-engine`: both local PostgreSQL instances) and how to reach it, exactly as the stacks configured them."""
    if names["region"] not in _ledger_variables:
        configuration = aws_client("lambda", names).get_function_configuration(FunctionName=names["payment_function"])
        variables = configuration["Environment"]["Variables"]
        _ledger_variables[names["region"]] = {k: v for k, v in variables.items() if k.startswith("LEDGER_")}
    return _ledger_variables[names["region"]]


def aws_client(service: str, names: Mapping[str, str]) -> Any:
    return boto3.session.Session(region_name=names["region"], **FAKE_CREDENTIALS).client(
        service, endpoint_url=names["endpoint"], config=_BOTO_CONFIG
    )


@pytest.fixture(scope="session", params=["primary", "secondary"])
def deployed_region(request: pytest.FixtureRequest, platform: Platform, deployed: dict[str, Any]) -> dict[str, str]:
    """``{"region", "table", "bucket", "kms_key_id", "bus", "retry_queue_url", "endpoint"}`` of a deployed region.

    The emulator is the project's own (``ops/local/serialize.py``), which applies DynamoDB requests one at a
    time as DynamoDB does, so concurrent conditional writes behave as on AWS.
    """
    return names_from_outputs(deployed, request.param, f"http://127.0.0.1:{platform.port}")


# --------------------------------------------------------------------------------------------------------------
# Observing what the handlers did
# --------------------------------------------------------------------------------------------------------------


def _drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Receive and delete everything currently visible on a queue."""
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            return messages
        messages.extend(batch)
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
        )


@dataclass
class Observer:
    """Reads the table, the audit bucket and the queues; keeps every message it has drained."""

    names: Mapping[str, str]
    event_queue_url: str
    events: list[dict[str, Any]] = field(default_factory=list)
    retries: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.dynamodb = aws_client("dynamodb", self.names)
        self.s3 = aws_client("s3", self.names)
        self.sqs = aws_client("sqs", self.names)

    def item_count(self) -> int:
        total = 0
        for page in self.dynamodb.get_paginator("scan").paginate(TableName=self.names["table"], Select="COUNT"):
            total += page["Count"]
        return total

    def item(self, payment_id: str) -> dict[str, Any] | None:
        response = self.dynamodb.get_item(
            TableName=self.names["table"], Key={"payment_id": {"S": payment_id}}, ConsistentRead=True
        )
        return response.get("Item")

    def audit_keys(self) -> list[str]:
        keys: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.names["bucket"], Prefix="audit/"):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return keys

    def audit_writes(self, key: str) -> int:
        """How many times ``key`` was written (object versions when versioning is on)."""
        versioning = self.s3.get_bucket_versioning(Bucket=self.names["bucket"]).get("Status")
        if versioning != "Enabled":
            return int(key in self.audit_keys())
        response = self.s3.list_object_versions(Bucket=self.names["bucket"], Prefix=key)
        return sum(1 for version in response.get("Versions", []) if version["Key"] == key)

    def events_for(self, payment_id: str) -> list[dict[str, Any]]:
        for message in _drain(self.sqs, self.event_queue_url):
            self.events.append(json.loads(message["Body"]))
        return [event for event in self.events if event.get("detail", {}).get("payment_id") == payment_id]

    def retry_messages_for(self, payment_id: str) -> list[dict[str, Any]]:
        """Retry-queue messages (raw SQS messages) about ``payment_id``."""
        self.retries.extend(_drain(self.sqs, self.names["retry_queue_url"]))
        return [m for m in self.retries if json.loads(m["Body"]).get("payment_id") == payment_id]

    def snapshot(self) -> tuple[int, int]:
        return self.item_count(), len(self.audit_keys())


@contextmanager
def observing(names: Mapping[str, str]) -> Iterator[Observer]:
    """An SQS queue behind a rule on the bus (payment.created from payments.api), removed afterwards."""
    sqs, events = aws_client("sqs", names), aws_client("events", names)
    suffix = uuid.uuid4().hex[:8]
    queue_url = sqs.create_queue(QueueName=f"handler-tests-events-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = f"handler-tests-observe-{suffix}"
    rule_arn = events.put_rule(
        Name=rule,
        EventBusName=names["bus"],
        EventPattern=json.dumps({"source": ["payments.api"], "detail-type": ["payment.created"]}),
    )["RuleArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    events.put_targets(Rule=rule, EventBusName=names["bus"], Targets=[{"Id": "observer", "Arn": queue_arn}])
    try:
        yield Observer(names, queue_url)
    finally:
        events.remove_targets(Rule=rule, EventBusName=names["bus"], Ids=["observer"])
        events.delete_rule(Name=rule, EventBusName=names["bus"])
        sqs.delete_queue(QueueUrl=queue_url)


@pytest.fixture(scope="package")  # removed once the handler tests are done: other tests list the bus rules
def observer(deployed_region: dict[str, str]) -> Iterator[Observer]:
    with observing(deployed_region) as watching:
        yield watching


# --------------------------------------------------------------------------------------------------------------
# Running the handlers
# --------------------------------------------------------------------------------------------------------------


def _import(module: str) -> ModuleType:
    """Import a handler from the repository without leaving __pycache__ in lambda_src (it would be zipped)."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    previous, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        return importlib.import_module(module)
    finally:
        sys.dont_write_bytecode = previous


@pytest.fixture(scope="session")
def payment_modules() -> dict[str, ModuleType]:
    """The payment processor's modules, by short name (``handler``, ``repository``, ...)."""
    _import("lambda_src.payment_processor.handler")
    prefix = "lambda_src.payment_processor."
    return {name[len(prefix) :]: module for name, module in sys.modules.items() if name.startswith(prefix)}


@pytest.fixture(scope="session")
def health_handler() -> ModuleType:
    return _import("lambda_src.health.handler")


Configure = Callable[..., None]


def function_environment(names: Mapping[str, str]) -> dict[str, str]:
    """The payment and health functions' environment for a region's resources, boto3 at the emulator (LEDGER_*
    variables apart: where the ledger is depends on who set it up)."""
    return {
        "AWS_ENDPOINT_URL": names["endpoint"],
        "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": names["region"],
        "AWS_REGION": names["region"],
        "NO_PROXY": "127.0.0.1,localhost",
        "REGION": names["region"],
        "PAYMENTS_TABLE": names["table"],
        "AUDIT_BUCKET": names["bucket"],
        "AUDIT_KMS_KEY_ID": names["kms_key_id"],
        "EVENT_BUS_NAME": names["bus"],
        "AUDIT_RETRY_QUEUE_URL": names["retry_queue_url"],
        "MAX_AMOUNT": MAX_AMOUNT,
        "ALLOWED_CURRENCIES": ",".join(ALLOWED_CURRENCIES),
        "CUSTOMER_INDEX": CUSTOMER_INDEX,
        "LOG_LEVEL": "INFO",
    }


_cached_under: dict[str, dict[str, str]] = {}  # the environment the handlers' cached clients were made in


@pytest.fixture
def lambda_env(
    monkeypatch: pytest.MonkeyPatch,
    deployed_region: dict[str, str],
    payment_modules: dict[str, ModuleType],
    health_handler: ModuleType,
) -> Configure:
    """The Lambda environment for ``deployed_region``; call the result to override variables (None unsets).

    Cached settings and boto3 clients of both handlers are reset whenever the environment differs from the
    one they were created under (as a new Lambda container would see it); unchanged, they are kept, like
    a warm container's.
    """
    names = deployed_region

    def reset_if_changed() -> None:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        if _cached_under.get("environment") != environment:
            payment_modules["handler"].reset_runtime()
            health_handler.reset_runtime()
            _cached_under["environment"] = environment

    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL_") or name.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.delenv(name)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    base = {**function_environment(names), **ledger_variables(names)}

    def configure(**overrides: str | None) -> None:
        for name, value in overrides.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        reset_if_changed()

    configure(**base)
    return configure


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    raw_body: str
    raw: dict[str, Any]

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Response:
        return cls(raw["statusCode"], raw["headers"], json.loads(raw["body"]), raw["body"], raw)

    @property
    def field_names(self) -> list[str]:
        return [entry["field"] for entry in self.body.get("fields", [])]


class PaymentsApi:
    """Calls the payment processor's handlers in-process, the way API Gateway and SQS would."""

    MISSING = object()  # a valid_body() override that leaves the field out
    event = staticmethod(api_event)

    def __init__(self, modules: dict[str, ModuleType], names: Mapping[str, str], configure: Configure) -> None:
        self.modules = modules
        self.handler = modules["handler"]
        self.names = names
        self.region = names["region"]
        self.configure = configure

    @staticmethod
    def new_key() -> str:
        return f"key-{uuid.uuid4().hex}"

    @classmethod
    def valid_body(cls, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "amount": "12.50",
            "currency": "USD",
            "customer_id": "cus_Test1234",
            "payment_method": "pm_Card4242",
            "description": "order 1001",
        }
        body.update(overrides)
        return {key: value for key, value in body.items() if value is not cls.MISSING}

    def invoke(self, event: Any) -> Response:
        return Response.of(self.handler.handler(event, None))

    def post(
        self,
        body: Any = None,
        *,
        key: str | None = "",
        raw: str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """POST /payments; ``body`` is JSON-encoded unless ``raw`` is given; ``key=None`` omits the header."""
        all_headers = {"Content-Type": "application/json"}
        if key is not None:
            all_headers["Idempotency-Key"] = key or self.new_key()
        all_headers.update(headers or {})
        payload = raw if raw is not None else json.dumps(body if body is not None else self.valid_body())
        return self.invoke(api_event("POST", "/payments", body=payload, headers=all_headers))

    def get(self, payment_id: str) -> Response:
        return self.invoke(
            api_event("GET", f"/payments/{payment_id}", resource="/payments/{id}", path_parameters={"id": payment_id})
        )

    def list(self, **query: str) -> Response:
        """GET /payments?<query>."""
        event = api_event("GET", "/payments")
        event["queryStringParameters"] = query or None
        return self.invoke(event)

    def concurrently(self, calls: list[Callable[[], Response]]) -> list[Response]:
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            return list(pool.map(lambda call: call(), calls))


@pytest.fixture
def api(lambda_env: Configure, payment_modules: dict[str, ModuleType], deployed_region: dict[str, str]) -> PaymentsApi:
    return PaymentsApi(payment_modules, deployed_region, lambda_env)


@pytest.fixture
def log_lines(capsys: pytest.CaptureFixture[str]) -> Callable[[], list[dict[str, Any]]]:
    """The JSON log lines written to stdout so far in this test."""

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]

    return read
