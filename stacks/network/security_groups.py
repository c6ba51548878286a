"""Workload security groups: Lambda functions reach the database and AWS APIs; nothing reaches in from outside.

The ledger's writer may be the other region's cluster (reached over the VPC peering), so each region's functions
may reach PostgreSQL in the peer's isolated (database) subnets, and each region's database admits PostgreSQL from
the peer's private (Lambda) subnets. A security group of a peer VPC in another region cannot be referenced
(https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-security-groups.html): those rules name the peer's
subnet CIDR blocks, the narrowest ranges that hold the peer's functions and databases.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.security_group_rule import SecurityGroupRule
from constructs import Construct

from config.settings import SubnetLayout
from shared import checkov
from shared.naming import Naming

POSTGRES_PORT = 5432
HTTPS_PORT = 443


class WorkloadSecurityGroups(Construct):
    """Exposes `lambda_sg` and `database_sg`. No rule admits traffic from 0.0.0.0/0."""

    def __init__(
        self, scope: Construct, construct_id: str, *, naming: Naming, vpc_id: str, vpc_cidr: str, peer: SubnetLayout
    ) -> None:
        """`peer`: the other region's subnets (its functions in `private`, its databases in `isolated`)."""
        super().__init__(scope, construct_id)
        self.lambda_sg = SecurityGroup(
            self,
            "lambda",
            name=naming.name("lambda"),
            description="Payment Lambda functions: egress to AWS APIs over HTTPS and to the database",
            vpc_id=vpc_id,
            tags={"Name": naming.name("lambda")},
        )
        self.database_sg = SecurityGroup(
            self,
            "database",
            name=naming.name("database"),
            description="Aurora PostgreSQL: ingress only from the Lambda security group and the peer's functions",
            vpc_id=vpc_id,
            tags={"Name": naming.name("database")},
        )
        users = ((self.lambda_sg, "the compute layer's functions"), (self.database_sg, "the data layer's Aurora"))
        for group, user in users:
            checkov.skip(group, "CKV2_AWS_5", f"attached by {user} in another stack (cross-stack reference)")
        SecurityGroupRule(
            self,
            "lambda-https-egress",
            type="egress",
            description="AWS APIs (via NAT or gateway endpoints)",
            security_group_id=self.lambda_sg.id,
            protocol="tcp",
            from_port=HTTPS_PORT,
            to_port=HTTPS_PORT,
            cidr_blocks=["0.0.0.0/0"],
        )
        SecurityGroupRule(
            self,
            "lambda-db-egress",
            type="egress",
            description="PostgreSQL to the database security group",
            security_group_id=self.lambda_sg.id,
            protocol="tcp",
            from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT,
            source_security_group_id=self.database_sg.id,
        )
        SecurityGroupRule(
            self,
            "lambda-db-egress-peer",
            type="egress",
            description="PostgreSQL to the peer region's database subnets (the ledger writer may be there)",
            security_group_id=self.lambda_sg.id,
            protocol="tcp",
            from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT,
            cidr_blocks=list(peer.isolated),
        )
        SecurityGroupRule(
            self,
            "db-from-lambda",
            type="ingress",
            description="PostgreSQL from the payment Lambda functions",
            security_group_id=self.database_sg.id,
            protocol="tcp",
            from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT,
            source_security_group_id=self.lambda_sg.id,
        )
        SecurityGroupRule(
            self,
            "db-from-peer-lambda",
            type="ingress",
            description="PostgreSQL from the peer region's Lambda subnets (over the VPC peering)",
            security_group_id=self.database_sg.id,
            protocol="tcp",
            from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT,
            cidr_blocks=list(peer.private),
        )
        SecurityGroupRule(
            self,
            "db-egress-vpc",
            type="egress",
            description="Replies and replication inside the VPC only",
            security_group_id=self.database_sg.id,
            protocol="tcp",
            from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT,
            cidr_blocks=[vpc_cidr],
        )
