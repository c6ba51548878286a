"""AWS rules for the ledger of record: IAM database authentication, TLS, cross-region PostgreSQL, its alarms."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from stacks.data.ledger import LEDGER_WRITER_ROLE
from tests.support import Synth
from tests.unit.aws_rules.support import each

LEDGER_FUNCTIONS = ("payment-processor", "payment-retry", "ledger-admin")
LEDGER_ENV = {"LEDGER_WRITER_HOSTS", "LEDGER_DATABASE", "LEDGER_USER", "LEDGER_TLS"}
POSTGRES_PORT = 5432
REGIONS = ("us-east-1", "eu-west-1")  # the environments' regions
# arn:${Partition}:rds-db:${Region}:${Account}:dbuser:${DbiResourceId}/${DbUserName}
DB_USER_ARN = re.compile(
    r"arn:\$\{[^}]+\}:rds-db:(?P<region>[a-z0-9-]+):(?P<account>[^:]+):dbuser:(?P<id>[^/]+)/(?P<user>.+)"
)


def _ledger_functions(aws: Synth) -> list[tuple[str, str, dict[str, Any]]]:
    return each(
        aws,
        "aws_lambda_function",
        at_least=2 * len(LEDGER_FUNCTIONS),
        where=lambda f: any(f["function_name"].endswith(f"-{name}") for name in LEDGER_FUNCTIONS),
    )


def _policy_of(aws: Synth, stack: str, function: dict[str, Any]) -> list[dict[str, Any]]:
    role = function["role"].removesuffix(".arn}")
    [policy] = [p for p in aws.resources(stack, "aws_iam_role_policy").values() if p["role"] == f"{role}.id}}"]
    statements: list[dict[str, Any]] = json.loads(policy["policy"])["Statement"]
    return statements


def test_ledger_functions_connect_as_the_ledger_user_with_iam_authentication(aws: Synth) -> None:
    """IAM database authentication needs `rds-db:connect` on `arn:aws:rds-db:region:account:dbuser:
    DbClusterResourceId/db-user-name` (for Aurora the cluster's resource id, or `*`), one user per statement
    resource; the user name must be the database role that logs in. The writer may be in either region, so each
    ledger function may connect in both, as the ledger's one application user and no other.
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrdsiamauthentication.html"""
    for stack, _, function in _ledger_functions(aws):
        grants = [s for s in _policy_of(aws, stack, function) if "rds-db:connect" in s["Action"]]
        assert [s["Action"] for s in grants] == [["rds-db:connect"]], function["function_name"]
        [grant] = grants
        assert grant["Effect"] == "Allow"
        matches = [DB_USER_ARN.fullmatch(resource) for resource in grant["Resource"]]
        assert all(matches), grant["Resource"]
        assert {m["user"] for m in matches if m} == {LEDGER_WRITER_ROLE}
        assert {m["region"] for m in matches if m} == set(REGIONS)
        assert all(m["id"] == "*" or m["id"].startswith("${") for m in matches if m)
        assert all("*" not in m["user"] and "*" not in m["region"] for m in matches if m)


def test_iam_database_authentication_is_enabled_on_every_cluster(aws: Synth) -> None:
    """A token is accepted only by a cluster with IAM database authentication enabled; it is off by default.
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.Enabling.html"""
    clusters = each(aws, "aws_rds_cluster", at_least=2)
    assert [name for _, name, c in clusters if c.get("iam_database_authentication_enabled") is not True] == []


def test_ledger_functions_verify_the_servers_certificate_and_name(aws: Synth) -> None:
    """The clusters refuse connections without TLS (`rds.force_ssl`); the client verifies the server's certificate
    against the RDS CA and its host name (PostgreSQL's `verify-full`), or a man in the middle could take the token.
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.Security.html
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.SSL.html"""
    for _, _, function in _ledger_functions(aws):
        environment = function["environment"]["variables"]
        assert set(environment) >= LEDGER_ENV, function["function_name"]
        assert environment["LEDGER_TLS"] == "verify-full"
        assert environment["LEDGER_USER"] == LEDGER_WRITER_ROLE


def test_ledger_functions_reach_the_global_writer_endpoint(aws: Synth) -> None:
    """The global database's writer endpoint always resolves to the current writer (it follows a switchover or
    failover), so functions of both regions write through it and never to a read-only secondary cluster.
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-connecting.html"""
    for _, _, function in _ledger_functions(aws):
        hosts = function["environment"]["variables"]["LEDGER_WRITER_HOSTS"]
        assert re.fullmatch(r"\$\{[^}]*aws_rds_global_cluster[^}]*endpoint\}:5432", hosts), hosts
    # Only ledger-admin connects as the master user (its secret); the payment functions never see it.
    admins = [
        f["function_name"]
        for _, _, f in _ledger_functions(aws)
        if "LEDGER_ADMIN_SECRET_ARN" in f["environment"]["variables"]
    ]
    assert len(admins) == 2, admins
    assert all(name.endswith("-ledger-admin") for name in admins), admins


def _peer_rules(aws: Synth) -> list[tuple[str, str, dict[str, Any]]]:
    return each(
        aws,
        "aws_security_group_rule",
        at_least=4,
        where=lambda r: bool(r.get("cidr_blocks")) and ("peer" in r.get("description", "")),
    )


def test_cross_region_postgres_rules_name_peer_cidrs_on_5432_only(aws: Synth) -> None:
    """A security group of a peer VPC in another region cannot be referenced: rules across an inter-region peering
    name the peer's CIDR blocks. Those rules open PostgreSQL's port over TCP and nothing else, and only ranges
    inside the peer VPC (never 0.0.0.0/0).
    https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-security-groups.html
    https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html"""
    vpcs = {stack: aws.resource(stack, "aws_vpc")["cidr_block"] for stack in ("network-primary", "network-secondary")}
    for stack, name, rule in _peer_rules(aws):
        assert (rule["protocol"], rule["from_port"], rule["to_port"]) == ("tcp", POSTGRES_PORT, POSTGRES_PORT), name
        assert "source_security_group_id" not in rule
        [peer_vpc] = [cidr for other, cidr in vpcs.items() if other != stack]
        for block in rule["cidr_blocks"]:
            assert ipaddress.IPv4Network(block).subnet_of(ipaddress.IPv4Network(peer_vpc)), (stack, name, block)
    kinds = {(stack, rule["type"]) for stack, _, rule in _peer_rules(aws)}
    assert kinds == {(stack, kind) for stack in vpcs for kind in ("ingress", "egress")}


# Allowed characters of a security group rule's description (EC2 IpRange / UserIdGroupPair).
RULE_DESCRIPTION = re.compile(r"[0-9A-Za-z_ .:/()#,@\[\]+=&;{}!$*-]{0,255}")


def test_security_group_rule_descriptions_use_only_the_characters_ec2_accepts(aws: Synth) -> None:
    """A rule description is up to 255 characters of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$* (no
    apostrophe): EC2 refuses any other, so the apply of the new cross-region rules would fail.
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html"""
    for stack, name, rule in each(aws, "aws_security_group_rule", at_least=12):
        assert RULE_DESCRIPTION.fullmatch(rule.get("description", "")), (stack, name, rule.get("description"))


def test_replication_lag_alarm_watches_the_secondary_cluster_at_the_configured_threshold(aws: Synth) -> None:
    """AuroraGlobalDBReplicationLag (milliseconds) is published for the secondary cluster of a global database,
    by DBClusterIdentifier; seed 004 sets its alarm at 1,000 ms (data.replication_lag_alarm_ms).
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.AuroraMonitoring.Metrics.html
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-monitoring.html"""
    alarms = each(
        aws, "aws_cloudwatch_metric_alarm", where=lambda a: a.get("metric_name") == "AuroraGlobalDBReplicationLag"
    )
    assert [stack for stack, _, _ in alarms] == ["compute-secondary"]
    [(_, _, alarm)] = alarms
    assert alarm["namespace"] == "AWS/RDS"
    assert alarm["threshold"] == 1000
    assert alarm["comparison_operator"] == "GreaterThanThreshold"
    assert alarm["statistic"] == "Maximum"
    assert "cross-stack-reference-input-data-secondary" in alarm["dimensions"]["DBClusterIdentifier"]
