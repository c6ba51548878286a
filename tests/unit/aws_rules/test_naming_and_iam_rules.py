"""Rules for what the layers share: service role trust policies (confused deputy) and global names."""

from __future__ import annotations

import json
from typing import Any

from shared.service_role import WITHOUT_SOURCE_ARN
from tests.support import Synth
from tests.unit.aws_rules.support import each

ACCOUNT = "${data.aws_caller_identity.caller.account_id}"
PARTITION = "${data.aws_partition.partition.partition}"


def service_trusts(synth: Synth, service: str | None = None, *, at_least: int = 1) -> list[tuple[str, dict[str, Any]]]:
    """(role name, trust statement) for every statement that lets an AWS service assume a role."""
    found = [
        (name, statement)
        for _, name, role in each(synth, "aws_iam_role")
        for statement in json.loads(role["assume_role_policy"])["Statement"]
        if "Service" in statement.get("Principal", {})
        and (service is None or statement["Principal"]["Service"] == service)
    ]
    assert len(found) >= at_least, f"count guard: expected at least {at_least} trusts of {service}, found {len(found)}"
    return found


def source_arn(statement: dict[str, Any]) -> str | None:
    condition: str | None = statement.get("Condition", {}).get("ArnLike", {}).get("aws:SourceArn")
    return condition


def test_every_service_role_trust_names_our_account_as_the_source(aws: Synth) -> None:
    """A service may assume our roles only when acting for our account: aws:SourceAccount in every trust policy.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceaccount"""
    trusts = service_trusts(aws, at_least=8)  # functions, API logging, flow logs, monitoring, backup, replication
    unguarded = [
        name for name, st in trusts if st.get("Condition", {}).get("StringEquals", {}) != {"aws:SourceAccount": ACCOUNT}
    ]
    assert unguarded == []


def test_flow_log_roles_trust_only_our_flow_logs(aws: Synth) -> None:
    """VPC Flow Logs sends the flow log's ARN as aws:SourceArn (wildcard for the id, unknown before it exists).
    https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html"""
    trusts = service_trusts(aws, "vpc-flow-logs.amazonaws.com", at_least=2)  # one per region
    assert all(
        source_arn(st)
        in {f"arn:{PARTITION}:ec2:{region}:{ACCOUNT}:vpc-flow-log/*" for region in ("us-east-1", "eu-west-1")}
        for _, st in trusts
    )


def test_enhanced_monitoring_roles_trust_only_our_db_instances(aws: Synth) -> None:
    """RDS Enhanced Monitoring sends the DB instance's ARN as aws:SourceArn.
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_Monitoring.OS.Enabling.html"""
    trusts = service_trusts(aws, "monitoring.rds.amazonaws.com", at_least=2)  # one per region
    assert all(
        source_arn(st) in {f"arn:{PARTITION}:rds:{region}:{ACCOUNT}:db:*" for region in ("us-east-1", "eu-west-1")}
        for _, st in trusts
    )


def test_replication_role_trusts_only_replication_from_the_source_bucket(aws: Synth) -> None:
    """S3 replication sends the source bucket's ARN as aws:SourceArn.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html"""
    trusts = service_trusts(aws, "s3.amazonaws.com")
    # The role lives beside the destination; the source bucket's ARN is read from the primary data stack.
    arns = [str(source_arn(st)) for _, st in trusts]
    assert all("aws_s3_bucketaudit_bucket" in arn and arn.endswith("arn}") for arn in arns), arns


def test_services_that_send_no_source_arn_are_not_refused_by_one(aws: Synth) -> None:
    """A condition on a key the service does not send denies the AssumeRole: Lambda (execution role), AWS Backup
    and API Gateway (CloudWatch role) document no aws:SourceArn for these roles (reasons in WITHOUT_SOURCE_ARN).
    https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
    https://docs.aws.amazon.com/aws-backup/latest/devguide/cross-service-confused-deputy-prevention.html
    https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html"""
    for service in WITHOUT_SOURCE_ARN:
        trusts = service_trusts(aws, service)
        assert [name for name, st in trusts if source_arn(st) is not None] == [], service
    others = [st for _, st in service_trusts(aws) if st["Principal"]["Service"] not in WITHOUT_SOURCE_ARN]
    assert len(others) >= 5  # count guard: flow logs and monitoring per region, replication
    assert all(source_arn(st) for st in others)
