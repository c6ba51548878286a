"""The client's path through a private emulator: records, custom domains, certificates, mappings, keys, functions.

The fixture builds, with boto3, what the DNS and compute stacks deploy (issue 15 A): per region an ACM certificate
for `api.<zone>` + `origin-<role>.api.<zone>` (DNS validation; the emulator issues it after
MOTO_ACM_VALIDATION_WAIT seconds, set to 0 for this emulator), REGIONAL custom domains for both names with base
path `v1` mapped to the region's REST API stage, Lambda proxy integrations, an API key in a usage plan; in the
zone: weighted aliases `api.<zone>` -> failover legs `<role>.api.<zone>` -> the regions' `api.<zone>` domains, and
`origin-<role>.api.<zone>` -> the origin domains, health checks probing `origin-<role>.api.<zone>/v1/health`.
The functions' handler is this module's `handler` (the emulator cannot run Lambda; the client runs the deployed
handler in-process): it answers as its environment says, so a test sets the behaviour with
UpdateFunctionConfiguration exactly as a deploy would change it.
"""

from __future__ import annotations

import io
import json
import os
import random
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from config.settings import ROLES, LocalTarget, Settings, other_role
from harness.platform import Platform, free_port
from ops.client import records, smoke
from ops.client.api_client import MAX_RETRIES, ApiClient
from ops.client.gateway import Refusal, route
from ops.client.resolve import Resolver
from ops.core.errors import UsageError
from ops.local import emulator
from shared.api_names import API_BASE_PATH, entry_name, leg_name, origin_name

HANDLER = f"{__name__}.handler"
HEALTH_HANDLER = f"{__name__}.health"
_calls: dict[str, int] = {}


def seeded(seed: int) -> random.Random:
    """A repeatable choice among weighted records."""
    return random.Random(seed)  # noqa: S311  # a traffic share, not a secret


def reset_runtime() -> None:
    """What local_lambda calls before each invocation (the deployed handlers reset their caches)."""


