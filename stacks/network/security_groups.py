"""Workload security groups: Lambda functions reach the database and AWS APIs; nothing reaches in from outside.

The ledger's writer may be the other region's cluster (reached over the VPC peering), so each region's functions
may reach PostgreSQL in the peer's isolated (database) subnets, and each region's database admits PostgreSQL from
the peer's private (Lambda) subnets. A security group of a peer VPC in another region cannot be referenced
(https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-security-groups.html): those rules name the peer's
subnet CIDR blocks, the narrowest ranges that hold the peer's functions and databases.

With `compute.runtime = "ec2"` (`FleetSecurityGroups`), the load balancer's group admits HTTPS and HTTP (which it
only redirects to HTTPS) from anywhere and reaches only the instances' port; the instances' group admits only the
load balancer and reaches AWS APIs (HTTPS) and the databases, as the functions do; the database admits them too.
With `lambda` none of these groups exist.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.security_group_rule import SecurityGroupRule
from constructs import Construct

from config.settings import SubnetLayout
from shared import checkov
from shared.naming import Naming
from shared.processor_runtime import PORT as PROCESSOR_PORT

POSTGRES_PORT = 5432
HTTPS_PORT = 443
HTTP_PORT = 80
ANYWHERE_IPV4 = "0.0.0.0/0"
ANYWHERE_IPV6 = "::/0"
# (construct id, direction, group, port, description, peer: CIDR blocks or a security group id)
Rule = tuple[str, str, str, int, str, list[str] | str]


def add_rules(scope: Construct, rules: tuple[Rule, ...]) -> dict[str, SecurityGroupRule]:
    """One TCP rule per entry (by construct id); IPv6 blocks (`::/0`) go to `ipv6_cidr_blocks`."""
    added: dict[str, SecurityGroupRule] = {}
    for rule_id, direction, group_id, port, description, other in rules:
        blocks = other if isinstance(other, list) else []
        added[rule_id] = SecurityGroupRule(
            scope,
            rule_id,
            type=direction,
            description=description,
            security_group_id=group_id,
            protocol="tcp",
            from_port=port,
            to_port=port,
            cidr_blocks=[b for b in blocks if ":" not in b] or None,
            ipv6_cidr_blocks=[b for b in blocks if ":" in b] or None,
            source_security_group_id=other if isinstance(other, str) else None,
        )
    return added


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
            # As first deployed, though the peer's Lambda subnets are admitted too (below): a new description
            # would replace the group.
            description="Aurora PostgreSQL: ingress only from the Lambda security group",
            vpc_id=vpc_id,
            tags={"Name": naming.name("database")},
        )
        users = ((self.lambda_sg, "the compute layer's functions"), (self.database_sg, "the data layer's Aurora"))
        for group, user in users:
            checkov.skip(group, "CKV2_AWS_5", f"attached by {user} in another stack (cross-stack reference)")
        lambda_sg, database_sg = self.lambda_sg.id, self.database_sg.id
        rules: tuple[Rule, ...] = (
            ("lambda-https-egress", "egress", lambda_sg, HTTPS_PORT, "AWS APIs (via NAT or gateway endpoints)",
             ["0.0.0.0/0"]),
            ("lambda-db-egress", "egress", lambda_sg, POSTGRES_PORT, "PostgreSQL to the database security group",
             database_sg),
            ("lambda-db-egress-peer", "egress", lambda_sg, POSTGRES_PORT,
             "PostgreSQL to the peer region database subnets (the ledger writer may be there)", list(peer.isolated)),
            ("db-from-lambda", "ingress", database_sg, POSTGRES_PORT, "PostgreSQL from the payment Lambda functions",
             lambda_sg),
            ("db-from-peer-lambda", "ingress", database_sg, POSTGRES_PORT,
             "PostgreSQL from the peer region Lambda subnets (over the VPC peering)", list(peer.private)),
            ("db-egress-vpc", "egress", database_sg, POSTGRES_PORT, "Replies and replication inside the VPC only",
             [vpc_cidr]),
        )  # fmt: skip
        add_rules(self, rules)


class FleetSecurityGroups(Construct):
    """The ec2 runtime's groups: exposes `alb_sg` and `instance_sg`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: Naming,
        vpc_id: str,
        database_sg_id: str,
        peer: SubnetLayout,
    ) -> None:
        """`peer`: the other region's subnets (its databases in `isolated`; its instances, in `private`, are
        admitted by the database's existing peer rule)."""
        super().__init__(scope, construct_id)
        self.alb_sg = SecurityGroup(
            self,
            "alb",
            name=naming.name("alb"),
            description="Payments API load balancer: HTTPS (and HTTP, redirected) from clients",
            vpc_id=vpc_id,
            tags={"Name": naming.name("alb")},
        )
        self.instance_sg = SecurityGroup(
            self,
            "instances",
            name=naming.name("instances"),
            description="Payment processor instances: the load balancer in; AWS APIs and the database out",
            vpc_id=vpc_id,
            tags={"Name": naming.name("instances")},
        )
        for group in (self.alb_sg, self.instance_sg):
            checkov.skip(group, "CKV2_AWS_5", "attached by the compute layer (cross-stack reference)")
        alb, instances, anywhere = self.alb_sg.id, self.instance_sg.id, [ANYWHERE_IPV4, ANYWHERE_IPV6]
        rules: tuple[Rule, ...] = (
            ("alb-https-ingress", "ingress", alb, HTTPS_PORT, "HTTPS from clients", anywhere),
            ("alb-http-ingress", "ingress", alb, HTTP_PORT, "HTTP from clients (redirected to HTTPS)", anywhere),
            ("alb-to-instances", "egress", alb, PROCESSOR_PORT, "The processor instances only", instances),
            ("instances-from-alb", "ingress", instances, PROCESSOR_PORT, "The load balancer only", alb),
            ("instances-https-egress", "egress", instances, HTTPS_PORT, "AWS APIs and SSM (via NAT or endpoints)",
             [ANYWHERE_IPV4]),
            ("instances-db-egress", "egress", instances, POSTGRES_PORT, "PostgreSQL to the database security group",
             database_sg_id),
            ("instances-db-egress-peer", "egress", instances, POSTGRES_PORT,
             "PostgreSQL to the peer region database subnets (the ledger writer may be there)", list(peer.isolated)),
            ("db-from-instances", "ingress", database_sg_id, POSTGRES_PORT, "PostgreSQL from the processor instances",
             instances),
        )  # fmt: skip
        added = add_rules(self, rules)
        checkov.skip(
            added["alb-http-ingress"],
            "CKV_AWS_260",
            "the public load balancer's HTTP listener only redirects to HTTPS (301); no request is served over HTTP",
        )
