"""DnsStack, read from the JSON Terraform receives: zone, certificates, custom domains, health checks, failover legs,
weighted entry, weights."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from config.loader import load_settings
from config.settings import LocalTarget
from harness.platform import free_port
from ops.build.synth import synth_app
from ops.local import emulator
from ops.state import traffic_split
from shared.api_names import API_BASE_PATH, entry_name, leg_name, origin_name
from shared.local_target import (
    ACM_VALIDATION_WAIT_SECONDS,
    FAKE_ACCESS_KEY,
    FAKE_SECRET_KEY,
    GAPS_BY_KEY,
    emulator_environment,
)
from shared.traffic import TRAFFIC_WEIGHT_VARIABLE
from tests.conftest import AWS_ZONE
from tests.support import Synth

ROLES = ("primary", "secondary")
ZONE = "payments-dev.example.internal"
ENTRY = f"api.{ZONE}"
DNS = load_settings(environ={"PAYMENTS_DOTENV": "none"}).dns
FROM_PRIMARY = "data.terraform_remote_state.cross-stack-reference-input-dns-primary.outputs."
ZONE_FROM_PRIMARY = re.compile(
    r"^\$\{data\.terraform_remote_state\.cross-stack-reference-input-dns-primary\.outputs\.cross-stack-output-[^}]+\}$"
)


def records(synth: Synth, stack: str) -> dict[str, dict[str, Any]]:
    """The traffic records (the certificate's validation records are one for_each resource, checked apart)."""
    return {k: r for k, r in synth.resources(stack, "aws_route53_record").items() if "for_each" not in r}


def validation_records(synth: Synth, stack: str) -> dict[str, Any]:
    [record] = [r for r in synth.resources(stack, "aws_route53_record").values() if "for_each" in r]
    return record


def domains(synth: Synth, stack: str) -> dict[str, dict[str, Any]]:
    """The stack's API Gateway custom domains by name, each with its resource key under `key`."""
    found = synth.resources(stack, "aws_api_gateway_domain_name")
    return {d["domain_name"]: {**d, "key": key} for key, d in found.items()}


def all_records(synth: Synth) -> list[dict[str, Any]]:
    return [r for role in ROLES for r in records(synth, f"dns-{role}").values()]


@pytest.fixture(scope="module")
def existing_zone(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """dev with an existing zone and a 70/30 default split."""
    outdir = tmp_path_factory.mktemp("existing-zone") / "cdktf.out"
    result = synth_app(outdir, PAYMENTS_DNS_EXISTING_ZONE_ID="Z0123456789ABC", PAYMENTS_DNS_PRIMARY_WEIGHT="70")
    assert result.returncode == 0, result.stderr
    return Synth(outdir)


def test_the_zone_is_created_only_by_dns_primary(local_dev: Synth) -> None:
    zone = local_dev.resource("dns-primary", "aws_route53_zone")
    assert zone["name"] == ZONE
    assert zone["force_destroy"] is True  # dev: destroyable with stray records
    assert local_dev.resources("dns-secondary", "aws_route53_zone") == {}
    assert local_dev.data_sources("dns-secondary", "aws_route53_zone") == {}
    assert "zone_id" in local_dev.outputs("dns-primary")


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_local_target_keeps_its_internal_default_zone(env: str) -> None:
    """The aws target refuses reserved zones (tests/unit/aws_rules/test_dns_rules.py); the emulator needs none."""
    settings = load_settings(environ={"PAYMENTS_DOTENV": "none", "PAYMENTS_ENV": env})
    assert settings.target == "local"
    assert settings.dns.zone_name.endswith(".example.internal")


def test_prod_zone_is_protected(aws_prod: Synth) -> None:
    zone = aws_prod.resource("dns-primary", "aws_route53_zone")
    assert zone["force_destroy"] is False
    assert zone["lifecycle"]["prevent_destroy"] is True


def test_an_existing_zone_is_looked_up_not_created(existing_zone: Synth) -> None:
    assert existing_zone.resources("dns-primary", "aws_route53_zone") == {}
    (lookup,) = existing_zone.data_sources("dns-primary", "aws_route53_zone").values()
    assert lookup["zone_id"] == "Z0123456789ABC"
    (postcondition,) = lookup["lifecycle"]["postcondition"]
    assert f'"{ZONE}"' in postcondition["condition"]
    for record in records(existing_zone, "dns-primary").values():
        assert re.fullmatch(r"\$\{data\.aws_route53_zone\.zone_existing_[0-9A-F]+\.zone_id\}", record["zone_id"])


def test_dns_secondary_reads_the_zone_from_dns_primary_remote_state(local_dev: Synth) -> None:
    secondary = records(local_dev, "dns-secondary")
    assert len(secondary) == 5  # origin, three failover halves, weighted entry
    for record in [*secondary.values(), validation_records(local_dev, "dns-secondary")]:
        assert ZONE_FROM_PRIMARY.match(record["zone_id"]), record["zone_id"]
    remote = local_dev.data_sources("dns-secondary", "terraform_remote_state")[
        "cross-stack-reference-input-dns-primary"
    ]
    assert remote["config"]["key"] == "dev/dns-primary.tfstate"


def test_dependencies_stay_within_the_allowed_directions(local_dev: Synth) -> None:
    stacks = local_dev.manifest["stacks"]
    assert sorted(stacks["dns-primary"]["dependencies"]) == ["compute-primary"]
    assert sorted(stacks["dns-secondary"]["dependencies"]) == ["compute-secondary", "dns-primary"]


@pytest.mark.parametrize("role", ROLES)
def test_https_health_check_probes_the_origin_name_on_the_path_clients_use(local_dev: Synth, role: str) -> None:
    check = local_dev.resource(f"dns-{role}", "aws_route53_health_check")
    assert check["type"] == "HTTPS"
    assert check["port"] == 443
    assert check["resource_path"] == f"/{API_BASE_PATH}/health" == "/v1/health"
    assert check["enable_sni"] is True
    assert (check["request_interval"], check["failure_threshold"]) == (30, 3)
    assert check["tags"]["Name"] == f"payments-dev-{role}-api-health"
    # The region's own name, through its record (so the check starts once the name exists).
    assert check["fqdn"] == "${aws_route53_record.origin.fqdn}"
    assert records(local_dev, f"dns-{role}")["origin"]["name"] == origin_name(DNS, role) == f"origin-{role}.{ENTRY}"
    assert "ip_address" not in check


@pytest.mark.parametrize("role", ROLES)
def test_one_certificate_per_region_for_the_entry_and_the_origin_name_validated_by_dns(
    local_dev: Synth, role: str
) -> None:
    stack = f"dns-{role}"
    [(key, certificate)] = local_dev.resources(stack, "aws_acm_certificate").items()
    assert certificate["domain_name"] == entry_name(DNS) == ENTRY
    # The legs are alias hops no client sends as Host: no certificate name for them.
    assert certificate["subject_alternative_names"] == [origin_name(DNS, role)]
    assert certificate["validation_method"] == "DNS"
    assert certificate["lifecycle"]["create_before_destroy"] is True
    assert certificate["tags"]["Name"] == f"payments-dev-{role}-api-certificate"
    # Validation records keyed by the certificate's names (known at plan time), each taking what ACM hands out.
    record = validation_records(local_dev, stack)
    assert record["for_each"] == f'${{toset(["{ENTRY}", "{origin_name(DNS, role)}"])}}'
    options = f"aws_acm_certificate.{key}.domain_validation_options"
    chosen = "${one([for o in " + options + " : o.%s if o.domain_name == each.key])}"
    assert record["name"] == chosen % "resource_record_name"
    assert record["type"] == chosen % "resource_record_type"
    assert record["records"] == [chosen % "resource_record_value"]
    assert record["ttl"] == 60
    assert record["allow_overwrite"] is True
    assert record["zone_id"] == records(local_dev, stack)["entry"]["zone_id"]
    [(validation_key, validation)] = local_dev.resources(stack, "aws_acm_certificate_validation").items()
    assert validation["certificate_arn"] == f"${{aws_acm_certificate.{key}.arn}}"
    record_key = next(k for k, r in local_dev.resources(stack, "aws_route53_record").items() if "for_each" in r)
    assert validation["validation_record_fqdns"] == f"${{[ for key, val in aws_route53_record.{record_key}: val.fqdn]}}"
    assert local_dev.outputs(stack)["certificate_arn"]["value"] == (
        f"${{aws_acm_certificate_validation.{validation_key}.certificate_arn}}"
    )


@pytest.mark.parametrize("role", ROLES)
def test_two_regional_custom_domains_map_base_path_v1_to_the_region_api_stage(local_dev: Synth, role: str) -> None:
    stack = f"dns-{role}"
    found = domains(local_dev, stack)
    assert set(found) == {entry_name(DNS), origin_name(DNS, role)}
    validated = local_dev.outputs(stack)["certificate_arn"]["value"]
    for domain in found.values():
        assert domain["endpoint_configuration"] == {"types": ["REGIONAL"]}
        assert domain["security_policy"] == "TLS_1_2"
        assert domain["regional_certificate_arn"] == validated  # waits for the issued certificate
        assert "certificate_arn" not in domain  # the edge-optimized (us-east-1) field
    mappings = local_dev.resources(stack, "aws_api_gateway_base_path_mapping").values()
    assert sorted(m["domain_name"] for m in mappings) == sorted(
        f"${{aws_api_gateway_domain_name.{d['key']}.domain_name}}" for d in found.values()
    )
    for mapping in mappings:
        assert mapping["base_path"] == API_BASE_PATH == "v1"
        assert mapping["stage_name"] == "v1"
        assert mapping["api_id"].startswith(
            f"${{data.terraform_remote_state.cross-stack-reference-input-compute-{role}.outputs."
        )
        assert mapping["api_id"].endswith("id}")


@pytest.mark.parametrize("role", ROLES)
def test_the_origin_name_is_a_simple_alias_to_the_region_own_origin_domain(local_dev: Synth, role: str) -> None:
    origin = records(local_dev, f"dns-{role}")["origin"]
    key = domains(local_dev, f"dns-{role}")[origin_name(DNS, role)]["key"]
    assert origin["type"] == "A"
    assert origin["alias"] == {
        "name": f"${{aws_api_gateway_domain_name.{key}.regional_domain_name}}",
        "zone_id": f"${{aws_api_gateway_domain_name.{key}.regional_zone_id}}",
        "evaluate_target_health": False,
    }
    for absent in ("set_identifier", "failover_routing_policy", "weighted_routing_policy", "ttl", "records"):
        assert absent not in origin
    # The name (and so its health check) appears once the domain serves /v1.
    mappings = local_dev.resources(f"dns-{role}", "aws_api_gateway_base_path_mapping")
    [mapping_key] = [
        k for k, m in mappings.items() if m["domain_name"] == f"${{aws_api_gateway_domain_name.{key}.domain_name}}"
    ]
    assert origin["depends_on"] == [f"aws_api_gateway_base_path_mapping.{mapping_key}"]


@pytest.mark.parametrize("role", ROLES)
def test_outputs_other_layers_read(local_dev: Synth, role: str) -> None:
    outputs = local_dev.outputs(f"dns-{role}")
    key = domains(local_dev, f"dns-{role}")[entry_name(DNS)]["key"]
    origin_key = domains(local_dev, f"dns-{role}")[origin_name(DNS, role)]["key"]
    assert outputs["api_fqdn"]["value"] == ENTRY
    assert outputs["origin_fqdn"]["value"] == origin_name(DNS, role)
    assert outputs["base_path"]["value"] == "v1"
    assert (
        outputs["api_domain_regional_name"]["value"] == f"${{aws_api_gateway_domain_name.{key}.regional_domain_name}}"
    )
    assert outputs["api_domain_regional_zone_id"]["value"] == f"${{aws_api_gateway_domain_name.{key}.regional_zone_id}}"
    assert outputs["origin_domain_regional_name"]["value"] == (
        f"${{aws_api_gateway_domain_name.{origin_key}.regional_domain_name}}"
    )
    assert {"health_check_id", "leg_fqdn", "certificate_arn"} <= set(outputs)
    # No `weight` output: a rollout engine changes the weights out of band, and an output of them would make every
    # refreshing plan after it show a change (the persisted split is where the weights are read).
    assert "weight" not in outputs
    assert "api_host" not in outputs
    assert not any(o["sensitive"] for name, o in outputs.items() if not name.startswith("cross-stack-output-"))


def test_failover_legs(local_dev: Synth) -> None:
    primary, secondary = records(local_dev, "dns-primary"), records(local_dev, "dns-secondary")
    legs = {
        (r["name"], r["failover_routing_policy"]["type"]): (stack, r)
        for stack, recs in (("dns-primary", primary), ("dns-secondary", secondary))
        for r in recs.values()
        if "failover_routing_policy" in r
    }
    assert set(legs) == {
        (f"primary.{ENTRY}", "PRIMARY"),
        (f"primary.{ENTRY}", "SECONDARY"),
        (f"secondary.{ENTRY}", "PRIMARY"),
        (f"secondary.{ENTRY}", "SECONDARY"),
    }
    # The primary leg: PRIMARY in dns-primary, SECONDARY in dns-secondary, each with its own region's check.
    assert legs[(f"primary.{ENTRY}", "PRIMARY")][0] == "dns-primary"
    assert legs[(f"primary.{ENTRY}", "SECONDARY")][0] == "dns-secondary"
    health_own = "${aws_route53_health_check.health_check_4B3E47B3.id}"
    assert legs[(f"primary.{ENTRY}", "PRIMARY")][1]["health_check_id"] == health_own
    assert legs[(f"primary.{ENTRY}", "SECONDARY")][1]["health_check_id"] == health_own
    # Each half aliases the `api.<zone>` custom domain of the region it serves: dns-secondary's backup of the
    # primary leg is its own domain; the secondary leg's fallback is the primary's, read from dns-primary.
    for (name, failover), (stack, record) in legs.items():
        served = "primary" if (name == f"primary.{ENTRY}") == (failover == "PRIMARY") else "secondary"
        assert record["type"] == "A"
        assert record["alias"]["evaluate_target_health"] is False  # the health check decides
        if served == stack.removeprefix("dns-"):
            key = domains(local_dev, stack)[ENTRY]["key"]
            assert record["alias"]["name"] == f"${{aws_api_gateway_domain_name.{key}.regional_domain_name}}"
            assert record["alias"]["zone_id"] == f"${{aws_api_gateway_domain_name.{key}.regional_zone_id}}"
        else:
            assert (stack, name, failover) == ("dns-secondary", f"secondary.{ENTRY}", "SECONDARY")
            assert record["alias"]["name"].startswith("${" + FROM_PRIMARY)
            assert record["alias"]["name"].endswith("regional_domain_name}")
            assert record["alias"]["zone_id"].startswith("${" + FROM_PRIMARY)
            assert record["alias"]["zone_id"].endswith("regional_zone_id}")
            assert FROM_PRIMARY in record["health_check_id"]
        assert "ttl" not in record
        assert "records" not in record
    assert {name for name, _ in legs} == {leg_name(DNS, role) for role in ROLES}


def test_set_identifiers_are_unique_in_the_zone(local_dev: Synth) -> None:
    identifiers = [r["set_identifier"] for r in all_records(local_dev) if "set_identifier" in r]
    assert len(identifiers) == len(set(identifiers)) == 6


@pytest.mark.parametrize("role", ROLES)
def test_weighted_entry_is_an_alias_to_the_region_leg_with_the_variable_as_weight(local_dev: Synth, role: str) -> None:
    entry = records(local_dev, f"dns-{role}")["entry"]
    assert entry["name"] == ENTRY
    assert entry["type"] == "A"
    assert entry["set_identifier"] == role
    assert entry["weighted_routing_policy"] == {"weight": "${var.traffic_weight}"}
    assert entry["alias"]["evaluate_target_health"] is True
    assert entry["alias"]["name"] == f"${{aws_route53_record.{role}-leg-primary.fqdn}}"
    assert entry["alias"]["zone_id"] == entry["zone_id"]
    assert "ttl" not in entry
    assert "records" not in entry


def test_no_record_has_a_literal_weight(local_dev: Synth) -> None:
    weighted = [r for r in all_records(local_dev) if "weighted_routing_policy" in r]
    assert len(weighted) == 2
    assert all(r["weighted_routing_policy"]["weight"] == "${var.traffic_weight}" for r in weighted)


@pytest.mark.parametrize(("synth_name", "defaults"), [("local_dev", (100, 0)), ("existing_zone", (70, 30))])
def test_weights_are_number_variables_defaulting_to_the_configured_split(
    request: pytest.FixtureRequest, synth_name: str, defaults: tuple[int, int]
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    for role, default in zip(ROLES, defaults, strict=True):
        variable = synth[f"dns-{role}"]["variable"][TRAFFIC_WEIGHT_VARIABLE]
        assert variable["type"] == "number"
        assert variable["default"] == default
        (validation,) = variable["validation"]
        assert "var.traffic_weight >= 0" in validation["condition"]
        assert "var.traffic_weight <= 100" in validation["condition"]


def test_ops_writes_the_variable_the_stack_declares() -> None:
    assert json.loads(traffic_split.tfvars_json("secondary", traffic_split.Split(75, 25))) == {"traffic_weight": 25}


def test_the_aws_target_gets_the_same_records(local_dev: Synth, aws_dev: Synth) -> None:
    def shape(synth: Synth, zone: str) -> list[tuple[str, str, str]]:
        return sorted(
            (r["name"].removesuffix(zone), r.get("set_identifier", ""), r["type"]) for r in all_records(synth)
        )

    assert shape(aws_dev, AWS_ZONE) == shape(local_dev, ZONE)
    assert len(shape(aws_dev, AWS_ZONE)) == 8
    assert "127.0.0.1" not in json.dumps(aws_dev["dns-secondary"])


@pytest.fixture(scope="module")
def emulator_endpoint() -> Iterator[str]:
    """A private emulator started by the project's own launcher (so with its environment), on a free port."""
    target = LocalTarget("127.0.0.1", free_port(3))
    emulator.up(target)
    try:
        yield target.endpoint
    finally:
        emulator.down(target)


def test_the_project_emulator_issues_dns_validated_certificates_within_the_gap_wait(emulator_endpoint: str) -> None:
    """Gap `acm-validation-wait`: the launcher's MOTO_ACM_VALIDATION_WAIT (default 60 s) reaches the emulator."""
    assert emulator_environment() == {"MOTO_ACM_VALIDATION_WAIT": str(ACM_VALIDATION_WAIT_SECONDS)}
    assert "acm-validation-wait" in GAPS_BY_KEY
    acm = client("acm", emulator_endpoint)
    origin = origin_name(DNS, "primary")
    arn = acm.request_certificate(DomainName=ENTRY, SubjectAlternativeNames=[origin], ValidationMethod="DNS")[
        "CertificateArn"
    ]
    options = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"]
    # One validation record per name, as the stack keys them (by domain name).
    assert {o["DomainName"] for o in options} == {ENTRY, origin}
    assert len({o["ResourceRecord"]["Name"] for o in options}) == 2
    assert {o["ResourceRecord"]["Type"] for o in options} == {"CNAME"}
    deadline = time.monotonic() + ACM_VALIDATION_WAIT_SECONDS + 5
    status = ""
    while time.monotonic() < deadline and status != "ISSUED":
        time.sleep(0.5)
        status = acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"]
    assert status == "ISSUED"


def test_the_emulator_takes_the_regional_domain_mapping_and_alias_records_the_stack_writes(
    emulator_endpoint: str,
) -> None:
    """What dns-<role> applies, as boto3 round trips: REGIONAL TLS_1_2 domain, base path v1, A aliases to it."""
    region = "us-east-1"
    acm, apigateway, route53 = (client(s, emulator_endpoint) for s in ("acm", "apigateway", "route53"))
    arn = acm.request_certificate(DomainName=ENTRY, ValidationMethod="DNS")["CertificateArn"]
    api_id = apigateway.create_rest_api(name="payments", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    apigateway.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    apigateway.create_deployment(restApiId=api_id, stageName="v1")
    domain = apigateway.create_domain_name(
        domainName=ENTRY,
        regionalCertificateArn=arn,
        endpointConfiguration={"types": ["REGIONAL"]},
        securityPolicy="TLS_1_2",
    )
    assert domain["regionalDomainName"].endswith(f".execute-api.{region}.amazonaws.com")
    assert domain["securityPolicy"] == "TLS_1_2"
    apigateway.create_base_path_mapping(domainName=ENTRY, basePath=API_BASE_PATH, restApiId=api_id, stage="v1")
    [mapping] = apigateway.get_base_path_mappings(domainName=ENTRY)["items"]
    assert (mapping["basePath"], mapping["restApiId"], mapping["stage"]) == ("v1", api_id, "v1")
    zone_id = route53.create_hosted_zone(Name=ZONE, CallerReference=str(time.time()))["HostedZone"]["Id"]
    alias = {
        "HostedZoneId": domain["regionalHostedZoneId"],
        "DNSName": domain["regionalDomainName"],
        "EvaluateTargetHealth": False,
    }
    leg = leg_name(DNS, "primary")
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": leg,
                        "Type": "A",
                        "SetIdentifier": "primary-leg-primary",
                        "Failover": "PRIMARY",
                        "AliasTarget": alias,
                    },
                }
            ]
        },
    )
    found = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    [record] = [r for r in found if r["Name"] == leg + "."]
    assert record["AliasTarget"]["DNSName"].rstrip(".") == domain["regionalDomainName"]
    assert record["AliasTarget"]["HostedZoneId"] == domain["regionalHostedZoneId"]


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id=FAKE_ACCESS_KEY,
        aws_secret_access_key=FAKE_SECRET_KEY,
    )
