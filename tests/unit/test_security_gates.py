"""Security gates over every synthesized stack: IAM least privilege, encryption with the region's CMK, no secrets."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from stacks.dns.rollout.engine import LOG_DELIVERY_ACTIONS
from tests.support import ROOT, STACKS, Synth

# Actions AWS does not let you scope to a resource: `Resource: "*"` is the only legal form for them.
UNSCOPABLE_ACTIONS = {
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcs",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "cloudwatch:PutMetricData",
    "tag:GetResources",  # AWS Backup's tag-based selection
    "dynamodb:ListBackups",
    # Scopable to alarm ARNs, but composite alarms are returned only to a permission on "*" (region-alarms reads
    # them; its statement is held to the platform's regions, tests/unit/aws_rules/test_region_alarms_rules.py):
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html
    "cloudwatch:DescribeAlarms",
    # Step Functions' delivery of execution logs (vended logs): the Step Functions guide grants these on "*",
    # https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html
    *LOG_DELIVERY_ACTIONS,
}
REQUIRED_DENIES = {
    "dynamodb:DeleteTable",
    "dynamodb:DeleteItem",
    "s3:DeleteBucket",
    "s3:DeleteObjectVersion",
    "kms:ScheduleKeyDeletion",
}
# Each gate also counts what it walked: a walker that stops finding things must fail, not pass on nothing.
# Today (both targets): 96 policy statements, 6 Lambda roles, 40 encrypted stores, 2 secret outputs.
AT_LEAST_POLICY_STATEMENTS = 94
AT_LEAST_LAMBDA_ROLES = 6
AT_LEAST_STORES = 38
AT_LEAST_SECRET_OUTPUTS = 2
POLICY_FIELDS = {
    "aws_iam_role_policy": "policy",
    "aws_iam_policy": "policy",
    "aws_s3_bucket_policy": "policy",
    "aws_sqs_queue_policy": "policy",
    "aws_sns_topic_policy": "policy",
    "aws_kms_key": "policy",
}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_documents(synth: Synth) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for stack, rtype, name, config in synth.all_resources():
        field = POLICY_FIELDS.get(rtype)
        if field and field in config:
            text = config[field]
            assert not text.startswith("${"), f"{stack} {rtype}.{name}: policy is not a literal JSON document"
            yield stack, rtype, name, json.loads(text)


@pytest.mark.parametrize("synth_name", ["aws_dev", "aws_prod"])
def test_no_wildcard_actions_and_no_wildcard_resources_where_scoping_exists(
    request: pytest.FixtureRequest, synth_name: str
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    offences = []
    statements = 0
    for stack, rtype, name, document in policy_documents(synth):
        for statement in as_list(document["Statement"]):
            statements += 1
            if statement["Effect"] != "Allow":
                continue
            actions = as_list(statement.get("Action", []))
            is_key_admin = rtype == "aws_kms_key" and str(statement.get("Principal", {}).get("AWS", "")).endswith(
                ":root"
            )
            for action in actions:
                if (action == "*" or action.endswith(":*")) and not is_key_admin:
                    offences.append(f"{stack} {rtype}.{name}: action {action}")
            resources = as_list(statement.get("Resource", []))
            # A key policy's "*" means the key itself; resource policies are attached to their resource.
            if "*" in resources and rtype == "aws_iam_role_policy":
                unscoped = sorted(set(actions) - UNSCOPABLE_ACTIONS)
                if unscoped:
                    offences.append(f"{stack} {rtype}.{name}: Resource * for {unscoped}")
    assert offences == []
    assert statements >= AT_LEAST_POLICY_STATEMENTS, f"walked only {statements} policy statements"


def test_every_lambda_role_carries_the_explicit_denies(aws_dev: Synth) -> None:
    checked = 0
    for stack in STACKS:
        roles = synth_roles(aws_dev, stack, "lambda.amazonaws.com")
        for role_key in roles:
            checked += 1
            denied: set[str] = set()
            for policy in aws_dev.resources(stack, "aws_iam_role_policy").values():
                if role_key in policy["role"]:
                    for statement in as_list(json.loads(policy["policy"])["Statement"]):
                        if statement["Effect"] == "Deny":
                            denied |= set(as_list(statement["Action"]))
            assert denied >= REQUIRED_DENIES, f"{stack} role {role_key} lacks {sorted(REQUIRED_DENIES - denied)}"
    assert checked >= AT_LEAST_LAMBDA_ROLES, f"checked only {checked} Lambda roles"


def synth_roles(synth: Synth, stack: str, service: str) -> list[str]:
    return [
        name
        for name, role in synth.resources(stack, "aws_iam_role").items()
        if service in json.dumps(json.loads(role["assume_role_policy"]))
    ]


# Where each kind of store keeps its key, and how to tell it is switched on.
ENCRYPTION_FIELDS: dict[str, tuple[str, ...]] = {
    "aws_cloudwatch_log_group": ("kms_key_id",),
    "aws_sns_topic": ("kms_master_key_id",),
    "aws_sqs_queue": ("kms_master_key_id",),
    "aws_secretsmanager_secret": ("kms_key_id",),
    "aws_rds_cluster": ("kms_key_id",),
    "aws_backup_vault": ("kms_key_arn",),
    "aws_lambda_function": ("kms_key_arn",),
    "aws_dynamodb_table_replica": ("kms_key_arn",),
}


def region_key_reference(stack: str, value: str) -> bool:
    """A reference to a KMS key of this stack, to the data layer of the same region, or to the key behind an alias
    looked up in the stack (that alias is the region key's: tests/unit/aws_rules/test_rollout_engine_rules.py)."""
    role = stack.rsplit("-", 1)[1]
    return bool(
        re.search(r"\$\{aws_kms_key\.[\w-]+\.(arn|key_id|id)\}", value)
        or f"cross-stack-reference-input-data-{role}" in value
        or re.fullmatch(r"\$\{data\.aws_kms_alias\.[\w-]+\.target_key_arn\}", value)
    )


def _s3_default_encryption(config: dict[str, Any]) -> dict[str, Any]:
    rules = as_list(config.get("rule", []))
    default = rules[0].get("apply_server_side_encryption_by_default", {}) if rules else {}
    return default[0] if isinstance(default, list) else default


def is_store(rtype: str, config: dict[str, Any]) -> bool:
    """Whether this gate checks the resource: something that keeps data and names a key."""
    return (
        rtype in ENCRYPTION_FIELDS
        or rtype in {"aws_dynamodb_table", "aws_s3_bucket_server_side_encryption_configuration"}
        or (rtype == "aws_ssm_parameter" and config.get("type") == "SecureString")
    )


def uses_region_cmk(stack: str, rtype: str, config: dict[str, Any]) -> bool:
    """Whether a store (see `is_store`) is encrypted with its region's customer managed key."""
    if rtype in ENCRYPTION_FIELDS:
        value = next((config.get(f) for f in ENCRYPTION_FIELDS[rtype] if config.get(f)), "")
        storage_encrypted = rtype != "aws_rds_cluster" or config.get("storage_encrypted") is True
        return storage_encrypted and region_key_reference(stack, str(value))
    if rtype == "aws_dynamodb_table":
        sse = config.get("server_side_encryption")
        sse = sse if isinstance(sse, dict) else {}
        return bool(sse.get("enabled") and region_key_reference(stack, str(sse.get("kms_key_arn", ""))))
    if rtype == "aws_s3_bucket_server_side_encryption_configuration":
        default = _s3_default_encryption(config)
        return default.get("sse_algorithm") == "aws:kms" and region_key_reference(
            stack, str(default.get("kms_master_key_id", ""))
        )
    return region_key_reference(stack, str(config.get("key_id", "")))  # SecureString parameters


@pytest.mark.parametrize("synth_name", ["local_dev", "aws_prod"])
def test_every_store_log_group_topic_queue_and_secret_uses_the_region_cmk(
    request: pytest.FixtureRequest, synth_name: str
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    stores = [
        (stack, rtype, name, config) for stack, rtype, name, config in synth.all_resources() if is_store(rtype, config)
    ]
    unencrypted = [
        f"{stack} {rtype}.{name}" for stack, rtype, name, config in stores if not uses_region_cmk(stack, rtype, config)
    ]
    assert unencrypted == []
    assert len(stores) >= AT_LEAST_STORES, f"checked only {len(stores)} stores"


def test_secret_outputs_are_marked_sensitive(aws_dev: Synth) -> None:
    secretish = re.compile(r"(password|secret|api_key_value|token|credential)", re.I)
    checked = 0
    for stack in STACKS:
        for name, output in aws_dev.outputs(stack).items():
            if secretish.search(name) and not name.endswith(("_arn", "_name", "_id")):
                checked += 1
                assert output.get("sensitive") is True, f"{stack}.{name} must be sensitive"
    assert checked >= AT_LEAST_SECRET_OUTPUTS, f"checked only {checked} secret outputs"


def test_env_files_are_ignored_and_none_is_tracked() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", ".env", ".env.prod"], check=False, cwd=ROOT, capture_output=True, text=True
    )
    assert ignored.stdout.split() == [".env", ".env.prod"]
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert [f for f in tracked.split() if f.split("/")[-1].startswith(".env") and f != ".env.example"] == []
