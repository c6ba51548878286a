"""Rules for what the layers share: service role trust policies (confused deputy) and global names."""

from __future__ import annotations

import json
import re
from typing import Any

from config import load_settings
from config.schema import GLOBAL_COMPONENT_MAX, REGION_ZONE_COUNTS, S3_BUCKET_NAME_MAX
from shared.naming import Naming
from shared.service_role import WITHOUT_SOURCE_ARN
from tests.conftest import AWS_ACCOUNT
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


def source_arn(statement: dict[str, Any]) -> str | list[str] | None:
    condition: str | list[str] | None = statement.get("Condition", {}).get("ArnLike", {}).get("aws:SourceArn")
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


def test_replication_role_trusts_only_replication_from_the_source_buckets(aws: Synth) -> None:
    """S3 replication sends the source bucket's ARN as aws:SourceArn. The audit buckets replicate both ways with
    one role, so its trust names both buckets and nothing else.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html"""
    (trust,) = service_trusts(aws, "s3.amazonaws.com")
    arns = source_arn(trust[1])
    assert isinstance(arns, list), arns
    # The role lives beside the secondary's bucket; the primary bucket's ARN is read from the primary data stack.
    assert sorted(arns) == sorted(
        [
            "${aws_s3_bucket.audit_bucket_85D46CD8.arn}",
            "${data.terraform_remote_state.cross-stack-reference-input-data-primary.outputs."
            "cross-stack-output-aws_s3_bucketaudit_bucket_85D46CD8arn}",
        ]
    )


def test_services_that_send_no_source_arn_are_not_refused_by_one(aws: Synth) -> None:
    """A condition on a key the service does not send denies the AssumeRole: Lambda (execution role) and AWS
    Backup document no aws:SourceArn for these roles (reasons in WITHOUT_SOURCE_ARN). (API Gateway's account-level
    CloudWatch role is made once per account by `make bootstrap`, not by the stacks.)
    https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
    https://docs.aws.amazon.com/aws-backup/latest/devguide/cross-service-confused-deputy-prevention.html"""
    for service in WITHOUT_SOURCE_ARN:
        trusts = service_trusts(aws, service)
        assert [name for name, st in trusts if source_arn(st) is not None] == [], service
    others = [st for _, st in service_trusts(aws) if st["Principal"]["Service"] not in WITHOUT_SOURCE_ARN]
    assert len(others) >= 5  # count guard: flow logs and monitoring per region, replication
    assert all(source_arn(st) for st in others)


BUCKET_NAME = re.compile(r"(?!xn--)(?!sthree-)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?<!-s3alias)(?<!--ol-s3)")


def test_bucket_names_carry_the_account_and_follow_s3_naming_rules(aws: Synth) -> None:
    """Bucket names are global across all accounts: ours carry the account id (as the state bucket does), so no
    other account can take them first; 3-63 lowercase letters, digits, dots and hyphens.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"""
    buckets = each(aws, "aws_s3_bucket", at_least=2)  # an audit bucket per region
    for _, name, bucket in buckets:
        assert bucket["bucket"].endswith(f"-{ACCOUNT}"), name
        resolved = bucket["bucket"].replace(ACCOUNT, AWS_ACCOUNT)
        assert BUCKET_NAME.fullmatch(resolved), resolved


def test_bucket_names_fit_at_the_longest_configured_project_suffix_and_region() -> None:
    """At the schema's longest project (16), suffix (12) and region, a global name stays within 63 characters;
    longer configurations are refused by config validation.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"""
    longest_region = max(REGION_ZONE_COUNTS, key=len)
    naming = Naming(project="p" * 16, suffix="s" * 12, role="primary", region=longest_region)
    name = naming.global_name("a" * GLOBAL_COMPONENT_MAX, AWS_ACCOUNT)
    assert len(name) <= S3_BUCKET_NAME_MAX, name
    assert BUCKET_NAME.fullmatch(name)
    longest = {"PAYMENTS_PROJECT": "p" * 16, "PAYMENTS_ENVIRONMENT_SUFFIX": "s" * 12}
    settings = load_settings(
        environ={"PAYMENTS_DOTENV": "none", "PAYMENTS_REGIONS_SECONDARY": longest_region, **longest}
    )
    assert settings.regions.secondary == longest_region  # the configuration is accepted


def test_subnets_place_zones_by_id_from_the_accounts_available_zones(aws: Synth) -> None:
    """AZ names map to different physical zones in each account, and opt-in zones (Local Zones) are not
    enabled by default: subnets take zone ids, looked up among available zones that need no opt-in.
    https://docs.aws.amazon.com/ram/latest/userguide/working-with-az-ids.html
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAvailabilityZones.html"""
    found = each(aws, "aws_subnet", at_least=12)  # three tiers over at least two zones, per region
    assert [name for _, name, subnet in found if "availability_zone" in subnet] == []
    for stack, _, subnet in found:
        assert subnet["availability_zone_id"].startswith("${element(data.aws_availability_zones.zones.zone_ids, ")
        lookup = aws.data_sources(stack, "aws_availability_zones")["zones"]
        assert lookup["state"] == "available"
        assert {"name": "opt-in-status", "values": ["opt-in-not-required"]} in lookup["filter"]
