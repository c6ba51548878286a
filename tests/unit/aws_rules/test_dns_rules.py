"""AWS rules for the DNS layer: ACM certificates, API Gateway custom domains, Route 53 records and health checks."""

from __future__ import annotations

import re
from typing import Any

import pytest

from config.loader import load_settings
from config.validation import ConfigError
from tests.conftest import AWS_ACCOUNT, AWS_ZONE
from tests.support import Synth
from tests.unit.aws_rules.support import each

ROLES = ("primary", "secondary")


def region_of(synth: Synth, stack: str) -> str:
    """The region of a stack's default (un-aliased) provider: where its resources without `provider` live."""
    [provider] = [p for p in synth[stack]["provider"]["aws"] if "alias" not in p]
    return str(provider["region"])


def test_a_regional_custom_domain_certificate_is_requested_in_the_api_region(aws: Synth) -> None:
    """A Regional custom domain needs a Region-specific ACM certificate in the same Region as the API (only
    edge-optimized domains take a us-east-1 certificate, through `certificate_arn`).
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-regional-api-custom-domain-create.html"""
    domains = each(aws, "aws_api_gateway_domain_name", at_least=4)  # two names per region
    for stack, _, domain in domains:
        role = stack.removeprefix("dns-")
        assert "provider" not in domain
        assert "certificate_arn" not in domain
        assert region_of(aws, stack) == region_of(aws, f"compute-{role}")  # the stack holding the REST API
        [(validation_key, _)] = aws.resources(stack, "aws_acm_certificate_validation").items()
        expected = f"${{aws_acm_certificate_validation.{validation_key}.certificate_arn}}"
        assert domain["regional_certificate_arn"] == expected
    for stack, _, certificate in each(aws, "aws_acm_certificate", at_least=2):
        assert "provider" not in certificate, stack  # the stack's own region, like its domains


def test_certificates_are_validated_through_dns_records_in_the_zone(aws: Synth) -> None:
    """DNS validation: for each name ACM hands out a CNAME (DomainValidation.ResourceRecord: name, type CNAME,
    value) to add to the domain's DNS; the certificate is issued once ACM finds them. The validation resource
    waits for that and is what the custom domains reference.
    https://docs.aws.amazon.com/acm/latest/APIReference/API_DomainValidation.html
    https://docs.aws.amazon.com/acm/latest/APIReference/API_ResourceRecord.html"""
    certificates = each(aws, "aws_acm_certificate", at_least=2)
    for stack, key, certificate in certificates:
        assert certificate["validation_method"] == "DNS"
        [record] = [r for r in aws.resources(stack, "aws_route53_record").values() if "for_each" in r]
        names = [certificate["domain_name"], *certificate["subject_alternative_names"]]
        assert record["for_each"] == "${toset([" + ", ".join(f'"{n}"' for n in names) + "])}"
        options = f"aws_acm_certificate.{key}.domain_validation_options"
        assert (record["type"], record["records"]) == (
            f"${{one([for o in {options} : o.resource_record_type if o.domain_name == each.key])}}",
            [f"${{one([for o in {options} : o.resource_record_value if o.domain_name == each.key])}}"],
        )
        [validation] = aws.resources(stack, "aws_acm_certificate_validation").values()
        assert validation["certificate_arn"] == f"${{aws_acm_certificate.{key}.arn}}"
        assert re.fullmatch(
            r"\$\{\[ for key, val in aws_route53_record\.\S+: val\.fqdn\]\}", validation["validation_record_fqdns"]
        )


def test_every_certificate_name_is_under_the_public_zone(aws: Synth) -> None:
    """A public certificate's names must each be validated by their owner; ACM's CNAMEs go into the zone, so every
    name (common name and SANs) must sit in the configured zone.
    https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html"""
    for _, _, certificate in each(aws, "aws_acm_certificate", at_least=2):
        names = [certificate["domain_name"], *certificate["subject_alternative_names"]]
        assert len(names) == 2
        assert all(name.endswith("." + AWS_ZONE) for name in names), names


def test_custom_domains_are_regional_and_refuse_tls_below_1_2(aws: Synth) -> None:
    """The TLS_1_2 security policy accepts TLS 1.2 and 1.3 and rejects TLS 1.0; REGIONAL keeps the domain in the
    API's region (no CloudFront distribution).
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-custom-domain-tls-version.html"""
    for _, _, domain in each(aws, "aws_api_gateway_domain_name", at_least=4):
        assert domain["security_policy"] == "TLS_1_2"
        assert domain["endpoint_configuration"] == {"types": ["REGIONAL"]}


def test_each_custom_domain_maps_one_base_path_to_its_region_api(aws: Synth) -> None:
    """A base path mapping connects a custom domain's path to an API stage; without one the domain answers 403.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mappings.html"""
    mappings = each(aws, "aws_api_gateway_base_path_mapping", at_least=4)
    for stack, _, mapping in mappings:
        role = stack.removeprefix("dns-")
        assert mapping["base_path"] == "v1"
        assert f"cross-stack-reference-input-compute-{role}.outputs." in mapping["api_id"]
        assert mapping["domain_name"].startswith("${aws_api_gateway_domain_name.")


