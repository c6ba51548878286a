"""ComputeStack as deployed on the emulator, seen through boto3 in each region.

Lambda invoke cannot run here (no Docker); the handlers are tested in-process elsewhere. These tests
check what was created: the functions and their settings, roles, the REST API with its key and
usage plan, queues, the event bus (and that it really routes payment.created to its queue),
parameters, alarms and the dashboard.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from harness.platform import Platform
from shared import api_names, write_home

ROLES = ("primary", "secondary")
RUNTIME_ENV = {
    "PAYMENTS_TABLE",
    "AUDIT_BUCKET",
    "AUDIT_KMS_KEY_ID",
    "EVENT_BUS_NAME",
    "AUDIT_RETRY_QUEUE_URL",
    "REGION",
    "MAX_AMOUNT",
    "ALLOWED_CURRENCIES",
    "CUSTOMER_INDEX",
    "LOG_LEVEL",
    "LEDGER_WRITER_HOSTS",
    "LEDGER_DATABASE",
    "LEDGER_USER",
    "LEDGER_TLS",
}
# Only the payment-processor function (POST /payments) reads the write home (docs/write-home.md).
WRITE_HOME_ENV = {"WRITE_HOME_PARAMETER", "REGION_ROLE", "WRITE_HOME_ORIGINS", "WRITE_HOME_CACHE_SECONDS"}
REQUIRED_DENIES = {
    "dynamodb:DeleteTable",
    "dynamodb:DeleteItem",
    "s3:DeleteBucket",
    "s3:DeleteObjectVersion",
    "kms:ScheduleKeyDeletion",
}


@pytest.fixture(params=ROLES)
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def outputs(deployed: dict[str, Any], role: str) -> dict[str, Any]:
    return deployed[f"compute-{role}"]


@pytest.fixture
def data(deployed: dict[str, Any], role: str) -> dict[str, Any]:
    return deployed[f"data-{role}"]


@pytest.fixture
def network(deployed: dict[str, Any], role: str) -> dict[str, Any]:
    return deployed[f"network-{role}"]


def function_names(outputs: dict[str, Any]) -> list[str]:
    return [outputs[k] for k in ("payment_function_name", "retry_function_name", "health_function_name")]


def test_functions_run_python_in_the_private_subnets_encrypted_and_traced(
    platform: Platform, role: str, outputs: dict[str, Any], data: dict[str, Any], network: dict[str, Any]
) -> None:
    client = platform.client("lambda", role)
    for name in function_names(outputs):
        function = client.get_function(FunctionName=name)
        config = function["Configuration"]
        assert config["Runtime"].startswith("python3.1")
        assert int(config["Runtime"].removeprefix("python3.")) >= 11
        assert function["Concurrency"]["ReservedConcurrentExecutions"] == platform.settings.compute.reserved_concurrency
        assert sorted(config["VpcConfig"]["SubnetIds"]) == sorted(network["private_subnet_ids"])
        assert config["VpcConfig"]["SecurityGroupIds"] == [network["lambda_security_group_id"]]
        assert config["KMSKeyArn"] == data["key_arn"]
        assert config["TracingConfig"] == {"Mode": "Active"}
        assert (config["MemorySize"], config["Timeout"]) == (512, 15)
    handlers = {
        outputs["payment_function_name"]: "lambda_src.payment_processor.handler.handler",
        outputs["retry_function_name"]: "lambda_src.payment_processor.handler.retry_handler",
        outputs["health_function_name"]: "lambda_src.health.handler.handler",
    }
    for name, handler in handlers.items():
        assert client.get_function_configuration(FunctionName=name)["Handler"] == handler


def test_function_environment_points_at_this_regions_resources(
    platform: Platform, role: str, outputs: dict[str, Any], data: dict[str, Any]
) -> None:
    client = platform.client("lambda", role)
    variables = client.get_function_configuration(FunctionName=outputs["payment_function_name"])["Environment"][
        "Variables"
    ]
    assert set(variables) == RUNTIME_ENV | WRITE_HOME_ENV
    parameter = platform.client("ssm", role).get_parameter(Name=variables["WRITE_HOME_PARAMETER"])["Parameter"]
    assert (parameter["Type"], parameter["Value"]) == ("String", write_home.INITIAL)
    assert variables["REGION_ROLE"] == role
    assert json.loads(variables["WRITE_HOME_ORIGINS"]) == {
        r: api_names.base_url(api_names.origin_name(platform.settings.dns, r)) for r in ROLES
    }
    assert variables["WRITE_HOME_CACHE_SECONDS"] == str(write_home.CACHE_SECONDS)
    assert variables["PAYMENTS_TABLE"] == data["table_name"]
    assert variables["AUDIT_BUCKET"] == data["audit_bucket_name"]
    assert variables["AUDIT_KMS_KEY_ID"] == data["key_arn"]
    assert variables["EVENT_BUS_NAME"] == outputs["event_bus_name"]
    assert variables["AUDIT_RETRY_QUEUE_URL"] == outputs["retry_queue_url"]
    assert variables["REGION"] == platform.region(role)
    settings = platform.settings.compute
    assert variables["MAX_AMOUNT"] == settings.max_amount
    assert variables["ALLOWED_CURRENCIES"].split(",") == list(settings.allowed_currencies)
    table = platform.client("dynamodb", role).describe_table(TableName=data["table_name"])["Table"]
    assert variables["CUSTOMER_INDEX"] in {index["IndexName"] for index in table["GlobalSecondaryIndexes"]}
    local = platform.settings.local
    # Gaps `rds-engine` and `rds-tls`: both local PostgreSQL instances, the writer is the one not in recovery.
    assert variables["LEDGER_WRITER_HOSTS"] == f"127.0.0.1:{local.port + 1},127.0.0.1:{local.port + 2}"
    assert variables["LEDGER_TLS"] == "disable"
    assert variables["LEDGER_DATABASE"] == platform.settings.data.database_name
    admin = client.get_function_configuration(FunctionName=outputs["ledger_admin_function_name"])["Environment"][
        "Variables"
    ]
    assert admin["LEDGER_ADMIN_SECRET_ARN"] == data["database_secret_arn"]
    assert admin["LEDGER_USER"] == variables["LEDGER_USER"]
    health = client.get_function_configuration(FunctionName=outputs["health_function_name"])["Environment"]["Variables"]
    assert health["PAYMENTS_TABLE"] == data["table_name"]
    assert health["REGION"] == platform.region(role)


def test_each_function_has_its_own_role_with_an_inline_policy_and_the_denies(
    platform: Platform, role: str, outputs: dict[str, Any]
) -> None:
    lambda_client, iam = platform.client("lambda", role), platform.client("iam", role)
    roles = set()
    for name in function_names(outputs):
        role_arn = lambda_client.get_function_configuration(FunctionName=name)["Role"]
        role_name = role_arn.rsplit("/", 1)[1]
        roles.add(role_name)
        assert iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []
        assert iam.list_role_policies(RoleName=role_name)["PolicyNames"] == ["runtime"]
        document = iam.get_role_policy(RoleName=role_name, PolicyName="runtime")["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        statements = document["Statement"]
        denied = {a for s in statements if s["Effect"] == "Deny" for a in s["Action"]}
        assert denied >= REQUIRED_DENIES
        assert not any("*" in a for s in statements for a in s["Action"])
    assert len(roles) == 3


def test_log_groups_are_encrypted_and_expire(
    platform: Platform, role: str, outputs: dict[str, Any], data: dict[str, Any]
) -> None:
    logs = platform.client("logs", role)
    for name in function_names(outputs):
        [group] = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
        assert group["logGroupName"] == f"/aws/lambda/{name}"
        assert group["kmsKeyId"] == data["key_arn"]
        assert group["retentionInDays"] == 30


def test_retry_consumer_is_mapped_to_the_retry_queue(platform: Platform, role: str, outputs: dict[str, Any]) -> None:
    client = platform.client("lambda", role)
    function_arn = client.get_function_configuration(FunctionName=outputs["retry_function_name"])["FunctionArn"]
    [mapping] = client.list_event_source_mappings(FunctionName=function_arn)["EventSourceMappings"]
    queue_arn = queue_attributes(platform, role, outputs["retry_queue_url"])["QueueArn"]
    assert mapping["EventSourceArn"] == queue_arn
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def queue_attributes(platform: Platform, role: str, url: str) -> dict[str, str]:
    return platform.client("sqs", role).get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def test_queues_are_encrypted_and_retries_end_in_their_own_dead_letter_queue(
    platform: Platform, role: str, outputs: dict[str, Any], data: dict[str, Any]
) -> None:
    urls = [outputs[k] for k in ("retry_queue_url", "retry_dlq_url", "events_queue_url", "events_dlq_url")]
    attributes = {url: queue_attributes(platform, role, url) for url in urls}
    assert all(a["KmsMasterKeyId"] == data["key_arn"] for a in attributes.values())
    redrive = json.loads(attributes[outputs["retry_queue_url"]]["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == attributes[outputs["retry_dlq_url"]]["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == 5
    for dead_letters in ("retry_dlq_url", "events_dlq_url"):
        assert int(attributes[outputs[dead_letters]]["MessageRetentionPeriod"]) == 14 * 24 * 3600


def api_resources(platform: Platform, role: str, api_id: str) -> dict[str, dict[str, Any]]:
    items = platform.client("apigateway", role).get_resources(restApiId=api_id, embed=["methods"])["items"]
    return {item["path"]: item.get("resourceMethods", {}) for item in items}


def test_api_routes_keys_and_proxies(platform: Platform, role: str, outputs: dict[str, Any]) -> None:
    routes = api_resources(platform, role, outputs["api_id"])
    expected = {
        ("/payments", "POST"): (True, outputs["payment_function_name"]),
        ("/payments", "GET"): (True, outputs["payment_function_name"]),
        ("/payments/{id}", "GET"): (True, outputs["payment_function_name"]),
        ("/health", "GET"): (False, outputs["health_function_name"]),
    }
    found = {(path, verb) for path, methods in routes.items() for verb in methods}
    assert found == set(expected)
    for (path, verb), (key_required, function_name) in expected.items():
        method = routes[path][verb]
        assert method["apiKeyRequired"] is key_required
        assert method["methodIntegration"]["type"] == "AWS_PROXY"
        assert f":function:{function_name}/invocations" in method["methodIntegration"]["uri"]
    assert outputs["api_endpoint"].endswith(f"/{outputs['api_stage_name']}")
    assert outputs["api_id"] in outputs["api_endpoint"]


def test_lambda_permissions_name_this_api(platform: Platform, role: str, outputs: dict[str, Any]) -> None:
    client = platform.client("lambda", role)
    for name in (outputs["payment_function_name"], outputs["health_function_name"]):
        policy = json.loads(client.get_policy(FunctionName=name)["Policy"])
        sources = [s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in policy["Statement"]]
        assert sources
        assert all(f":{outputs['api_id']}/{outputs['api_stage_name']}/" in source for source in sources)


def test_stage_traces_and_logs_to_an_encrypted_group(
    platform: Platform, role: str, outputs: dict[str, Any], data: dict[str, Any]
) -> None:
    client = platform.client("apigateway", role)
    stage = client.get_stage(restApiId=outputs["api_id"], stageName=outputs["api_stage_name"])
    assert stage["tracingEnabled"] is True
    assert stage["methodSettings"]["*/*"]["metricsEnabled"] is True
    access = stage["accessLogSettings"]
    assert json.loads(access["format"])["requestId"] == "$context.requestId"
    group_name = access["destinationArn"].split(":log-group:", 1)[1]
    [group] = platform.client("logs", role).describe_log_groups(logGroupNamePrefix=group_name)["logGroups"]
    assert group["kmsKeyId"] == data["key_arn"]


def test_api_keys_are_the_secrets_enabled_and_under_the_usage_plan(
    platform: Platform, role: str, outputs: dict[str, Any]
) -> None:
    """One API Gateway key per key of the API key secret, read in this region (the secondary's is the replica)."""
    assert {"api_key_id", "api_key_value"}.isdisjoint(outputs)  # no key value in any output: the secret holds them
    secret_name = outputs["api_key_secret_name"]
    rings = {
        r: json.loads(platform.client("secretsmanager", r).get_secret_value(SecretId=secret_name)["SecretString"])
        for r in ROLES
    }
    ring = rings[role]
    assert rings["primary"] == rings["secondary"]  # the replica holds the same keys
    assert ring["current"] in ring["keys"]
    assert outputs["api_key_ids"] == sorted(ring["keys"])
    client = platform.client("apigateway", role)
    [plan] = [
        p
        for p in client.get_usage_plans()["items"]
        if {"apiId": outputs["api_id"], "stage": outputs["api_stage_name"]} in p["apiStages"]
    ]
    compute = platform.settings.compute
    assert plan["throttle"] == {
        "rateLimit": float(compute.api_throttle_rate_limit),
        "burstLimit": compute.api_throttle_burst_limit,
    }
    assert plan["quota"]["limit"] == compute.api_quota_per_day
    assert plan["quota"]["period"] == "DAY"
    members = client.get_usage_plan_keys(usagePlanId=plan["id"])["items"]
    keys = [client.get_api_key(apiKey=m["id"], includeValue=True) for m in members]
    assert all(k["enabled"] for k in keys)
    name = f"{platform.settings.project}-{platform.settings.environment_suffix}-{role}-api-key-"
    assert {k["name"].removeprefix(name): k["value"] for k in keys} == ring["keys"]


def test_payment_created_events_are_routed_to_the_events_queue(
    platform: Platform, role: str, outputs: dict[str, Any]
) -> None:
    events, sqs = platform.client("events", role), platform.client("sqs", role)
    [rule] = events.list_rules(EventBusName=outputs["event_bus_name"])["Rules"]
    assert json.loads(rule["EventPattern"]) == {"source": ["payments.api"], "detail-type": ["payment.created"]}
    [target] = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=outputs["event_bus_name"])["Targets"]
    assert target["Arn"] == queue_attributes(platform, role, outputs["events_queue_url"])["QueueArn"]
    dead_letters = queue_attributes(platform, role, outputs["events_dlq_url"])
    assert target["DeadLetterConfig"] == {"Arn": dead_letters["QueueArn"]}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    [statement] = json.loads(dead_letters["Policy"])["Statement"]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": rule["Arn"]}}

    marker = f"pay_it_{uuid.uuid4().hex}"
    entries = [
        {"Source": "payments.api", "DetailType": "payment.created", "Detail": json.dumps({"payment_id": marker})},
        {"Source": "someone.else", "DetailType": "payment.created", "Detail": json.dumps({"payment_id": marker})},
    ]
    result = events.put_events(Entries=[{**e, "EventBusName": outputs["event_bus_name"]} for e in entries])
    assert result["FailedEntryCount"] == 0
    received = []
    for _ in range(5):
        messages = sqs.receive_message(
            QueueUrl=outputs["events_queue_url"], MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        for message in messages:
            body = json.loads(message["Body"])
            if body.get("detail", {}).get("payment_id") == marker:
                received.append(body)
                sqs.delete_message(QueueUrl=outputs["events_queue_url"], ReceiptHandle=message["ReceiptHandle"])
        if received:
            break
    assert [(b["source"], b["detail-type"]) for b in received] == [("payments.api", "payment.created")]


def test_runtime_parameters(platform: Platform, role: str, outputs: dict[str, Any], data: dict[str, Any]) -> None:
    ssm = platform.client("ssm", role)
    path = f"/{platform.settings.project}/{platform.settings.environment_suffix}/{role}/config"
    parameters = {
        p["Name"].removeprefix(path + "/"): p
        for p in ssm.get_parameters_by_path(Path=path, Recursive=True, WithDecryption=True)["Parameters"]
    }
    assert parameters["table-name"]["Value"] == data["table_name"]
    assert parameters["event-bus"]["Value"] == outputs["event_bus_name"]
    assert parameters["retry-queue-url"]["Value"] == outputs["retry_queue_url"]
    assert all(p["Type"] == "String" for p in parameters.values())
    assert "api-key" not in parameters  # the API keys live in their secret only


def test_alarms_notify_the_encrypted_topic(
    platform: Platform, role: str, outputs: dict[str, Any], data: dict[str, Any]
) -> None:
    topic = platform.client("sns", role).get_topic_attributes(TopicArn=outputs["alarm_topic_arn"])["Attributes"]
    assert topic["KmsMasterKeyId"] == data["key_arn"]
    found = platform.client("cloudwatch", role).describe_alarms(AlarmNames=outputs["alarm_names"])
    alarms = found["MetricAlarms"] + found["CompositeAlarms"]
    assert sorted(a["AlarmName"] for a in alarms) == sorted(outputs["alarm_names"])
    assert outputs["region_unhealthy_alarm_name"] in outputs["alarm_names"]
    assert all(a["AlarmActions"] == [outputs["alarm_topic_arn"]] for a in alarms)
    by_name = {a["AlarmName"]: a for a in found["MetricAlarms"]}
    depth = [a for a in by_name.values() if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"]
    assert len(depth) == 2  # retry-dlq, events-dlq
    assert all(a["Threshold"] == 0 and a["ComparisonOperator"] == "GreaterThanThreshold" for a in depth)
    functions = {a["Dimensions"][0]["Value"] for a in by_name.values() if a.get("Namespace") == "AWS/Lambda"}
    assert functions == set(function_names(outputs))
    lag = [a for a in by_name.values() if a.get("MetricName") == "AuroraGlobalDBReplicationLag"]
    if role == "secondary":
        [alarm] = lag
        assert alarm["Dimensions"] == [{"Name": "DBClusterIdentifier", "Value": data["cluster_identifier"]}]
    else:
        assert lag == []


def test_dashboard_exists(platform: Platform, role: str, outputs: dict[str, Any]) -> None:
    body = json.loads(
        platform.client("cloudwatch", role).get_dashboard(DashboardName=outputs["dashboard_name"])["DashboardBody"]
    )
    assert any(widget["type"] == "alarm" for widget in body["widgets"])
