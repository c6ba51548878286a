"""A three-tier VPC: public, private (NAT egress) and isolated (no internet) subnets over N zones."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from constructs import Construct

from config.settings import SubnetLayout
from shared.naming import Naming

ANYWHERE = "0.0.0.0/0"


class ThreeTierVpc(Construct):
    """Exposes `vpc`, the subnet lists per tier and the route tables that peering routes go into.

    `zone_ids`: one availability zone id per zone (literal, or tokens from the account's zone lookup), so
    construct ids use the zone's index and only tags carry the zone."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: Naming,
        cidr: str,
        layout: SubnetLayout,
        zone_ids: list[str],
        nat_gateway_count: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": naming.name("vpc")},
        )
        # Nothing may use the default group: it allows all traffic between members unless emptied.
        DefaultSecurityGroup(self, "default-sg", vpc_id=self.vpc.id, tags={"Name": naming.name("default-closed")})

        self.public_subnets = self._subnets("public", layout.public, zone_ids, naming)
        self.private_subnets = self._subnets("private", layout.private, zone_ids, naming)
        self.isolated_subnets = self._subnets("isolated", layout.isolated, zone_ids, naming)

        igw = InternetGateway(self, "igw", vpc_id=self.vpc.id, tags={"Name": naming.name("igw")})
        public_rt = self._route_table("public", naming.name("rt-public"))
        Route(self, "public-default", route_table_id=public_rt.id, destination_cidr_block=ANYWHERE, gateway_id=igw.id)
        self._associate("public", public_rt, self.public_subnets)

        nats = []
        for index in range(nat_gateway_count):
            eip = Eip(self, f"nat-eip-{index}", domain="vpc", tags={"Name": naming.name(f"nat-{zone_ids[index]}")})
            nats.append(
                NatGateway(
                    self,
                    f"nat-{index}",
                    allocation_id=eip.id,
                    subnet_id=self.public_subnets[index].id,
                    tags={"Name": naming.name(f"nat-{zone_ids[index]}")},
                    depends_on=[igw],
                )
            )

        self.private_route_tables = []
        for index, subnet in enumerate(self.private_subnets):
            table = self._route_table(f"private-{index}", naming.name(f"rt-private-{zone_ids[index]}"))
            Route(
                self,
                f"private-default-{index}",
                route_table_id=table.id,
                destination_cidr_block=ANYWHERE,
                nat_gateway_id=nats[index % len(nats)].id,
            )
            RouteTableAssociation(self, f"private-assoc-{index}", subnet_id=subnet.id, route_table_id=table.id)
            self.private_route_tables.append(table)

        self.isolated_route_table = self._route_table("isolated", naming.name("rt-isolated"))
        self._associate("isolated", self.isolated_route_table, self.isolated_subnets)

        self.nat_gateways = nats
        self.internal_route_tables = [*self.private_route_tables, self.isolated_route_table]
        for service in ("s3", "dynamodb"):
            VpcEndpoint(
                self,
                f"{service}-endpoint",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{naming.region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=[t.id for t in self.internal_route_tables],
                tags={"Name": naming.name(f"{service}-endpoint")},
            )

    def _subnets(self, tier: str, cidrs: tuple[str, ...], zone_ids: list[str], naming: Naming) -> list[Subnet]:
        return [
            Subnet(
                self,
                f"{tier}-{index}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone_id=zone_ids[index],
                map_public_ip_on_launch=False,
                tags={"Name": naming.name(f"{tier}-{zone_ids[index]}"), "Tier": tier},
            )
            for index, cidr in enumerate(cidrs)
        ]

    def _route_table(self, key: str, name: str) -> RouteTable:
        return RouteTable(self, f"rt-{key}", vpc_id=self.vpc.id, tags={"Name": name})

    def _associate(self, tier: str, table: RouteTable, subnets: list[Subnet]) -> None:
        for index, subnet in enumerate(subnets):
            RouteTableAssociation(self, f"{tier}-assoc-{index}", subnet_id=subnet.id, route_table_id=table.id)
