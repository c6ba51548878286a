"""The fault proxy in front of a private emulator (local.fault_injection = true), driven with boto3 as the platform's
clients drive it: the other region passes, the blocked one is refused, held or answered 503, global services pass,
faults are counted, clearing restores, and a burst of concurrent clients is forwarded whole; `ops outage` on top."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from config import load_settings
from config.settings import Settings
from harness.platform import free_port, ports_needed
from ops.core.errors import RefusedError
from ops.core.tool_env import clean_environ
from ops.local import emulator, outage, postgres
from ops.local.fault_proxy import CONTROL_PATH
from tests.support import ROOT

BLOCKED, OTHER = "us-east-1", "eu-west-1"


@pytest.fixture(scope="module")
def proxied() -> Iterator[Settings]:
    """Settings of a private emulator behind its own fault proxy."""
    settings = load_settings(
        environ={
            "PAYMENTS_DOTENV": "none",
            "PAYMENTS_LOCAL_PORT": str(free_port(ports_needed(fault_injection=True))),
            "PAYMENTS_LOCAL_FAULT_INJECTION": "true",
        }
    )
    started = emulator.up(settings.local)
    assert "emulator started on" in started
    assert "fault proxy started on" in started
    try:
        yield settings
    finally:
        emulator.down(settings.local)


@pytest.fixture(autouse=True)
def no_fault_after(proxied: Settings) -> Iterator[None]:
    yield
    control(proxied, "DELETE")


def control(settings: Settings, method: str, document: object = None) -> tuple[int, dict[str, Any]]:
    data = None if document is None else json.dumps(document).encode()
    url = f"{settings.local.endpoint}{CONTROL_PATH}"  # loopback only
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def block(settings: Settings, mode: str, region: str = BLOCKED) -> None:
    assert control(settings, "PUT", {"region": region, "mode": mode}) == (
        200,
        {"fault": {"region": region, "mode": mode}, "faulted": {}},
    )


def aws(settings: Settings, service: str, region: str, read_timeout: float = 30) -> Any:
    """A client with no retries: one attempt shows what the proxy did."""
    return boto3.client(  # type: ignore[call-overload]
        service,
        region_name=region,
        endpoint_url=settings.local.endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1}, read_timeout=read_timeout, connect_timeout=5),
    )


def test_the_emulator_answers_behind_the_proxy_and_unsigned_requests_pass(proxied: Settings) -> None:
    assert proxied.local.emulator_port == proxied.local.port + 3
    block(proxied, "refuse")
    assert emulator.is_answering(proxied.local)  # /moto-api/ carries no SigV4 scope


def test_refuse_closes_the_connection_for_the_blocked_region_only(proxied: Settings) -> None:
    aws(proxied, "dynamodb", OTHER).create_table(
        TableName="refuse-other",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    block(proxied, "refuse")
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        aws(proxied, "dynamodb", BLOCKED).list_tables()
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        aws(proxied, "sqs", BLOCKED).list_queues()
    assert "refuse-other" in aws(proxied, "dynamodb", OTHER).list_tables()["TableNames"]
    assert control(proxied, "GET")[1]["faulted"] == {f"{BLOCKED}/dynamodb/ops": 1, f"{BLOCKED}/sqs/ops": 1}
    assert outage.faulted_counts(proxied.local) == {f"{BLOCKED}/dynamodb/ops": 1, f"{BLOCKED}/sqs/ops": 1}


def test_503_is_service_unavailable_in_the_request_protocol(proxied: Settings) -> None:
    block(proxied, "503")
    for service, call in (("dynamodb", "list_tables"), ("sqs", "list_queues"), ("s3", "list_buckets")):
        with pytest.raises(botocore.exceptions.ClientError) as error:
            getattr(aws(proxied, service, BLOCKED), call)()
        assert error.value.response["Error"]["Code"] == "ServiceUnavailable", service
        assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert aws(proxied, "sqs", OTHER).list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_timeout_holds_the_request_until_the_client_gives_up_or_the_fault_is_cleared(proxied: Settings) -> None:
    block(proxied, "timeout")
    began = time.monotonic()
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        aws(proxied, "dynamodb", BLOCKED, read_timeout=1).list_tables()
    assert 1 <= time.monotonic() - began < 10
    # A request held with a patient client ends, without an answer, as soon as the fault is cleared.
    outcome: list[BaseException] = []

    def patient() -> None:
        try:
            aws(proxied, "s3", BLOCKED).list_buckets()
        except botocore.exceptions.BotoCoreError as error:
            outcome.append(error)

    held = threading.Thread(target=patient)
    held.start()
    time.sleep(0.5)
    assert held.is_alive()
    control(proxied, "DELETE")
    held.join(10)
    assert not held.is_alive()
    assert [type(e) for e in outcome] == [botocore.exceptions.ConnectionClosedError]
    assert aws(proxied, "s3", BLOCKED).list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_route53_passes_while_us_east_1_is_blocked(proxied: Settings) -> None:
    """Route 53's API is signed for us-east-1 (its control plane's home) but the service is global: blocking
    us-east-1 must not block it (https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/
    global-services.html)."""
    block(proxied, "refuse")
    zones = aws(proxied, "route53", BLOCKED).list_hosted_zones()
    assert zones["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert control(proxied, "GET")[1]["faulted"] == {}


def test_a_presigned_url_for_the_blocked_region_is_refused(proxied: Settings) -> None:
    s3 = aws(proxied, "s3", OTHER)
    s3.create_bucket(Bucket="presigned-fault", CreateBucketConfiguration={"LocationConstraint": OTHER})
    s3.put_object(Bucket="presigned-fault", Key="k", Body=b"v")
    signer = boto3.client(  # type: ignore[call-overload]
        "s3",
        region_name=BLOCKED,
        endpoint_url=proxied.local.endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(signature_version="s3v4"),  # boto3 presigns S3 with SigV2 unless told
    )
    url = signer.generate_presigned_url("get_object", Params={"Bucket": "presigned-fault", "Key": "k"})
    assert "X-Amz-Credential" in url
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  # loopback only
        assert response.read() == b"v"
    block(proxied, "refuse")
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(url, timeout=5)  # noqa: S310
    assert control(proxied, "GET")[1]["faulted"] == {f"{BLOCKED}/s3/ops": 1}


def test_clearing_restores_the_region(proxied: Settings) -> None:
    block(proxied, "503")
    with pytest.raises(botocore.exceptions.ClientError):
        aws(proxied, "sqs", BLOCKED).create_queue(QueueName="after-clear")
    assert control(proxied, "DELETE") == (200, {"fault": None, "faulted": {f"{BLOCKED}/sqs/ops": 1}})
    url = aws(proxied, "sqs", BLOCKED).create_queue(QueueName="after-clear")["QueueUrl"]
    assert f":{proxied.local.port}/" in url  # the URLs moto hands out name the proxy, not moto's own port
    assert aws(proxied, "sqs", BLOCKED).get_queue_url(QueueName="after-clear")["QueueUrl"] == url


@pytest.mark.parametrize(
    ("method", "document", "status", "error"),
    [
        ("PUT", {"region": "us-east-1", "mode": "slow"}, 400, "PUT /_fault: mode='slow' is invalid"),
        ("PUT", {"mode": "refuse"}, 400, "PUT /_fault: region=None is invalid"),
        ("POST", {}, 405, "POST /_fault: use GET, PUT or DELETE"),
    ],
)
def test_bad_control_requests_are_one_line_errors(
    proxied: Settings, method: str, document: object, status: int, error: str
) -> None:
    answer = control(proxied, method, document)
    assert answer[0] == status
    assert answer[1]["error"].startswith(error)
    assert "\n" not in answer[1]["error"]
    assert control(proxied, "GET")[1]["fault"] is None


def test_a_burst_of_concurrent_clients_is_forwarded_whole(proxied: Settings) -> None:
    """What Terraform does (a pool of kept-alive connections per provider, several providers at once): 32 clients,
    each with its own connection pool, 25 requests each, mixed services, while the other region is blocked."""
    block(proxied, "503", region="ap-south-1")
    ddb = aws(proxied, "dynamodb", OTHER)
    ddb.create_table(
        TableName="burst",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )

    def client_run(n: int) -> int:
        table, sqs = aws(proxied, "dynamodb", OTHER), aws(proxied, "sqs", BLOCKED)
        for i in range(25):
            table.put_item(TableName="burst", Item={"id": {"S": f"{n}-{i}"}, "pad": {"S": "x" * 2000}})
            sqs.list_queues()
        return n

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as pool:
        assert sorted(pool.map(client_run, range(32))) == list(range(32))
    took = time.monotonic() - began
    pages = ddb.get_paginator("scan").paginate(TableName="burst", Select="COUNT")
    assert sum(page["Count"] for page in pages) == 32 * 25
    assert control(proxied, "GET")[1]["faulted"] == {}
    assert took < 60, f"1,600 requests through the proxy took {took:.1f}s"


def test_an_outage_fails_the_region_and_crashes_its_postgres_and_clearing_brings_both_back(proxied: Settings) -> None:
    """`ops outage`: the fault for the role's region plus an immediate stop of its PostgreSQL; `--clear` lifts the
    fault and starts the instance again (a scratch writer standing where the primary region's instance lives)."""
    primary = postgres.instances(proxied.local)["primary"]
    instance = postgres.scratch(postgres.root_dir(proxied.local), primary.port, name="primary")
    try:
        assert instance == primary
        lines = outage.inject(proxied, "primary", "refuse")
        assert lines[0].startswith(f"outage: every request signed for {BLOCKED} (the primary region) now gets `refuse`")
        assert lines[1] == f"outage: the primary region's PostgreSQL on port {primary.port} crashed (immediate stop)"
        assert not postgres.is_running(primary)
        with pytest.raises(botocore.exceptions.ConnectionClosedError):
            aws(proxied, "dynamodb", BLOCKED).list_tables()
        assert outage.status(proxied) == [
            f"outage: {BLOCKED} failed with `refuse`",
            f"  failed 1 request(s) to {BLOCKED}/dynamodb/ops",
            f"postgres: the primary region's instance on port {primary.port}: down",
            f"postgres: the secondary region's instance on port {proxied.local.postgres_port('secondary')}: "
            "not created",
        ]
        assert outage.clear(proxied) == [
            f"outage cleared: {BLOCKED} answers again",
            f"outage cleared: the primary region's PostgreSQL started again on port {primary.port}",
        ]
        assert postgres.in_recovery(primary) is False  # back as what it was: the writer
        assert aws(proxied, "dynamodb", BLOCKED).list_tables()["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert outage.clear(proxied) == ["outage: none in force"]
    finally:
        postgres.stop(primary, mode="immediate")
        shutil.rmtree(postgres.root_dir(proxied.local), ignore_errors=True)


def test_outage_needs_the_local_target_with_fault_injection() -> None:
    local_without = load_settings(environ={"PAYMENTS_DOTENV": "none"})
    with pytest.raises(
        RefusedError, match=r"^outage: local\.fault_injection is false.*PAYMENTS_LOCAL_FAULT_INJECTION=true"
    ):
        outage.inject(local_without, "primary", "refuse")
    on_aws = load_settings(
        environ={
            "PAYMENTS_DOTENV": "none",
            "PAYMENTS_TARGET": "aws",
            "PAYMENTS_AWS_ACCOUNT_ID": "111122223333",
            "PAYMENTS_DNS_ZONE_NAME": "payments.acme-payments.com",
        }
    )
    for call in (lambda: outage.clear(on_aws), lambda: outage.status(on_aws)):
        with pytest.raises(RefusedError, match=r"^outage: target = aws has no fault proxy"):
            call()


def run_ops(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops", *args],
        cwd=ROOT,
        env=clean_environ(**{"PAYMENTS_DOTENV": "none", **env}),
        text=True,
        capture_output=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ((), 2, "outage: ROLE is required: the region role to fail, e.g. make outage ROLE=primary MODE=refuse"),
        (("--region", "primary"), 2, "outage: MODE is required: refuse, timeout or 503"),
        (("--region", "west", "--mode", "refuse"), 2, "outage: ROLE='west' is invalid: use primary or secondary"),
        (
            ("--region", "primary", "--mode", "slow"),
            2,
            "outage: MODE='slow' is invalid: use one of refuse, timeout, 503",
        ),
        (("--clear", "--status"), 2, "outage: use one of --region R --mode M, --clear or --status"),
        (("--clear", "--region", "primary"), 2, "outage: use one of --region R --mode M, --clear or --status"),
        (("--status",), 1, "outage: local.fault_injection is false, so no fault proxy runs"),
    ],
)
def test_outage_arguments_are_checked_with_one_line(args: tuple[str, ...], code: int, message: str) -> None:
    result = run_ops("outage", *args)
    assert result.returncode == code
    assert result.stderr.strip().startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_outage_without_a_running_proxy_says_how_to_start_it() -> None:
    result = run_ops("outage", "--status", PAYMENTS_LOCAL_FAULT_INJECTION="true", PAYMENTS_LOCAL_PORT=str(free_port(4)))
    assert result.returncode == 1
    assert "does not answer" in result.stderr
    assert result.stderr.strip().endswith("start it with `make local-up`")
