"""Route 53 for the payments API: the hosted zone, a region's HTTPS health check and the traffic records.

Clients resolve one name, the *entry* `api.<zone>` (`shared.api_names`). Route 53 allows a single routing
policy per name and type, so the entry cannot be a failover pair and a weighted pair at once; the two are
nested, and every record is an A alias (no TTL of ours: Route 53 answers with the target's addresses):

    api.<zone>                 weighted pair (set identifier = region role), weights = the traffic split;
      │                        each record is an alias to its region's leg, evaluating the leg's health
      ├── primary.api.<zone>   failover pair: PRIMARY = primary region, SECONDARY = secondary region
      └── secondary.api.<zone> failover pair: PRIMARY = secondary region, SECONDARY = primary region
                               each half: alias to the `api.<zone>` custom domain of the region it serves,
                               guarded by that region's health check
    origin-<role>.api.<zone>   simple alias to the region's own custom domain: always that region

A leg's answer is the regional API Gateway domain of `api.<zone>`, so a client that asked for the entry sends
`Host: api.<zone>`, which every region's custom domain and certificate carry. Each region's HTTPS health check
probes `https://origin-<role>.api.<zone>/v1/health` (SNI on): the path clients use, in that region only. So the
weights decide how traffic is split while both regions are healthy, and a region failing its health check hands
its share to the other region without anybody changing a weight. Weights come from a Terraform variable of each
DNS stack (`shared.traffic.TRAFFIC_WEIGHT_VARIABLE`), written by the ops tooling from the persisted split, never
edited in the records by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from cdktf import ITerraformDependable, Postcondition, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_route53_zone import DataAwsRoute53Zone
from cdktf_cdktf_provider_aws.route53_health_check import Route53HealthCheck
from cdktf_cdktf_provider_aws.route53_record import (
    Route53Record,
    Route53RecordAlias,
    Route53RecordFailoverRoutingPolicy,
    Route53RecordWeightedRoutingPolicy,
)
from cdktf_cdktf_provider_aws.route53_zone import Route53Zone
from constructs import Construct

from shared import checkov

HTTPS_PORT = 443
HEALTH_CHECK_INTERVAL_SECONDS = 30  # standard interval; 10 s "fast" checks cost more
HEALTH_CHECK_FAILURE_THRESHOLD = 3  # consecutive failures before a region is unhealthy (~90 s)
Failover = Literal["PRIMARY", "SECONDARY"]


@dataclass(frozen=True)
class ApiTarget:
    """Where the API's records point: an API Gateway regional custom domain (`regional_domain_name`,
    `regional_zone_id`) in `lambda`, or the region's Application Load Balancer (`dns_name`, `zone_id`, its
    canonical hosted zone) in `ec2`: an alias needs nothing else. The records keep `evaluate_target_health`
    False for both: the region's HTTPS health check probes the whole path (ALB, a healthy instance, the API's
    health route), so it already fails when the ALB has no healthy target."""

    name: str
    zone_id: str


def failover_set_identifier(leg: str, failover: Failover) -> str:
    """Unique in the zone: `primary-leg-primary`, `primary-leg-secondary`, `secondary-leg-primary`, ..."""
    return f"{leg}-leg-{failover.lower()}"


class HostedZone(Construct):
    """The zone: created here, or an existing one looked up by id (its name must be the configured one).

    Exposes `zone_id` and `zone_name`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        zone_name: str,
        existing_zone_id: str,
        force_destroy: bool,
        lifecycle: TerraformResourceLifecycle | None,
        comment: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.zone_name = zone_name
        if existing_zone_id:
            zone = DataAwsRoute53Zone(
                self,
                "existing",
                zone_id=existing_zone_id,
                lifecycle=TerraformResourceLifecycle(
                    postcondition=[
                        Postcondition(
                            condition=f'${{trimsuffix(self.name, ".") == "{zone_name}"}}',
                            error_message=(
                                f"dns.existing_zone_id {existing_zone_id} is not the zone {zone_name} "
                                "(dns.zone_name); fix one of them"
                            ),
                        )
                    ]
                ),
            )
            self.zone_id: str = zone.zone_id
        else:
            created = Route53Zone(
                self,
                "zone",
                name=zone_name,
                comment=comment,
                force_destroy=force_destroy,
                lifecycle=lifecycle,
            )
            checkov.skip(
                created,
                "CKV2_AWS_38",
                "DNSSEC needs a signing key in Route 53's home region and a DS record in the parent zone (not ours)",
            )
            checkov.skip(
                created,
                "CKV2_AWS_39",
                "query logging (a log group in Route 53's home region, with its policy) is not built yet; see README",
            )
            self.zone_id = created.zone_id


class ApiHealthCheck(Construct):
    """An HTTPS health check of one region's API (`GET https://<host><resource_path>`, SNI on).

    With a name and no IP address, Route 53 resolves `host` itself and sends it as SNI and Host header, so the
    check reaches the custom domain `host` through its own record and certificate.

    Exposes `health_check` (`id`, `fqdn`).
    """

    def __init__(self, scope: Construct, construct_id: str, *, name: str, host: str, resource_path: str) -> None:
        super().__init__(scope, construct_id)
        self.health_check = Route53HealthCheck(
            self,
            "check",
            type="HTTPS",
            fqdn=host,
            port=HTTPS_PORT,
            resource_path=resource_path,
            enable_sni=True,
            request_interval=HEALTH_CHECK_INTERVAL_SECONDS,
            failure_threshold=HEALTH_CHECK_FAILURE_THRESHOLD,
            tags={"Name": name},
        )


def failover_record(
    scope: Construct,
    construct_id: str,
    *,
    zone_id: str,
    name: str,
    leg: str,
    failover: Failover,
    target: ApiTarget,
    health_check_id: str,
) -> Route53Record:
    """One half of a leg's failover pair: an alias to a region's `api.<zone>` custom domain, guarded by its
    health check (API Gateway domains report no health of their own, so the record's health is the check's)."""
    return Route53Record(
        scope,
        construct_id,
        zone_id=zone_id,
        name=name,
        type="A",
        alias=Route53RecordAlias(name=target.name, zone_id=target.zone_id, evaluate_target_health=False),
        set_identifier=failover_set_identifier(leg, failover),
        failover_routing_policy=Route53RecordFailoverRoutingPolicy(type=failover),
        health_check_id=health_check_id,
    )


def origin_record(
    scope: Construct,
    construct_id: str,
    *,
    zone_id: str,
    name: str,
    target: ApiTarget,
    after: Sequence[ITerraformDependable] = (),
) -> Route53Record:
    """A region's own name: a simple alias to its origin custom domain, never failed over."""
    return Route53Record(
        scope,
        construct_id,
        zone_id=zone_id,
        name=name,
        type="A",
        alias=Route53RecordAlias(name=target.name, zone_id=target.zone_id, evaluate_target_health=False),
        depends_on=list(after),
    )


def weighted_entry(
    scope: Construct,
    construct_id: str,
    *,
    zone_id: str,
    name: str,
    set_identifier: str,
    weight: float,
    leg_fqdn: str,
) -> Route53Record:
    """One region's share of the entry name: an alias to its leg that follows the leg's health."""
    return Route53Record(
        scope,
        construct_id,
        zone_id=zone_id,
        name=name,
        type="A",
        set_identifier=set_identifier,
        weighted_routing_policy=Route53RecordWeightedRoutingPolicy(weight=weight),
        alias=Route53RecordAlias(name=leg_fqdn, zone_id=zone_id, evaluate_target_health=True),
    )
