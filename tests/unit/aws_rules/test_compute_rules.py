"""AWS rules for the compute layer: API Gateway, Lambda, EventBridge, CloudWatch."""

from __future__ import annotations

from tests.support import Synth
from tests.unit.aws_rules.support import each


def test_no_stack_owns_the_account_and_region_wide_api_gateway_cloudwatch_role(aws: Synth) -> None:
    """The CloudWatch role ARN of API Gateway is one setting per account and region: two owners overwrite each
    other, so only `make bootstrap` sets it; the stages still log to their own groups.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigateway-account.html
    https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html"""
    stages = each(aws, "aws_api_gateway_stage", at_least=2)  # one per compute stack
    assert all(stage["access_log_settings"]["destination_arn"] for _, _, stage in stages)
    assert [stack for stack, kind, _, _ in aws.all_resources() if kind == "aws_api_gateway_account"] == []
