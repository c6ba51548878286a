"""The rules the client encodes, over hand-built inputs (no emulator): Route 53's record choice, ACM's name
matching, Route 53's checker share, API Gateway's integration URI and route matching, the health route."""

from __future__ import annotations

import random
import uuid

import pytest

from lambda_src.health import app as health_app
from ops.client.api_events import api_event
from ops.client.certificates import covers
from ops.client.gateway import _matches, function_of
from ops.client.records import Alias, Record, parse
from ops.client.resolve import ResolveError, Resolver, regional_domain_region
from ops.core.route53_health import is_healthy

ZONE = "Z0ZONE"
DOMAIN_P = "d-abc123.execute-api.us-east-1.amazonaws.com"
DOMAIN_S = "d-def456.execute-api.eu-west-1.amazonaws.com"
REGIONAL_ZONE = "Z1UJRXOUMOOFQ8"


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311  # a traffic share, not a secret


def weighted(role: str, weight: int) -> Record:
    return Record(
        "api.z",
        "A",
        set_identifier=role,
        weight=weight,
        alias=Alias(f"{role}.api.z", ZONE, evaluate_target_health=True),
    )


def leg(role: str, failover: str, domain: str, check: str) -> Record:
    return Record(
        f"{role}.api.z",
        "A",
        set_identifier=f"{role}-leg-{failover.lower()}",
        failover=failover,
        health_check_id=check,
        alias=Alias(domain, REGIONAL_ZONE, evaluate_target_health=False),
    )


def zone(primary_weight: int) -> dict[str, list[Record]]:
    return {
        "api.z": [weighted("primary", primary_weight), weighted("secondary", 100 - primary_weight)],
        "primary.api.z": [leg("primary", "PRIMARY", DOMAIN_P, "hc-p"), leg("primary", "SECONDARY", DOMAIN_S, "hc-s")],
        "secondary.api.z": [
            leg("secondary", "PRIMARY", DOMAIN_S, "hc-s"),
            leg("secondary", "SECONDARY", DOMAIN_P, "hc-p"),
        ],
    }


def regions(resolver: Resolver, times: int = 200) -> list[str]:
    return [resolver.resolve("api.z").region for _ in range(times)]


def test_the_weight_decides_while_both_regions_are_healthy() -> None:
    """Route 53 sends a record's weight / the sum of the group's weights of the traffic
    (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-policy-weighted.html)."""
    answers = regions(Resolver(zone(50), ZONE, lambda _: True, seeded(1)))
    assert 70 <= answers.count("us-east-1") <= 130, answers.count("us-east-1")
    assert set(regions(Resolver(zone(100), ZONE, lambda _: True, seeded(1)))) == {"us-east-1"}


def test_an_unhealthy_region_hands_its_share_to_the_other_through_its_leg() -> None:
    """Failover: the PRIMARY record while its health check is healthy, else the SECONDARY; the weighted alias
    evaluates its leg's health (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-how-route-53-chooses-records.html)."""
    answers = regions(Resolver(zone(100), ZONE, lambda check: check != "hc-p", seeded(1)))
    assert set(answers) == {"eu-west-1"}


def test_zero_weights_are_chosen_only_when_no_nonzero_record_is_healthy() -> None:
    """Route 53 first considers only non-zero weighted records; zero-weight ones when all non-zero are unhealthy."""
    records = zone(100)
    records["primary.api.z"] = [leg("primary", "PRIMARY", DOMAIN_P, "hc-p")]  # no backup: the leg can fail
    resolver = Resolver(records, ZONE, lambda check: check != "hc-p", seeded(1))
    assert resolver.choose("api.z").set_identifier == "secondary"
    assert set(regions(resolver, 20)) == {"eu-west-1"}


def test_when_nothing_is_healthy_everything_counts_as_healthy() -> None:
    """If all records of a group are unhealthy, Route 53 treats all as healthy and applies the policy."""
    resolver = Resolver(zone(100), ZONE, lambda _: False, seeded(1))
    assert set(regions(resolver, 20)) == {"us-east-1"}  # weight 100 on the primary leg, its PRIMARY record


def test_a_record_without_health_check_or_target_evaluation_is_healthy() -> None:
    record = Record("x.z", "A", alias=Alias(DOMAIN_P, REGIONAL_ZONE, evaluate_target_health=True))
    assert Resolver({"x.z": [record]}, ZONE, lambda _: False).healthy(record)