def _api_gateway_aliases(aws: Synth) -> list[tuple[str, str, dict[str, Any]]]:
    return each(
        aws,
        "aws_route53_record",
        at_least=6,  # an origin record per region and the four failover halves
        where=lambda r: "alias" in r and r["alias"]["name"].endswith("regional_domain_name}"),
    )


def test_aliases_to_api_gateway_are_a_records_with_the_domain_regional_zone_id(aws: Synth) -> None:
    """An alias to a regional API's custom domain names its `regionalDomainName` and its `regionalHostedZoneId`
    (not the zone the record is in) and is of type A.
    https://docs.aws.amazon.com/Route53/latest/APIReference/API_AliasTarget.html
    https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-values-failover-alias.html"""
    aliases = _api_gateway_aliases(aws)
    assert len(aliases) == 6  # origin per region + four failover halves
    for _, _, record in aliases:
        assert record["type"] == "A"
        alias = record["alias"]
        assert alias["zone_id"] == alias["name"].replace("regional_domain_name}", "regional_zone_id}")
        assert alias["zone_id"] != record["zone_id"]
        assert "ttl" not in record
        assert "records" not in record


def test_failover_halves_carry_a_health_check_and_the_entry_evaluates_its_legs(aws: Synth) -> None:
    """Route 53 answers with a failover record only while it is healthy: each half carries its region's health check
    (an API Gateway domain reports no health of its own, so `evaluate_target_health` stays false there). The
    weighted entry aliases records in its own zone with `evaluate_target_health`, so it inherits the legs' health.
    https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-values-failover-alias.html
    https://docs.aws.amazon.com/Route53/latest/APIReference/API_AliasTarget.html"""
    halves = each(aws, "aws_route53_record", at_least=4, where=lambda r: "failover_routing_policy" in r)
    assert len(halves) == 4
    for _, _, half in halves:
        assert half["health_check_id"]
        assert half["alias"]["evaluate_target_health"] is False
    entries = each(aws, "aws_route53_record", at_least=2, where=lambda r: "weighted_routing_policy" in r)
    for _, _, entry in entries:
        assert entry["type"] == "A"
        assert entry["alias"]["evaluate_target_health"] is True
        assert entry["alias"]["zone_id"] == entry["zone_id"]


def test_health_checks_probe_a_certificate_name_over_https_with_sni(aws: Synth) -> None:
    """With SNI the checker sends FullyQualifiedDomainName in the client_hello; one of the certificate's names
    should match it, else the handshake fails. Without an IP address Route 53 resolves the name itself.
    https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html"""
    checks = each(aws, "aws_route53_health_check", at_least=2)
    for stack, _, check in checks:
        role = stack.removeprefix("dns-")
        assert (check["type"], check["port"], check["enable_sni"]) == ("HTTPS", 443, True)
        assert "ip_address" not in check
        assert check["fqdn"] == "${aws_route53_record.origin.fqdn}"
        origin = aws.resources(stack, "aws_route53_record")["origin"]["name"]
        [certificate] = aws.resources(stack, "aws_acm_certificate").values()
        assert origin == f"origin-{role}.api.{AWS_ZONE}"
        assert origin in certificate["subject_alternative_names"]


@pytest.mark.parametrize(
    "zone",
    ["payments-dev.example.internal", "payments.local", "api.test", "payments.example", "x.home.arpa", "example.com"],
)
def test_the_aws_target_refuses_a_zone_no_public_dns_delegates(zone: str) -> None:
    """Reserved names (RFC 2606/6761/6762/8375, ICANN's .internal) are never delegated, so ACM could never see
    the validation CNAMEs there and health checkers could not resolve the names.
    https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html"""
    environ = {
        "PAYMENTS_DOTENV": "none",
        "PAYMENTS_TARGET": "aws",
        "PAYMENTS_AWS_ACCOUNT_ID": AWS_ACCOUNT,
        "PAYMENTS_DNS_ZONE_NAME": zone,
    }
    with pytest.raises(ConfigError) as raised:
        load_settings(environ=environ)
    [line] = raised.value.lines
    assert line.startswith(f"dns.zone_name={zone!r} is under the reserved .")
    assert "set PAYMENTS_DNS_ZONE_NAME in .env or edit config/environments/dev.toml" in line
    # The local target keeps its reserved default; a delegable zone is fine on aws.
    assert load_settings(environ={**environ, "PAYMENTS_TARGET": "local"}).dns.zone_name == zone
    assert load_settings(environ={**environ, "PAYMENTS_DNS_ZONE_NAME": AWS_ZONE}).dns.zone_name == AWS_ZONE
