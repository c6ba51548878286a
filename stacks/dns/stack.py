"""DnsStack: the zone, each region's certificate and custom domains, health checks and the traffic records.

Every name of the API lives here (`shared.api_names`), so the compute layer stays name-agnostic. Per region
(`stacks.dns.custom_domain`): an ACM certificate for `api.<zone>` + `origin-<role>.api.<zone>`, validated by DNS
in the zone, and a REGIONAL custom domain for each name mapping base path `v1` to the region's API stage.
`dns-primary` owns the hosted zone (or looks up `dns.existing_zone_id`), the primary region's health check,
the PRIMARY half of the primary leg and the primary's weighted entry record. `dns-secondary` reads the zone
(and the primary's health check and `api.<zone>` custom domain) from `dns-primary`'s outputs and owns
everything that involves the secondary region: its health check, the SECONDARY half of the primary leg, the
whole secondary leg and the secondary's weighted entry record. The record layout is explained in
`stacks.dns.records`.

The weight of each region is the stack's Terraform variable `traffic_weight` (0-100; the two stacks' weights
add up to 100). Its default comes from `dns.primary_weight`; the ops tooling writes the current split into
`traffic.auto.tfvars.json` beside the synthesized stack before every plan or apply (`ops.traffic`).
"""

from __future__ import annotations

from cdktf import TerraformVariable, TerraformVariableValidationConfig
from cdktf_cdktf_provider_aws.data_aws_kms_alias import DataAwsKmsAlias
from constructs import Construct

from config.settings import ROLES, Role, Settings
from shared import write_home
from shared.api_names import API_BASE_PATH, entry_name, leg_name, origin_name
from shared.aurora_names import cluster_identifier
from shared.local_target import reads_other_region_alarms_directly
from shared.monitoring_names import watched_alarms
from shared.region_key import region_key_alias
from shared.rollout_engine import split_key, state_machine_name, traffic_lock_id
from shared.runbook import synth_time
from shared.traffic import TRAFFIC_WEIGHT_VARIABLE
from stacks.base import PlatformStack
from stacks.compute.stack import ComputeStack
from stacks.dns.custom_domain import RegionalCustomDomain, ValidatedCertificate
from stacks.dns.https_listener import HttpsListener
from stacks.dns.records import (
    ApiHealthCheck,
    ApiTarget,
    HostedZone,
    failover_record,
    origin_record,
    weighted_entry,
)
from stacks.dns.rollout.definition import EngineFacts, RegionAlarms
from stacks.dns.rollout.engine import EngineAccess, RolloutEngine


def default_weight(settings: Settings, role: Role) -> int:
    """The weight a region gets until a rollout changes the split: `dns.primary_weight` and the rest."""
    return settings.dns.primary_weight if role == "primary" else 100 - settings.dns.primary_weight