def handler(event: dict[str, Any], _context: object) -> dict[str, Any]:
    """A payment function: BEHAVIOUR=ok -> 201; redirect -> 307 to REDIRECT; fenced -> 503 the first FENCED_TIMES."""
    region = os.environ["AWS_REGION"]
    behaviour = os.environ.get("BEHAVIOUR", "ok")
    key = (event["headers"] or {}).get("Idempotency-Key", "")
    body = {
        "region": region,
        "path": event["path"],
        "resource": event["resource"],
        "body": event["body"],
        "query": event["queryStringParameters"],
        "payment_id": f"pay_{key[-8:]}",
        "created_at": f"2026-12-02T11:00:00Z-{region}",
    }
    if behaviour == "redirect":
        return {"statusCode": 307, "headers": {"Location": os.environ["REDIRECT"]}, "body": ""}
    if behaviour == "fenced":
        _calls[region] = _calls.get(region, 0) + 1
        if _calls[region] <= int(os.environ["FENCED_TIMES"]):
            return {"statusCode": 503, "headers": {"Retry-After": "0"}, "body": '{"error": "write_home_switching"}'}
    return {"statusCode": 201, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def health(event: dict[str, Any], _context: object) -> dict[str, Any]:
    status = 200 if os.environ.get("HEALTHY", "yes") == "yes" else 503
    return {"statusCode": status, "headers": {}, "body": json.dumps({"path": event["path"]})}


@dataclass
class Region:
    role: str
    name: str
    api_id: str = ""
    key_value: str = ""
    domains: dict[str, dict[str, Any]] = field(default_factory=dict)  # host -> GetDomainName
    functions: dict[str, str] = field(default_factory=dict)  # "payment" | "health" -> function name


@dataclass
class Deployed:
    settings: Settings
    platform: Platform
    zone_id: str
    regions: dict[str, Region]
    health_checks: dict[str, str]

    def aws(self, service: str, role: str) -> Any:
        return self.platform.client(service, role)

    def set_function_env(self, role: str, function: str, **variables: str) -> None:
        self.aws("lambda", role).update_function_configuration(
            FunctionName=self.regions[role].functions[function], Environment={"Variables": variables}
        )

    def set_weights(self, primary: int) -> None:
        changes = [
            _weighted(self.settings, self.zone_id, role, primary if role == "primary" else 100 - primary)
            for role in ROLES
        ]
        self.aws("route53", "primary").change_resource_record_sets(
            HostedZoneId=self.zone_id, ChangeBatch={"Changes": changes}
        )


@pytest.fixture(scope="module")
def emulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A private emulator that issues ACM certificates at once (MOTO_ACM_VALIDATION_WAIT=0, read at its start)."""
    platform = Platform(workdir=tmp_path_factory.mktemp("client"), port=free_port())
    local = LocalTarget("127.0.0.1", platform.port)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_ACM_VALIDATION_WAIT", "0")
        assert "emulator started on" in emulator.up(local)
    try:
        yield platform
    finally:
        emulator.down(local)


@pytest.fixture(scope="module")
def deployed(emulated: Platform) -> Deployed:
    settings = emulated.settings
    route53 = emulated.client("route53", "primary")
    zone = route53.create_hosted_zone(Name=settings.dns.zone_name, CallerReference="client-tests")
    zone_id = records.bare_zone_id(zone["HostedZone"]["Id"])
    regions = {role: _region(emulated, settings, zone_id, role) for role in ROLES}
    health_checks = {role: _health_check(route53, settings, role) for role in ROLES}
    changes = []
    for role, region in regions.items():
        origin = region.domains[origin_name(settings.dns, role)]
        changes.append(
            _alias(origin_name(settings.dns, role), origin["regionalDomainName"], origin["regionalHostedZoneId"])
        )
        for failover, serving in (("PRIMARY", role), ("SECONDARY", other_role(role))):  # type: ignore[arg-type]
            entry = regions[serving].domains[entry_name(settings.dns)]
            changes.append(
                _alias(
                    leg_name(settings.dns, role),  # type: ignore[arg-type]
                    entry["regionalDomainName"],
                    entry["regionalHostedZoneId"],
                    SetIdentifier=f"{role}-leg-{failover.lower()}",
                    Failover=failover,
                    HealthCheckId=health_checks[serving],
                )
            )
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    deployed = Deployed(settings, emulated, zone_id, regions, health_checks)
    deployed.set_weights(100)
    return deployed


def _alias(name: str, target: str, target_zone: str, evaluate: bool = False, **policy: Any) -> dict[str, Any]:
    return {
        "Action": "UPSERT",
        "ResourceRecordSet": {
            "Name": name,
            "Type": "A",
            "AliasTarget": {"DNSName": target, "HostedZoneId": target_zone, "EvaluateTargetHealth": evaluate},
            **policy,
        },
    }


def _weighted(settings: Settings, zone_id: str, role: str, weight: int) -> dict[str, Any]:
    leg = leg_name(settings.dns, role)  # type: ignore[arg-type]
    return _alias(entry_name(settings.dns), leg, zone_id, True, SetIdentifier=role, Weight=weight)


def _health_check(route53: Any, settings: Settings, role: str) -> str:
    created = route53.create_health_check(
        CallerReference=f"client-{role}",
        HealthCheckConfig={
            "Type": "HTTPS",
            "FullyQualifiedDomainName": origin_name(settings.dns, role),  # type: ignore[arg-type]
            "ResourcePath": f"/{API_BASE_PATH}/health",
            "Port": 443,
            "EnableSNI": True,
            "RequestInterval": 30,
            "FailureThreshold": 3,
        },
    )
    return str(created["HealthCheck"]["Id"])


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.py", "")
    return buffer.getvalue()


def _region(platform: Platform, settings: Settings, zone_id: str, role: str) -> Region:
    region = Region(role, platform.region(role))
    iam = platform.client("iam", role)
    role_arn = iam.create_role(RoleName=f"client-fn-{role}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    awslambda, gateway = platform.client("lambda", role), platform.client("apigateway", role)
    arns = {}
    for function, entry in (("payment", HANDLER), ("health", HEALTH_HANDLER)):
        name = f"client-{function}-{role}"
        made = awslambda.create_function(
            FunctionName=name, Runtime="python3.11", Role=role_arn, Handler=entry, Code={"ZipFile": _zip()}
        )
        region.functions[function], arns[function] = name, made["FunctionArn"]
    region.api_id = gateway.create_rest_api(name=f"client-{role}", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = next(r["id"] for r in gateway.get_resources(restApiId=region.api_id)["items"] if r["path"] == "/")
    payments = gateway.create_resource(restApiId=region.api_id, parentId=root, pathPart="payments")["id"]
    item = gateway.create_resource(restApiId=region.api_id, parentId=payments, pathPart="{id}")["id"]
    health_resource = gateway.create_resource(restApiId=region.api_id, parentId=root, pathPart="health")["id"]
    for resource, method, function, keyed in (
        (payments, "POST", "payment", True),
        (item, "GET", "payment", True),
        (health_resource, "GET", "health", False),
    ):
        gateway.put_method(
            restApiId=region.api_id,
            resourceId=resource,
            httpMethod=method,
            authorizationType="NONE",
            apiKeyRequired=keyed,
        )
        gateway.put_integration(
            restApiId=region.api_id,
            resourceId=resource,
            httpMethod=method,
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=f"arn:aws:apigateway:{region.name}:lambda:path/2015-03-31/functions/{arns[function]}/invocations",
        )
    gateway.create_deployment(restApiId=region.api_id, stageName="v1")
    plan = gateway.create_usage_plan(name=f"client-{role}", apiStages=[{"apiId": region.api_id, "stage": "v1"}])
    region.key_value = f"key-{role}-" + "x" * 30
    key = gateway.create_api_key(name=f"client-{role}", enabled=True, value=region.key_value)
    gateway.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    certificate = _certificate(platform, settings, zone_id, role)
    for host in (entry_name(settings.dns), origin_name(settings.dns, role)):  # type: ignore[arg-type]
        gateway.create_domain_name(
            domainName=host,
            regionalCertificateArn=certificate,
            endpointConfiguration={"types": ["REGIONAL"]},
            securityPolicy="TLS_1_2",
        )
        gateway.create_base_path_mapping(domainName=host, restApiId=region.api_id, stage="v1", basePath=API_BASE_PATH)
        region.domains[host] = gateway.get_domain_name(domainName=host)
    return region


def _certificate(platform: Platform, settings: Settings, zone_id: str, role: str) -> str:
    acm = platform.client("acm", role)
    arn: str = acm.request_certificate(
        DomainName=entry_name(settings.dns),
        SubjectAlternativeNames=[origin_name(settings.dns, role)],  # type: ignore[arg-type]
        ValidationMethod="DNS",
    )["CertificateArn"]
    options = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"]
    validations = {o["ResourceRecord"]["Name"]: o["ResourceRecord"] for o in options if "ResourceRecord" in o}
    assert validations, "the emulator returned no validation records"
    platform.client("route53", "primary").change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": r["Name"],
                        "Type": r["Type"],
                        "TTL": 300,
                        "ResourceRecords": [{"Value": r["Value"]}],
                    },
                }
                for r in validations.values()
            ]
        },
    )
    for _ in range(100):  # issued after the emulator's MOTO_ACM_VALIDATION_WAIT
        if acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED":
            return arn
        time.sleep(0.1)
    pytest.fail(f"certificate {arn} was not issued within 10 s")


# -- what Route 53 and API Gateway answer -------------------------------------------------------------------------


def test_route53_lists_alias_targets_the_way_the_client_parses_them(deployed: Deployed) -> None:
    """ListResourceRecordSets returns AliasTarget {HostedZoneId, DNSName, EvaluateTargetHealth} and the policy
    fields (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecordSet.html)."""
    grouped = records.zone_records(deployed.settings, deployed.zone_id)
    dns = deployed.settings.dns
    entry = grouped[entry_name(dns)]
    assert len(entry) == 2, entry
    assert {r.set_identifier: r.weight for r in entry} == {"primary": 100, "secondary": 0}
    assert all(r.alias and r.alias.zone_id == deployed.zone_id and r.alias.evaluate_target_health for r in entry)
    assert {r.alias.dns_name for r in entry if r.alias} == {leg_name(dns, "primary"), leg_name(dns, "secondary")}
    legs = grouped[leg_name(dns, "primary")]
    assert sorted((r.failover, r.health_check_id) for r in legs) == sorted(
        [("PRIMARY", deployed.health_checks["primary"]), ("SECONDARY", deployed.health_checks["secondary"])]
    )
    primary_entry = deployed.regions["primary"].domains[entry_name(dns)]
    leg = next(r for r in legs if r.failover == "PRIMARY")
    assert leg.alias is not None
    assert leg.alias.dns_name == primary_entry["regionalDomainName"].lower()
    assert leg.alias.zone_id == primary_entry["regionalHostedZoneId"]


def test_the_entry_resolves_weighted_then_failover_to_the_regional_custom_domain(deployed: Deployed) -> None:
    grouped = records.zone_records(deployed.settings, deployed.zone_id)
    resolver = Resolver(grouped, deployed.zone_id, lambda _: True, seeded(1))
    resolution = resolver.resolve(entry_name(deployed.settings.dns))
    assert resolution.region == deployed.regions["primary"].name
    assert (
        resolution.regional_domain_name
        == deployed.regions["primary"].domains[entry_name(deployed.settings.dns)]["regionalDomainName"]
    )
    assert len(resolution.hops) == 2, resolution.hops  # weighted entry, then the leg's PRIMARY record


def test_an_unhealthy_primary_leg_fails_over_to_the_other_region(deployed: Deployed) -> None:
    grouped = records.zone_records(deployed.settings, deployed.zone_id)
    down = deployed.health_checks["primary"]
    resolver = Resolver(grouped, deployed.zone_id, lambda check: check != down, seeded(1))
    assert resolver.resolve(entry_name(deployed.settings.dns)).region == deployed.regions["secondary"].name


def test_gateway_finds_the_mapping_the_route_and_the_function(deployed: Deployed) -> None:
    """A REGIONAL custom domain's base path mapping routes `/v1/...` to the stage; the rest is the resource path
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mappings.html)."""
    settings, primary = deployed.settings, deployed.regions["primary"]
    resolver = Resolver(records.zone_records(settings, deployed.zone_id), deployed.zone_id, lambda _: True)
    resolution = resolver.resolve(entry_name(settings.dns))
    regions = [r.name for r in deployed.regions.values()]
    target = route(settings, resolution, regions, "GET", "/v1/payments/pay_1", key=primary.key_value)
    assert (target.region, target.rest_api_id, target.stage) == (primary.name, primary.api_id, "v1")
    assert (target.resource, target.path_parameters) == ("/payments/{id}", {"id": "pay_1"})
    assert target.function_name == primary.functions["payment"]
    assert target.api_key_id


@pytest.mark.parametrize(
    ("path", "key", "status", "message"),
    [
        ("/v1/payments", None, 403, "Forbidden"),  # the method requires a key
        ("/v1/payments", "not-a-key-of-this-region-0123456789", 403, "Forbidden"),
        ("/v2/payments", "primary", 403, "Forbidden"),  # no base path mapping v2
        ("/v1/refunds", "primary", 403, "Missing Authentication Token"),  # no such resource
    ],
)
def test_gateway_refuses_as_api_gateway_would(
    deployed: Deployed, path: str, key: str | None, status: int, message: str
) -> None:
    """A method with apiKeyRequired answers 403 unless the x-api-key is an enabled key in a usage plan of the
    API stage (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-key-source.html)."""
    settings = deployed.settings
    held = deployed.regions["primary"].key_value if key == "primary" else key
    resolver = Resolver(records.zone_records(settings, deployed.zone_id), deployed.zone_id, lambda _: True)
    resolution = resolver.resolve(entry_name(settings.dns))
    with pytest.raises(Refusal) as refused:
        route(settings, resolution, [r.name for r in deployed.regions.values()], "POST", path, key=held)
    assert (refused.value.status, refused.value.message) == (status, message)


def test_the_other_regions_key_is_refused(deployed: Deployed) -> None:
    """Each region accepts only the keys in its own usage plans: what the one shared key value (issue 15 B) fixes."""
    client = ApiClient(deployed.settings, deployed.regions["secondary"].key_value, health_of=lambda _: True)
    answer = client.request("POST", client.url("/payments"), body="{}")
    assert (answer.status, answer.role) == (403, "primary")


# -- the whole path -----------------------------------------------------------------------------------------------


def test_a_payment_reaches_the_primary_function_through_the_custom_domain(deployed: Deployed) -> None:
    """API Gateway sends `path` with the base path (`/v1/payments`) and `resource` without it through a custom
    domain (a documented quirk of REST APIs behind base path mappings)."""
    client = ApiClient(deployed.settings, deployed.regions["primary"].key_value, rng=seeded(3))
    answer = client.request("POST", client.url("/payments"), body='{"amount": "1.00"}')
    assert (answer.status, answer.role) == (201, "primary"), answer
    seen = answer.json()
    assert isinstance(seen, dict)
    assert (seen["region"], seen["path"], seen["resource"]) == ("us-east-1", "/v1/payments", "/payments")
    assert seen["body"] == '{"amount": "1.00"}'
    assert len(answer.trail) == 1


def test_local_health_is_probed_through_the_origin_name_and_fails_over(deployed: Deployed) -> None:
    """Route 53 counts a 2xx/3xx answer as healthy; the emulator runs no checkers, so the client probes the check's
    `origin-<role>.api.<zone>/v1/health` through its own path (health function in-process)."""
    deployed.set_function_env("primary", "health", HEALTHY="no")
    try:
        both_keys = ApiClient(deployed.settings, deployed.regions["secondary"].key_value, rng=seeded(3))
        answer = both_keys.request("POST", both_keys.url("/payments"), body="{}")
        assert (answer.status, answer.role) == (201, "secondary"), answer
    finally:
        deployed.set_function_env("primary", "health", HEALTHY="yes")


def test_weights_split_traffic_between_the_regions(deployed: Deployed) -> None:
    deployed.set_weights(50)
    try:
        client = ApiClient(deployed.settings, None, health_of=lambda _: True, rng=seeded(7))
        roles = [client.request("GET", client.url("/health")).role for _ in range(40)]
        assert 10 <= roles.count("primary") <= 30, roles
        assert roles.count("primary") + roles.count("secondary") == 40
    finally:
        deployed.set_weights(100)


def test_a_307_is_followed_to_the_origin_with_the_same_method_body_and_key(deployed: Deployed) -> None:
    """The write home's redirect (issue 15 C): Location is the other region's origin name; a 307 keeps the method
    and body (RFC 9110 15.4.8)."""
    settings = deployed.settings
    origin = f"https://{origin_name(settings.dns, 'secondary')}/{API_BASE_PATH}/payments"
    deployed.set_function_env("primary", "payment", BEHAVIOUR="redirect", REDIRECT=origin)
    try:
        # Each region still has its own key here: the primary's key reaching the secondary's gateway answers 403,
        # which shows the redirect was followed with the key the client holds.
        client = ApiClient(settings, deployed.regions["primary"].key_value, health_of=lambda _: True)
        first, region = client.send("POST", client.url("/payments"), body='{"n": 1}', key=client.key)
        assert (first.status, first.header("Location"), region) == (307, origin, deployed.regions["primary"].name)
        answer = client.request("POST", client.url("/payments"), body='{"n": 1}')
        assert (answer.status, answer.role) == (403, "secondary"), answer
        assert [line.rsplit(" ", 1)[-1] for line in answer.trail] == ["307", "403"]
        assert answer.trail[1].startswith(f"POST {origin} -> secondary")
    finally:
        deployed.set_function_env("primary", "payment", BEHAVIOUR="ok")


def test_a_fenced_503_is_retried_after_retry_after(deployed: Deployed) -> None:
    deployed.set_function_env("primary", "payment", BEHAVIOUR="fenced", FENCED_TIMES="2")
    _calls.clear()
    waits: list[float] = []
    try:
        client = ApiClient(
            deployed.settings, deployed.regions["primary"].key_value, health_of=lambda _: True, sleep=waits.append
        )
        answer = client.request("POST", client.url("/payments"), body="{}")
        assert (answer.status, answer.role, waits) == (201, "primary", [0.0, 0.0]), answer
        assert len(answer.trail) == 3
    finally:
        deployed.set_function_env("primary", "payment", BEHAVIOUR="ok")


# -- make smoke ---------------------------------------------------------------------------------------------------


def test_smoke_lines_name_the_region_and_never_the_key(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    held = deployed.regions["primary"].key_value
    api = ApiClient(deployed.settings, held, health_of=lambda _: True, rng=seeded(3))
    sent = smoke.send(api, 7)
    line = sent.line()
    print(line, sent.response.trail)
    assert (sent.response.status, sent.replayed) == (201, False)
    assert line.split()[:6] == ["7", f"...{sent.idempotency_key[-6:]}", "primary", "201", "primary", "(us-east-1)"]
    assert line.endswith("new")
    assert held not in capsys.readouterr().out


def test_smoke_counts_a_payment_id_created_twice_as_a_duplicate(deployed: Deployed) -> None:
    """The payment id follows from the Idempotency-Key: one id with two creation times was created twice."""
    tables = {}
    for role in ROLES:
        dynamodb = deployed.aws("dynamodb", role)
        tables[role] = f"client-payments-{role}"
        dynamodb.create_table(
            TableName=tables[role],
            KeySchema=[{"AttributeName": "payment_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "payment_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    api = ApiClient(deployed.settings, deployed.regions["primary"].key_value, health_of=lambda _: True, rng=seeded(3))
    sent = [smoke.send(api, n) for n in (1, 2)]
    for item, created in zip(sent, ("same", "other"), strict=True):
        answered = item.payment
        deployed.aws("dynamodb", "primary").put_item(
            TableName=tables["primary"],
            Item={"payment_id": {"S": answered["payment_id"]}, "created_at": {"S": answered["created_at"]}},
        )
        replica = answered["created_at"] if created == "same" else "2026-12-02T11:00:01Z-eu-west-1"
        deployed.aws("dynamodb", "secondary").put_item(
            TableName=tables["secondary"],
            Item={"payment_id": {"S": answered["payment_id"]}, "created_at": {"S": replica}},
        )
    found = smoke.duplicates(deployed.settings, [s.payment for s in sent], tables)  # type: ignore[arg-type]
    assert len(found) == 1, found
    assert found[0].startswith(sent[1].payment["payment_id"])


def test_smoke_refuses_a_count_that_is_not_a_positive_number() -> None:
    for bad in ("0", "-1", "x", ""):
        with pytest.raises(
            UsageError, match=r"^smoke: N=.* is invalid: use a whole number of payments >= 1, e.g. N=20$"
        ):
            smoke.parse_count(bad)
    assert smoke.parse_count("20") == 20


def test_a_503_that_lasts_is_returned_after_the_bounded_retries(deployed: Deployed) -> None:
    deployed.set_function_env("primary", "payment", BEHAVIOUR="fenced", FENCED_TIMES="1000")
    _calls.clear()
    waits: list[float] = []
    try:
        key = deployed.regions["primary"].key_value
        client = ApiClient(deployed.settings, key, health_of=lambda _: True, sleep=waits.append)
        answer = client.request("POST", client.url("/payments"), body="{}")
        assert (answer.status, len(waits), len(answer.trail)) == (503, MAX_RETRIES, MAX_RETRIES + 1)
    finally:
        deployed.set_function_env("primary", "payment", BEHAVIOUR="ok")


def test_a_query_string_reaches_the_function_as_api_gateway_passes_it(deployed: Deployed) -> None:
    client = ApiClient(deployed.settings, deployed.regions["primary"].key_value, health_of=lambda _: True)
    answer = client.request("GET", client.url("/payments/pay_1?expand=ledger&x=a%20b"))
    seen = answer.json()
    assert isinstance(seen, dict)
    assert (answer.status, seen["resource"], seen["query"]) == (201, "/payments/{id}", {"expand": "ledger", "x": "a b"})