@pytest.mark.parametrize(
    ("records", "error"),
    [
        ({}, r"api\.z: no such record in the zone \(NXDOMAIN\)"),
        ({"api.z": [Record("api.z", "CNAME", values=("elsewhere.example",))]}, "is not an alias"),
        ({"api.z": [Record("api.z", "A", alias=Alias("api.z", ZONE, False))]}, "a loop"),
        ({"api.z": [Record("api.z", "A", alias=Alias("bucket.s3.amazonaws.com", "Z3", False))]}, "not API Gateway"),
    ],
)
def test_names_that_do_not_lead_to_a_regional_domain_are_errors(records: dict[str, list[Record]], error: str) -> None:
    with pytest.raises(ResolveError, match=error):
        Resolver(records, ZONE, lambda _: True).resolve("api.z")


def test_records_are_parsed_from_route53s_shape() -> None:
    """ResourceRecordSet: Name with a trailing dot, AliasTarget {HostedZoneId, DNSName, EvaluateTargetHealth}
    (https://docs.aws.amazon.com/Route53/latest/APIReference/API_AliasTarget.html)."""
    record = parse(
        {
            "Name": "Primary.API.z.",
            "Type": "A",
            "SetIdentifier": "primary-leg-primary",
            "Failover": "PRIMARY",
            "HealthCheckId": "hc-p",
            "AliasTarget": {"HostedZoneId": REGIONAL_ZONE, "DNSName": DOMAIN_P + ".", "EvaluateTargetHealth": False},
        }
    )
    assert record == leg("primary", "PRIMARY", DOMAIN_P, "hc-p")
    assert regional_domain_region(DOMAIN_S) == "eu-west-1"
    assert regional_domain_region("abc.execute-api.eu-west-1.amazonaws.com") is None  # an API's own host


@pytest.mark.parametrize(
    ("names", "host", "covered"),
    [
        (["api.z"], "api.z", True),
        (["api.z", "origin-primary.api.z"], "origin-primary.api.z", True),
        (["API.Z."], "api.z", True),
        (["*.api.z"], "origin-primary.api.z", True),
        (["*.api.z"], "api.z", False),  # a wildcard does not cover its parent
        (["*.z"], "origin-primary.api.z", False),  # nor more than one label
        (["api.z"], "primary.api.z", False),
    ],
)
def test_certificate_names_cover_a_host_exactly_or_by_one_wildcard_label(
    names: list[str], host: str, covered: bool
) -> None:
    """ACM: a wildcard name protects one subdomain level only
    (https://docs.aws.amazon.com/acm/latest/userguide/acm-certificate.html)."""
    assert covers(names, host) is covered


def success(n: int, total: int) -> list[dict[str, dict[str, str]]]:
    return [{"StatusReport": {"Status": "Success: HTTP 200" if i < n else "Failure: HTTP 503"}} for i in range(total)]


def test_a_health_check_is_healthy_when_more_than_18_percent_of_checkers_succeed() -> None:
    """Route 53 considers an endpoint healthy when more than 18% of its checkers report it healthy
    (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html)."""
    assert is_healthy(success(9, 50)) is False  # exactly 18%
    assert is_healthy(success(10, 50)) is True
    assert is_healthy([]) is None


def test_the_function_comes_from_the_lambda_proxy_integration_uri() -> None:
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:payments-dev-secondary-payment-processor"
    uri = f"arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/{arn}/invocations"
    assert function_of({"type": "AWS_PROXY", "uri": uri}) == "payments-dev-secondary-payment-processor"
    with pytest.raises(ResolveError, match="not a Lambda proxy integration"):
        function_of({"type": "HTTP_PROXY", "uri": "https://example.com"})


def test_route_templates_match_paths_segment_by_segment() -> None:
    assert _matches("/payments/{id}", "/payments/pay_1") == {"id": "pay_1"}
    assert _matches("/payments", "/payments") == {}
    assert _matches("/payments/{id}", "/payments") is None
    assert _matches("/health", "/payments") is None


def test_the_health_route_is_found_by_its_resource_behind_a_base_path() -> None:
    """Through a custom domain with a base path mapping, `path` is `/v1/health`; the route is the `resource`."""
    event = api_event("POST", "/v1/health", resource="/health", domain_name="origin-primary.api.z")
    assert event["requestContext"]["path"] == "/v1/health"
    refused = health_app._route_error(event, f"req-{uuid.uuid4()}")
    assert refused is not None
    assert refused["statusCode"] == 405  # the route is known; only the method is wrong
    other = health_app._route_error(api_event("GET", "/v1/payments", resource="/payments"), "req-1")
    assert other is not None
    assert other["statusCode"] == 404
