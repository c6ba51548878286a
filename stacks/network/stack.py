"""NetworkStack: the VPC of one region, its flow logs and security groups; the secondary also owns the peering."""

from __future__ import annotations

from cdktf import Fn, Token
from cdktf_cdktf_provider_aws.data_aws_availability_zones import (
    DataAwsAvailabilityZones,
    DataAwsAvailabilityZonesFilter,
)
from constructs import Construct

from config.settings import Role, Settings
from shared.checkov import skip
from stacks.base import PlatformStack
from stacks.network.flow_logs import EncryptedFlowLogs
from stacks.network.peering import CrossRegionPeering, PeeringSide
from stacks.network.security_groups import FleetSecurityGroups, WorkloadSecurityGroups
from stacks.network.vpc import ThreeTierVpc


def zone_ids(scope: Construct, settings: Settings, role: Role) -> list[str]:
    """The region's zones by id: configured, or the account's available zones that need no opt-in (AZ names map
    to different physical zones in each account; ids do not)."""
    configured = settings.network.az_ids(role)
    if configured:
        return list(configured)
    zones = DataAwsAvailabilityZones(
        scope,
        "zones",
        state="available",
        filter=[DataAwsAvailabilityZonesFilter(name="opt-in-status", values=["opt-in-not-required"])],
    )
    skip(
        zones,
        "CKV_AWS_394",
        "subnets take the first network.az_count zones by position, which a zone AWS adds later does not move; "
        "network.primary_az_ids / secondary_az_ids pin exact zones",
    )
    return [Token.as_string(Fn.element(zones.zone_ids, index)) for index in range(settings.network.az_count)]


class NetworkStack(PlatformStack):
    """Exposes `vpc_id`, `cidr`, `private_subnet_ids`, `public_subnet_ids`, `isolated_subnet_ids`, `lambda_sg_id`,
    `database_sg_id`; with `compute.runtime = "ec2"` also `alb_sg_id` and `instance_sg_id` (else None)."""

    layer = "network"

    def __init__(self, scope: Construct, *, settings: Settings, role: Role, peer: NetworkStack | None = None) -> None:
        super().__init__(scope, settings=settings, role=role, depends_on=[peer])
        self.cidr = settings.network.cidr(role)
        self._vpc()
        self._flow_logs()
        self._security_groups()
        self.peering = self._peering(peer) if peer else None
        self._outputs()

    def _vpc(self) -> None:
        net = self.settings.network
        self.network = ThreeTierVpc(
            self,
            "vpc",
            naming=self.naming,
            cidr=self.cidr,
            layout=net.subnets(self.role),
            zone_ids=zone_ids(self, self.settings, self.role),
            nat_gateway_count=net.nat_gateway_count,
        )
        self.vpc_id = self.network.vpc.id
        self.private_subnet_ids = [s.id for s in self.network.private_subnets]
        self.public_subnet_ids = [s.id for s in self.network.public_subnets]
        self.isolated_subnet_ids = [s.id for s in self.network.isolated_subnets]
        self.internal_route_table_ids = [t.id for t in self.network.internal_route_tables]

    def _flow_logs(self) -> None:
        self.flow_logs = EncryptedFlowLogs(
            self,
            "flow-logs",
            naming=self.naming,
            vpc_id=self.vpc_id,
            retention_days=self.settings.network.flow_log_retention_days,
            account_id=self.account_id,
            partition=self.partition,
            deletion_window_days=self.protection.kms_deletion_window_days,
        )

    def _security_groups(self) -> None:
        self.security_groups = WorkloadSecurityGroups(
            self,
            "security-groups",
            naming=self.naming,
            vpc_id=self.vpc_id,
            vpc_cidr=self.cidr,
            peer=self.settings.network.subnets(self.peer_role),
        )
        self.lambda_sg_id = self.security_groups.lambda_sg.id
        self.database_sg_id = self.security_groups.database_sg.id
        self.alb_sg_id: str | None = None
        self.instance_sg_id: str | None = None
        if self.settings.compute.runtime == "ec2":
            fleet = FleetSecurityGroups(
                self,
                "fleet-security-groups",
                naming=self.naming,
                vpc_id=self.vpc_id,
                database_sg_id=self.database_sg_id,
                peer=self.settings.network.subnets(self.peer_role),
            )
            self.alb_sg_id, self.instance_sg_id = fleet.alb_sg.id, fleet.instance_sg.id

    def _peering(self, peer: NetworkStack) -> CrossRegionPeering:
        return CrossRegionPeering(
            self,
            "peering",
            name=f"{self.settings.project}-{self.settings.environment_suffix}-{peer.role}-to-{self.role}",
            requester=PeeringSide(
                vpc_id=peer.vpc_id,
                cidr=peer.cidr,
                route_table_ids=peer.internal_route_table_ids,
                provider=self.peer_provider,
            ),
            accepter=PeeringSide(
                vpc_id=self.vpc_id, cidr=self.cidr, route_table_ids=self.internal_route_table_ids, provider=None
            ),
            requester_region=peer.region,
            accepter_region=self.region,
        )

    def _outputs(self) -> None:
        if self.peering is not None:
            self.export("peering_connection_id", self.peering.connection.id, description="Cross-region VPC peering")
        self.export("vpc_id", self.vpc_id, description="VPC id")
        self.export("vpc_cidr", self.cidr, description="VPC CIDR block")
        self.export("private_subnet_ids", self.private_subnet_ids, description="Private (NAT) subnets")
        self.export("isolated_subnet_ids", self.isolated_subnet_ids, description="Isolated subnets")
        self.export("public_subnet_ids", self.public_subnet_ids, description="Public subnets")
        self.export("internal_route_table_ids", self.internal_route_table_ids, description="Private + isolated RTs")
        self.export("lambda_security_group_id", self.lambda_sg_id, description="Lambda security group")
        self.export("database_security_group_id", self.database_sg_id, description="Database security group")
        if self.alb_sg_id is not None and self.instance_sg_id is not None:
            self.export("alb_security_group_id", self.alb_sg_id, description="Load balancer security group (ec2)")
            self.export(
                "instance_security_group_id", self.instance_sg_id, description="Processor instances' group (ec2)"
            )
        self.export("flow_log_group_name", self.flow_logs.log_group.name, description="VPC flow log group")
