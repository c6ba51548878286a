"""The fault proxy's rules (ops/local/fault_proxy.py), without sockets: which requests a region outage fails, the
control input it accepts, the 503 it answers and the counts it keeps."""

from __future__ import annotations

import json
import threading
import time
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest

from config import ConfigError, load_settings
from ops.local.fault_proxy import (
    CLIENT_AGENT,
    GLOBAL_SERVICES,
    OPS_CALLER,
    REPLICATION_AGENT,
    BadFault,
    Fault,
    FaultState,
    Scope,
    caller_of,
    credential_scope,
    faulted,
    parse_fault,
    service_unavailable,
)

AKID = "AKIAIOSFODNN7EXAMPLE"


def header(region: str, service: str) -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential={AKID}/20261202/{region}/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
    )


def test_the_authorization_header_names_region_and_service() -> None:
    """SigV4's Authorization header carries `Credential=<access key>/<date>/<region>/<service>/aws4_request`
    (IAM User Guide, "Authentication methods": https://docs.aws.amazon.com/IAM/latest/UserGuide/
    reference_sigv-authentication-methods.html)."""
    assert credential_scope(header("us-east-1", "dynamodb"), "") == Scope("us-east-1", "dynamodb")
    assert credential_scope(header("eu-west-1", "s3"), "versioning") == Scope("eu-west-1", "s3")


def test_a_presigned_url_names_its_scope_in_x_amz_credential() -> None:
    """A presigned URL carries the scope in the `X-Amz-Credential` query parameter, `/` encoded as %2F (S3 API
    Reference, "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)":
    https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html)."""
    query = urlencode(
        {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"{AKID}/20261202/us-east-1/s3/aws4_request",
            "X-Amz-Date": "20261202T101010Z",
            "X-Amz-Expires": "3600",
            "X-Amz-SignedHeaders": "host",
            "X-Amz-Signature": "0" * 64,
        }
    )
    assert "%2F20261202%2Fus-east-1%2Fs3%2Faws4_request" in query
    assert credential_scope(None, query) == Scope("us-east-1", "s3")


@pytest.mark.parametrize(
    ("authorization", "query"),
    [
        (None, ""),  # unsigned: the emulator's own API (/moto-api/), health probes
        ("", "Action=ListQueues"),
        ("Bearer abc", ""),
        # SigV4a signs for a region set, not one region: its scope has no region to match
        (f"AWS4-ECDSA-P256-SHA256 Credential={AKID}/20261202/s3/aws4_request, SignedHeaders=host, Signature=00", ""),
        (f"AWS4-HMAC-SHA256 Credential={AKID}/20261202/us-east-1/s3, Signature=00", ""),  # truncated scope
    ],
)
def test_requests_without_a_sigv4_scope_have_none(authorization: str | None, query: str) -> None:
    assert credential_scope(authorization, query) is None


def test_only_the_blocked_region_is_faulted() -> None:
    fault = Fault("us-east-1", "refuse")
    assert faulted(Scope("us-east-1", "dynamodb"), fault)
    assert faulted(Scope("us-east-1", "s3"), fault)
    assert not faulted(Scope("eu-west-1", "dynamodb"), fault)
    assert not faulted(None, fault)
    assert not faulted(Scope("us-east-1", "dynamodb"), None)


@pytest.mark.parametrize("service", ["route53", "iam"])
def test_global_services_pass_while_us_east_1_is_blocked(service: str) -> None:
    """Route 53 and IAM sign for us-east-1 because they are global: their control planes are hosted in us-east-1,
    their data planes are distributed (Route 53 in edge locations and every Region, IAM in every Region), so a
    regional outage does not take them down (AWS whitepaper "AWS Fault Isolation Boundaries", Global services:
    https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/global-services.html)."""
    assert service in GLOBAL_SERVICES
    assert not faulted(Scope("us-east-1", service), Fault("us-east-1", "timeout"))
    assert faulted(Scope("us-east-1", "sts"), Fault("us-east-1", "timeout"))  # regional STS is not exempt


@pytest.mark.parametrize("mode", ["refuse", "timeout", "503"])
def test_a_valid_fault_is_parsed(mode: str) -> None:
    assert parse_fault(json.dumps({"region": "eu-west-1", "mode": mode}).encode()) == Fault("eu-west-1", mode)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"", "body must be a JSON object"),
        (b"{nope", "body is not JSON"),
        (b"[]", "body must be a JSON object"),
        (b'{"mode": "refuse"}', "region=None is invalid"),
        (b'{"region": "US-EAST-1", "mode": "refuse"}', "region='US-EAST-1' is invalid"),
        (b'{"region": "us-east-1"}', "mode=None is invalid"),
        (b'{"region": "us-east-1", "mode": "slow"}', "mode='slow' is invalid: use one of refuse, timeout, 503"),
        (b'{"region": "us-east-1", "mode": 503}', "mode=503 is invalid"),
    ],
)
def test_bad_control_input_is_one_line_naming_the_field(body: bytes, field: str) -> None:
    with pytest.raises(BadFault) as error:
        parse_fault(body)
    assert field in str(error.value)
    assert "\n" not in str(error.value)


