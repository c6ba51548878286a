"""DnsStack: the zone, a health check per region and the records that split and fail over the API's traffic.

`dns-primary` owns the hosted zone (or looks up `dns.existing_zone_id`), the primary region's health check,
the PRIMARY half of the primary leg and the primary's weighted entry record. `dns-secondary` reads the zone
(and the primary's health check) from `dns-primary`'s outputs and owns everything that involves the
secondary region: its health check, the SECONDARY half of the primary leg, the whole secondary leg and the
secondary's weighted entry record. The record layout is explained in `stacks.dns.records`.

The weight of each region is the stack's Terraform variable `traffic_weight` (0-100; the two stacks' weights
add up to 100). Its default comes from `dns.primary_weight`; the ops tooling writes the current split into
`traffic.auto.tfvars.json` beside the synthesized stack before every plan or apply (`ops.traffic`).
"""

from __future__ import annotations

from cdktf import TerraformVariable, TerraformVariableValidationConfig
from constructs import Construct

from config.settings import Role, Settings
from shared.traffic import TRAFFIC_WEIGHT_VARIABLE
from stacks.base import PlatformStack
from stacks.compute.stack import ComputeStack
from stacks.dns.records import (
    ApiHealthCheck,
    HostedZone,
    api_host,
    entry_name,
    failover_record,
    leg_name,
    weighted_entry,
)


def default_weight(settings: Settings, role: Role) -> int:
    """The weight a region gets until a rollout changes the split: `dns.primary_weight` and the rest."""
    return settings.dns.primary_weight if role == "primary" else 100 - settings.dns.primary_weight


class DnsStack(PlatformStack):
    """Exposes `zone_id`, `zone_name`, `api_fqdn`, `health_check`, `health_check_id`, `api_host` and
    `traffic_weight` (the variable's value; output `weight`)."""

    layer = "dns"

    def __init__(
        self,
        scope: Construct,
        *,
        settings: Settings,
        role: Role,
        compute: ComputeStack,
        primary: DnsStack | None = None,
    ) -> None:
        super().__init__(scope, settings=settings, role=role, depends_on=[compute, primary])
        self.compute = compute
        self.primary = primary
        dns = settings.dns
        self.zone_name = dns.zone_name
        self.api_fqdn = entry_name(dns.api_record, dns.zone_name)
        self.leg_fqdn = leg_name(role, dns.api_record, dns.zone_name)
        self._weight_variable()
        self.zone_id: str = primary.zone_id if primary else self._zone()
        self._health_check()
        self._records()
        self._outputs()

    def _weight_variable(self) -> None:
        self.weight_variable = TerraformVariable(
            self,
            TRAFFIC_WEIGHT_VARIABLE,
            type="number",
            default=default_weight(self.settings, self.role),
            description=f"Share of the API's traffic (percent) routed to the {self.role} region ({self.region})",
            validation=[
                TerraformVariableValidationConfig(
                    condition=(
                        f"${{var.{TRAFFIC_WEIGHT_VARIABLE} >= 0 && var.{TRAFFIC_WEIGHT_VARIABLE} <= 100 && "
                        f"floor(var.{TRAFFIC_WEIGHT_VARIABLE}) == var.{TRAFFIC_WEIGHT_VARIABLE}}}"
                    ),
                    error_message="traffic_weight must be a whole number from 0 to 100.",
                )
            ],
        )
        self.traffic_weight = self.weight_variable.number_value

    def _zone(self) -> str:
        return HostedZone(
            self,
            "zone",
            zone_name=self.zone_name,
            existing_zone_id=self.settings.dns.existing_zone_id,
            force_destroy=self.protection.force_destroy,
            lifecycle=self.protection.lifecycle(),
            comment=f"{self.settings.project} {self.settings.environment}: payments API",
        ).zone_id

    def _health_check(self) -> None:
        self.api_host = api_host(self.compute.api_endpoint)
        self.health_check = ApiHealthCheck(
            self,
            "health",
            name=self.naming.name("api-health"),
            host=self.api_host,
            resource_path=f"/{self.compute.api_stage_name}{self.compute.health_path}",
        ).health_check
        self.health_check_id = self.health_check.id

    def _records(self) -> None:
        own_record = failover_record(
            self,
            f"{self.role}-leg-primary",
            zone_id=self.zone_id,
            name=self.leg_fqdn,
            leg=self.role,
            failover="PRIMARY",
            target_host=self.api_host,
            health_check_id=self.health_check_id,
        )
        if self.primary is not None:
            self._backup_legs(self.primary)
        weighted_entry(
            self,
            "entry",
            zone_id=self.zone_id,
            name=self.api_fqdn,
            set_identifier=self.role,
            weight=self.traffic_weight,
            leg_fqdn=own_record.fqdn,
        )

    def _backup_legs(self, primary: DnsStack) -> None:
        """The secondary region backs up the primary's leg, and the primary backs up the secondary's."""
        dns = self.settings.dns
        failover_record(
            self,
            f"{primary.role}-leg-secondary",
            zone_id=self.zone_id,
            name=leg_name(primary.role, dns.api_record, dns.zone_name),
            leg=primary.role,
            failover="SECONDARY",
            target_host=self.api_host,
            health_check_id=self.health_check_id,
        )
        failover_record(
            self,
            f"{self.role}-leg-secondary",
            zone_id=self.zone_id,
            name=self.leg_fqdn,
            leg=self.role,
            failover="SECONDARY",
            target_host=primary.health_check.fqdn,
            health_check_id=primary.health_check_id,
        )

    def _outputs(self) -> None:
        if self.primary is None:
            self.export("zone_id", self.zone_id, description="Route 53 hosted zone of the API")
            self.export("zone_name", self.zone_name, description="Route 53 hosted zone name")
        self.export("api_fqdn", self.api_fqdn, description="The name clients use (weighted entry records)")
        self.export(
            "leg_fqdn", self.leg_fqdn, description="This region's failover pair (target of its weighted record)"
        )
        self.export("health_check_id", self.health_check_id, description="HTTPS health check of this region's API")
        self.export("api_host", self.api_host, description="Regional API Gateway host the records point to")
        self.export("weight", self.traffic_weight, description="This region's traffic weight (percent)")