class DnsStack(PlatformStack):
    """Exposes `zone_id`, `zone_name`, `api_fqdn`, `origin_fqdn`, `certificate_arn`, `api_target` (the
    `api.<zone>` custom domain's alias target), `health_check`, `health_check_id` and `traffic_weight` (the
    variable's value; no output: the weights live in the persisted split, and either rollout engine changes them)."""

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
        self.api_fqdn = entry_name(dns)
        self.leg_fqdn = leg_name(dns, role)
        self.origin_fqdn = origin_name(dns, role)
        self._weight_variable()
        self.zone_id: str = primary.zone_id if primary else self._zone()
        self._custom_domains()
        self._health_check()
        self._records()
        if primary is None:
            self._rollout_engine()
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

    def _custom_domains(self) -> None:
        self.certificate_arn = ValidatedCertificate(
            self,
            "certificate",
            domain_name=self.api_fqdn,
            alternative_names=[self.origin_fqdn],
            zone_id=self.zone_id,
            name=self.naming.name("api-certificate"),
        ).certificate_arn
        if self.compute.runtime == "ec2":
            self._load_balancer_targets()
            return
        api, origin = (
            RegionalCustomDomain(
                self,
                construct_id,
                domain_name=fqdn,
                certificate_arn=self.certificate_arn,
                api_id=self.compute.api_id,
                stage_name=self.compute.api_stage_name,
                base_path=API_BASE_PATH,
                name=self.naming.name(construct_id),
            )
            for construct_id, fqdn in (("api-domain", self.api_fqdn), ("origin-domain", self.origin_fqdn))
        )
        self.api_domain, self.origin_domain = api.domain, origin.domain
        self.api_target = ApiTarget(self.api_domain.regional_domain_name, self.api_domain.regional_zone_id)
        self.origin_target = ApiTarget(self.origin_domain.regional_domain_name, self.origin_domain.regional_zone_id)
        self.origin_record = origin_record(
            self,
            "origin",
            zone_id=self.zone_id,
            name=self.origin_fqdn,
            target=self.origin_target,
            after=[origin.mapping],  # the name (and its health check) appears once it serves /v1
        )

    def _load_balancer_targets(self) -> None:
        """ec2: both names alias the region's load balancer (compute's `front_door`); no API Gateway domains."""
        front_door = self.compute.front_door
        if front_door is None:  # compute builds its load balancer whenever it runs ec2
            raise ValueError(f"compute-{self.role} runs ec2 but exposes no load balancer (ComputeStack.front_door)")
        listener = HttpsListener(
            self,
            "https-listener",
            load_balancer_arn=front_door.load_balancer_arn,
            certificate_arn=self.certificate_arn,
            target_group_arn=front_door.target_group_arn,
        ).listener
        self.api_target = ApiTarget(front_door.name, front_door.zone_id)
        self.origin_target = self.api_target
        self.origin_record = origin_record(
            self,
            "origin",
            zone_id=self.zone_id,
            name=self.origin_fqdn,
            target=self.api_target,
            after=[listener],  # the name (and its health check) appears once it serves HTTPS
        )

    def _health_check(self) -> None:
        self.health_check = ApiHealthCheck(
            self,
            "health",
            name=self.naming.name("api-health"),
            host=self.origin_record.fqdn,  # a reference: the check starts once the name resolves
            resource_path=f"/{API_BASE_PATH}{self.compute.health_path}",
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
            target=self.api_target,
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
        failover_record(
            self,
            f"{primary.role}-leg-secondary",
            zone_id=self.zone_id,
            name=leg_name(self.settings.dns, primary.role),
            leg=primary.role,
            failover="SECONDARY",
            target=self.api_target,
            health_check_id=self.health_check_id,
        )
        failover_record(
            self,
            f"{self.role}-leg-secondary",
            zone_id=self.zone_id,
            name=self.leg_fqdn,
            leg=self.role,
            failover="SECONDARY",
            target=primary.api_target,
            health_check_id=primary.health_check_id,
        )

    def _rollout_engine(self) -> None:
        """The server-side rollout (`stacks.dns.rollout`): the zone's owner holds it, in the primary region."""
        settings, compute = self.settings, self.compute
        cluster = cluster_identifier(settings, self.role)
        watched = tuple(
            RegionAlarms(
                role,
                settings.regions.of(role),
                watched_alarms(settings, role),
                function_arn=""
                if role == self.role or reads_other_region_alarms_directly(settings)
                else compute.region_alarms_function.function.arn,
                sdk_region="" if role == self.role else settings.regions.of(role),
            )
            for role in ROLES
        )
        facts = EngineFacts(
            lock_table=settings.state.lock_table,
            lock_id=traffic_lock_id(settings),
            state_bucket=settings.state.bucket,
            split_key=split_key(settings),
            default_weights={role: default_weight(settings, role) for role in ROLES},
            zone_id=self.zone_id,
            entry_name=self.api_fqdn,
            leg_names={role: leg_name(settings.dns, role) for role in ROLES},
            cluster_identifier=cluster,
            write_home_parameter=write_home.parameter_name(settings, self.role),
            topic_arn=compute.alarm_topic_arn,
            watched=watched,
        )
        access = EngineAccess(
            partition=self.partition,
            account_id=self.account_id,
            region=self.region,
            state_region=settings.regions.primary,
            region_key_arn=DataAwsKmsAlias(
                self, "region-key", name=region_key_alias(settings, self.role)
            ).target_key_arn,
            cluster_arn=f"arn:{self.partition}:rds:{self.region}:{self.account_id}:cluster:{cluster}",
            alarm_regions=[w.region for w in watched if not w.function_arn],
            log_retention_days=settings.compute.log_retention_days,
        )
        self.rollout_engine = RolloutEngine(
            self, "rollout-engine", name=state_machine_name(settings), facts=facts, access=access
        )

    def _outputs(self) -> None:
        if self.primary is None:
            self.export("zone_id", self.zone_id, description="Route 53 hosted zone of the API")
            self.export("zone_name", self.zone_name, description="Route 53 hosted zone name")
            machine = self.rollout_engine.state_machine
            self.export("state_machine_arn", machine.arn, description="The rollout engine (Step Functions)")
            self.export("state_machine_name", machine.name, description="The rollout engine's name")
            self.export("migration_runbook", synth_time(self.settings), description="Migration runbook (make runbook)")
        self.export("api_fqdn", self.api_fqdn, description="The name clients use (weighted entry records)")
        self.export(
            "leg_fqdn", self.leg_fqdn, description="This region's failover pair (target of its weighted record)"
        )
        self.export("origin_fqdn", self.origin_fqdn, description="This region's own name (never failed over)")
        self.export("base_path", API_BASE_PATH, description="Base path every route sits under (custom domains)")
        self.export("certificate_arn", self.certificate_arn, description="Validated ACM certificate of both names")
        self.export(
            "api_domain_regional_name",
            self.api_target.name,
            description="Regional API Gateway domain of this region's api.<zone> custom domain",
        )
        self.export(
            "api_domain_regional_zone_id",
            self.api_target.zone_id,
            description="Route 53 zone id of that regional domain (alias target)",
        )
        self.export(
            "origin_domain_regional_name",
            self.origin_target.name,
            description="Regional API Gateway domain of this region's origin custom domain",
        )
        self.export("health_check_id", self.health_check_id, description="HTTPS health check of this region's API")