def test_503_is_json_for_json_protocols_and_xml_otherwise() -> None:
    scope = Scope("us-east-1", "dynamodb")
    headers, body = service_unavailable({"x-amz-target": "DynamoDB_20120810.ListTables"}, scope)
    assert headers["x-amzn-ErrorType"] == "ServiceUnavailable"
    assert json.loads(body)["__type"] == "ServiceUnavailable"
    headers, body = service_unavailable({"content-type": "application/x-www-form-urlencoded"}, scope)
    assert headers["Content-Type"] == "text/xml"
    assert ET.fromstring(body).findtext("Error/Code") == "ServiceUnavailable"  # noqa: S314  # our own document


def test_counts_are_per_region_and_service_and_a_new_fault_resets_them() -> None:
    state = FaultState()
    assert state.decide(Scope("us-east-1", "s3")) is None  # no fault: nothing counted
    state.set(Fault("us-east-1", "503"))
    for scope in (Scope("us-east-1", "s3"), Scope("us-east-1", "s3"), Scope("us-east-1", "sqs")):
        assert state.decide(scope) == Fault("us-east-1", "503")
    assert state.decide(Scope("eu-west-1", "s3")) is None
    assert state.decide(Scope("us-east-1", "route53")) is None
    assert state.report() == {
        "fault": {"region": "us-east-1", "mode": "503"},
        "faulted": {"us-east-1/s3/ops": 2, "us-east-1/sqs/ops": 1},
    }
    state.clear()  # the counts stay readable
    assert state.report() == {"fault": None, "faulted": {"us-east-1/s3/ops": 2, "us-east-1/sqs/ops": 1}}
    state.set(Fault("eu-west-1", "refuse"))
    assert state.report()["faulted"] == {}


def test_a_held_request_is_released_when_the_fault_is_cleared() -> None:
    state = FaultState()
    state.set(Fault("us-east-1", "timeout"))
    released: list[bool] = []
    waiter = threading.Thread(target=lambda: released.append(state.wait_for_change(30)))
    waiter.start()
    time.sleep(0.1)
    began = time.monotonic()
    state.clear()
    waiter.join(5)
    assert released == [True]
    assert time.monotonic() - began < 1
    assert state.wait_for_change(0.05) is False  # nothing changes: it gives up after its timeout


def test_fault_injection_is_off_by_default_and_moves_the_emulator_three_ports_up() -> None:
    default = load_settings(environ={"PAYMENTS_DOTENV": "none"}).local
    assert (default.fault_injection, default.emulator_port, default.endpoint) == (False, 4566, "http://127.0.0.1:4566")
    on = load_settings(environ={"PAYMENTS_DOTENV": "none", "PAYMENTS_LOCAL_FAULT_INJECTION": "true"}).local
    assert (on.fault_injection, on.emulator_port, on.endpoint) == (True, 4569, "http://127.0.0.1:4566")
    assert [on.postgres_port("primary"), on.postgres_port("secondary")] == [4567, 4568]


def test_fault_injection_needs_room_for_the_emulator_above_the_port() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(
            environ={"PAYMENTS_DOTENV": "none", "PAYMENTS_LOCAL_FAULT_INJECTION": "yes", "PAYMENTS_LOCAL_PORT": "65533"}
        )
    assert error.value.lines == [
        "local.port=65533 leaves no room for the emulator on local.port + 3 (local.fault_injection = true); use a "
        "port up to 65532; set PAYMENTS_LOCAL_PORT in .env or edit config/environments/dev.toml"
    ]
    with pytest.raises(ConfigError, match=r"local\.fault_injection='maybe' \(from PAYMENTS_LOCAL_FAULT_INJECTION\)"):
        load_settings(environ={"PAYMENTS_DOTENV": "none", "PAYMENTS_LOCAL_FAULT_INJECTION": "maybe"})


def test_a_faulted_request_is_counted_for_the_part_of_the_platform_that_sent_it() -> None:
    """The drill proves the failover sent the lost region nothing while the client and the replication keep trying
    it: the proxy tells them apart by the token each puts in its User-Agent."""
    assert caller_of(f"Boto3/1.35 md/Botocore#1.35 {CLIENT_AGENT}") == "client"
    assert caller_of(f"Boto3/1.35 {REPLICATION_AGENT}") == "replication"
    assert caller_of("APN/1.0 HashiCorp/1.0 Terraform/1.9.8") == OPS_CALLER
    assert caller_of(None) == OPS_CALLER
    state = FaultState()
    state.set(Fault("us-east-1", "refuse"))
    for caller in ("client", "client", "replication", OPS_CALLER):
        state.decide(Scope("us-east-1", "dynamodb"), caller)
    assert state.report()["faulted"] == {
        "us-east-1/dynamodb/client": 2,
        "us-east-1/dynamodb/ops": 1,
        "us-east-1/dynamodb/replication": 1,
    }
