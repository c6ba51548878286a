"""AWS rules for `region-alarms`, the function the rollout engine (dns-primary's state machine) invokes to read a
region's alarms: where it lives, what its role may do, and that it can read every alarm of the platform."""

from __future__ import annotations

import json
from typing import Any

from tests.support import Synth
from tests.unit.aws_rules.support import each

FUNCTION_SUFFIX = "-region-alarms"
# What every function's role carries besides its own grants (stacks/compute/lambda_function.py).
COMMON_ALLOWS = {"WriteOwnLogs", "UseRegionKey", "AttachToVpc", "SendTraces"}


def _region_alarms(aws: Synth) -> tuple[str, str, dict[str, Any]]:
    [found] = each(aws, "aws_lambda_function", where=lambda f: f["function_name"].endswith(FUNCTION_SUFFIX))
    return found


def _policy(aws: Synth, stack: str, function: dict[str, Any]) -> dict[str, dict[str, Any]]:
    role_key = function["role"].removeprefix("${aws_iam_role.").removesuffix(".arn}")
    [policy] = [
        p
        for p in aws.resources(stack, "aws_iam_role_policy").values()
        if p["role"] == f"${{aws_iam_role.{role_key}.id}}"
    ]
    return {statement["Sid"]: statement for statement in json.loads(policy["policy"])["Statement"]}


def _regions(function: dict[str, Any]) -> list[str]:
    return function["environment"]["variables"]["ALLOWED_REGIONS"].split(",")


def test_only_the_primary_compute_stack_deploys_it_and_exports_its_arn(aws: Synth) -> None:
    """Step Functions' AWS SDK integrations call only the state machine's own Region, so a state machine reads
    another Region through a Lambda function (the CDK's CallAwsServiceCrossRegion does the same); the engine runs
    in the primary region, so one function there serves both regions.
    https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html
    https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_stepfunctions_tasks.CallAwsServiceCrossRegion.html"""
    stack, name, function = _region_alarms(aws)  # exactly one across all eight stacks

    assert stack == "compute-primary"
    assert function["handler"] == "lambda_src.region_alarms.handler.handler"
    outputs = {s: aws.outputs(s) for s in ("compute-primary", "compute-secondary")}
    assert outputs["compute-primary"]["region_alarms_function_arn"]["value"] == f"${{aws_lambda_function.{name}.arn}}"
    assert "region_alarms_function_arn" not in outputs["compute-secondary"]


def test_its_role_may_only_describe_alarms_in_the_platforms_two_regions(aws: Synth) -> None:
    """DescribeAlarms accepts alarm ARNs as its resource, but "to return information about composite alarms, you
    must be signed on with the cloudwatch:DescribeAlarms permission that is scoped to *"; a narrower scope leaves
    them out of the answer. `region-unhealthy` is a composite alarm on AWS, so the grant is on "*" and held to the
    platform's regions by the global condition key aws:RequestedRegion.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requestedregion"""
    stack, _, function = _region_alarms(aws)
    statements = _policy(aws, stack, function)
    allows = {sid for sid, statement in statements.items() if statement["Effect"] == "Allow"}

    assert allows == COMMON_ALLOWS | {"ReadPlatformAlarms"}, "nothing beyond what every function gets"
    read = statements["ReadPlatformAlarms"]
    assert read["Action"] == ["cloudwatch:DescribeAlarms"]
    assert read["Resource"] == ["*"]
    regions = _regions(function)
    assert len(set(regions)) == 2
    assert read["Condition"] == {"StringEquals": {"aws:RequestedRegion": regions}}
    assert statements["DenyDestructiveActions"]["Effect"] == "Deny"


def test_it_accepts_every_alarm_of_the_platform_composite_ones_included(aws: Synth) -> None:
    """The function refuses names outside ALARM_PREFIXES and regions outside ALLOWED_REGIONS; every metric and
    composite alarm of both compute stacks must fall inside them, in its own stack's region, or the engine could
    not read it.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Composite_Alarm.html"""
    _, _, function = _region_alarms(aws)
    prefixes = tuple(function["environment"]["variables"]["ALARM_PREFIXES"].split(","))
    regions = _regions(function)
    alarms = [
        *each(aws, "aws_cloudwatch_metric_alarm", at_least=20),
        *each(aws, "aws_cloudwatch_composite_alarm", at_least=2),  # region-unhealthy, one per region
    ]

    for stack, name, alarm in alarms:
        assert alarm["alarm_name"].startswith(prefixes), f"{stack} {name}: {alarm['alarm_name']}"
    for stack in ("compute-primary", "compute-secondary"):
        [provider] = aws[stack]["provider"]["aws"]
        assert provider["region"] in regions, stack
    assert len(prefixes) == 2
    assert all(prefix.endswith("-") for prefix in prefixes)


def test_it_reserves_no_concurrency_and_is_traced_in_the_private_subnets(aws: Synth) -> None:
    """A function invoked once per poll by the engine needs none of the account's concurrency pool (Lambda keeps at
    least 100 units unreserved); it runs in the VPC's private subnets, reaching the other region's CloudWatch
    endpoint through the NAT gateway, with active tracing.
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc-internet.html"""
    _, _, function = _region_alarms(aws)

    assert "reserved_concurrent_executions" not in function
    assert function["tracing_config"] == {"mode": "Active"}
    assert function["vpc_config"]["subnet_ids"]
    assert all("private" in s for s in function["vpc_config"]["subnet_ids"])
