"""AWS rules for the compute layer: API Gateway, Lambda, EventBridge, CloudWatch."""

from __future__ import annotations

import json
from typing import Any

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


# The default Lambda concurrency quota of an account and region, and the part of it AWS keeps unreserved.
DEFAULT_CONCURRENCY_QUOTA = 1000
UNRESERVED_MINIMUM = 100


def test_reserved_concurrency_admits_the_api_burst_and_fits_the_default_quota(aws: Synth) -> None:
    """Concurrency is requests per second times their duration; a function whose reserved concurrency is below the
    burst its API admits throttles admitted requests (API Gateway answers them 5xx). Lambda keeps at least 100
    units of the account's concurrency unreserved, so a region's reservations must leave them (the default quota
    here; `make preflight` checks the account's real quota).
    https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html"""
    functions = each(aws, "aws_lambda_function", at_least=6, where=lambda f: "reserved_concurrent_executions" in f)
    for stack in {stack for stack, _, _ in functions}:
        [settings] = [s["settings"] for s in aws.resources(stack, "aws_api_gateway_method_settings").values()]
        reserved = [f["reserved_concurrent_executions"] for s, _, f in functions if s == stack]
        assert min(reserved) >= settings["throttling_burst_limit"] + settings["throttling_rate_limit"], stack
        assert sum(reserved) <= DEFAULT_CONCURRENCY_QUOTA - UNRESERVED_MINIMUM, stack


def test_event_targets_retry_then_dead_letter_to_a_queue_eventbridge_may_write(aws: Synth) -> None:
    """Without a dead-letter queue EventBridge drops an event once its retry policy is spent; an SQS dead-letter
    queue must grant events.amazonaws.com sqs:SendMessage, conditioned on the rule's ARN (aws:SourceArn).
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html"""
    for stack, _, target in each(aws, "aws_cloudwatch_event_target", at_least=2):
        policy = target["retry_policy"]
        assert 60 <= policy["maximum_event_age_in_seconds"] <= 86400
        assert 0 <= policy["maximum_retry_attempts"] <= 185
        dead_letter_arn = target["dead_letter_config"]["arn"]
        queues = aws.resources(stack, "aws_sqs_queue").items()
        [queue] = [q for key, q in queues if dead_letter_arn == f"${{aws_sqs_queue.{key}.arn}}"]
        [statement] = json.loads(queue["policy"])["Statement"]
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert "sqs:SendMessage" in statement["Action"]
        rule_name = target["rule"].removesuffix(".name}")
        assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == f"{rule_name}.arn}}"


def test_failed_event_deliveries_raise_an_alarm(aws: Synth) -> None:
    """FailedInvocations counts invocations that failed for good; InvocationsFailedToBeSentToDlq counts events the
    dead-letter queue could not take. A custom bus's rule metrics carry both EventBusName and RuleName.
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html"""
    for stack, _, target in each(aws, "aws_cloudwatch_event_target", at_least=2):
        watched = {
            query["metric"]["metric_name"]
            for alarm in aws.resources(stack, "aws_cloudwatch_metric_alarm").values()
            for query in alarm.get("metric_query", [])
            if "metric" in query
            and query["metric"]["namespace"] == "AWS/Events"
            and query["metric"]["dimensions"] == {"EventBusName": target["event_bus_name"], "RuleName": target["rule"]}
        }
        assert watched >= {"FailedInvocations", "InvocationsFailedToBeSentToDlq"}, stack


def test_synchronously_invoked_functions_carry_no_dead_letter_queue(aws: Synth) -> None:
    """A function's dead-letter queue receives only failed asynchronous invocations; API Gateway's proxy integration
    and SQS event source mappings invoke synchronously, so such a queue would stay empty while failures go
    unseen (SQS failures end in the source queue's own redrive dead-letter queue).
    https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
    https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html"""
    functions = each(aws, "aws_lambda_function", at_least=6)
    assert [name for _, name, function in functions if "dead_letter_config" in function] == []
    assert each(aws, "aws_lambda_function_event_invoke_config", at_least=0) == []  # nothing invokes them async


def test_dashboard_throttled_requests_name_the_operation(aws: Synth) -> None:
    """DynamoDB publishes ThrottledRequests with the dimensions TableName and Operation; a series without Operation
    matches no data.
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html"""
    series = [
        metric
        for _, _, dashboard in each(aws, "aws_cloudwatch_dashboard", at_least=2)
        for widget in json.loads(dashboard["dashboard_body"])["widgets"]
        for metric in widget["properties"].get("metrics", [])
        if metric[:2] == ["AWS/DynamoDB", "ThrottledRequests"]
    ]
    assert len(series) >= 2, "count guard: no ThrottledRequests series"
    assert all({"TableName", "Operation"} <= set(metric[2::2]) for metric in series), series


def allowed(aws: Synth, action: str) -> list[tuple[str, dict[str, Any]]]:
    """(stack, statement) of every compute role-policy statement that allows `action`."""
    return [
        (stack, statement)
        for stack, _, policy in each(aws, "aws_iam_role_policy", at_least=6)
        if stack.startswith("compute-")
        for statement in json.loads(policy["policy"])["Statement"]
        if statement["Effect"] == "Allow" and action in statement["Action"]
    ]


def test_index_queries_are_granted_on_an_existing_index_arn(aws: Synth) -> None:
    """Permissions on a global secondary index are granted on the index's own ARN (table/<name>/index/<index>);
    a grant on the table alone does not cover Query on an index.
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/using-identity-based-policies.html
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html"""
    indexes = {
        index["name"] for _, _, table in each(aws, "aws_dynamodb_table") for index in table["global_secondary_index"]
    }
    grants = allowed(aws, "dynamodb:Query")
    assert len(grants) >= 2, "count guard: one Query grant per compute stack"
    for stack, statement in grants:
        assert all(arn.rsplit("/index/", 1)[-1] in indexes for arn in statement["Resource"]), (stack, statement)
        assert all("/index/" in arn and not arn.endswith("/index/*") for arn in statement["Resource"]), stack


def test_function_roles_write_logs_and_never_read_them(aws: Synth) -> None:
    """A function's execution role needs only logs:CreateLogStream and logs:PutLogEvents on its own group; reading
    log events (which hold request details) is not part of running it.
    https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html"""
    assert len(allowed(aws, "logs:PutLogEvents")) >= 6, "count guard: every function writes its logs"
    reads = ("logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:GetLogRecord", "logs:*")
    assert [(stack, s["Action"]) for action in reads for stack, s in allowed(aws, action)] == []
