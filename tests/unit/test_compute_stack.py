"""ComputeStack, read from the JSON Terraform receives: functions, IAM, API, queues, events, alarms, outputs."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from config.loader import load_settings
from ops.build.synth import synth_app
from stacks.compute.stack import CUSTOMER_INDEX
from stacks.data.ledger import LEDGER_WRITER_ROLE
from stacks.data.payments_table import INDEXES
from tests.support import ROOT, Synth

ROLES = ("primary", "secondary")
REGIONS = {"primary": "us-east-1", "secondary": "eu-west-1"}
FUNCTIONS = {
    "payment-processor": ("payment_processor", "lambda_src.payment_processor.handler.handler"),
    "payment-retry": ("payment_processor", "lambda_src.payment_processor.handler.retry_handler"),
    "health": ("health", "lambda_src.health.handler.handler"),
}
# Functions behind no route: ledger-admin (operators) in both regions, region-alarms (rollout engine) in the primary.
OPERATOR_FUNCTIONS = {"primary": ("ledger-admin", "region-alarms"), "secondary": ("ledger-admin",)}
LEDGER_ENV = {"LEDGER_WRITER_HOSTS", "LEDGER_DATABASE", "LEDGER_USER", "LEDGER_TLS"}
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
    *LEDGER_ENV,
}
WRITE_HOME_ENV = {"WRITE_HOME_PARAMETER", "REGION_ROLE", "WRITE_HOME_ORIGINS", "WRITE_HOME_CACHE_SECONDS"}
REQUIRED_DENIES = {
    "dynamodb:DeleteTable",
    "dynamodb:DeleteItem",
    "s3:DeleteBucket",
    "s3:DeleteObjectVersion",
    "kms:ScheduleKeyDeletion",
}
ENI_ACTIONS = {
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
}
TRACING_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
OUTPUTS = {
    "api_endpoint",
    "api_id",
    "api_key_ids",
    "api_key_secret_name",
    "payment_function_name",
    "health_function_name",
    "retry_function_name",
    "ledger_admin_function_name",
    "event_bus_name",
    "events_queue_url",
    "events_dlq_url",
    "retry_queue_url",
    "alarm_topic_arn",
    "region_unhealthy_alarm_name",
    "alarm_names",
    "dashboard_name",
}
# What the ledger's driver puts at the archive's root: pg8000 and what it requires (scramp -> asn1crypto,
# python-dateutil -> six), each with its metadata directory.
DRIVER_MODULES = {"pg8000", "scramp", "asn1crypto", "dateutil", "six.py"}
SYNTHS = ["local_dev", "aws_dev", "aws_prod"]
DLQ_OF_EVENTS = "events/dead-letter-queue/queue"


# --- reading the synthesized stack ------------------------------------------------------------------------------


def stack_of(role: str) -> str:
    return f"compute-{role}"


def at(synth: Synth, role: str, rtype: str, path: str) -> dict[str, Any]:
    """The resource of `rtype` whose construct path (below the stack) is `path`."""
    found = [
        config
        for config in synth.resources(stack_of(role), rtype).values()
        if config["//"]["metadata"]["path"] == f"{stack_of(role)}/{path}"
    ]
    assert len(found) == 1, f"{stack_of(role)}: no single {rtype} at {path}"
    return found[0]


def ref(synth: Synth, role: str, rtype: str, path: str, attribute: str) -> str:
    """How the stack refers to an attribute of its own resource at `path`."""
    for key, config in synth.resources(stack_of(role), rtype).items():
        if config["//"]["metadata"]["path"] == f"{stack_of(role)}/{path}":
            return f"${{{rtype}.{key}.{attribute}}}"
    raise AssertionError(f"no {rtype} at {path}")


def is_remote(value: str, layer: str, role: str, rtype: str, attribute: str) -> bool:
    """A cross-stack reference to `attribute` of a `rtype` in the `layer` stack of the same region."""
    pattern = (
        rf"^\$\{{data\.terraform_remote_state\.cross-stack-reference-input-{layer}-{role}\.outputs\."
        rf"cross-stack-output-{rtype}[\w-]*{attribute}\}}$"
    )
    return re.match(pattern, value) is not None


def key_arn(value: str, role: str) -> bool:
    return is_remote(value, "data", role, "aws_kms_key", "arn")


def table_arn(value: str, role: str) -> bool:
    return is_remote(value, "data", role, "aws_dynamodb_table", "arn")


def bucket_arn(value: str, role: str) -> bool:
    return is_remote(value, "data", role, "aws_s3_bucket", "arn")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def function(synth: Synth, role: str, name: str) -> dict[str, Any]:
    return at(synth, role, "aws_lambda_function", f"{name}/function")


def role_policy(synth: Synth, role: str, name: str) -> dict[str, Any]:
    return json.loads(at(synth, role, "aws_iam_role_policy", f"{name}/policy")["policy"])


def statements_by_sid(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in as_list(document["Statement"])}


def policy_documents(synth: Synth, role: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every policy document of the stack: role policies, trust policies, queue policies."""
    stack = stack_of(role)
    for rtype, field in (
        ("aws_iam_role_policy", "policy"),
        ("aws_iam_role", "assume_role_policy"),
        ("aws_sqs_queue", "policy"),
        ("aws_sqs_queue_policy", "policy"),
        ("aws_sns_topic_policy", "policy"),
    ):
        for name, config in synth.resources(stack, rtype).items():
            if field in config:
                yield f"{rtype}.{name}", json.loads(config[field])


def alarm(synth: Synth, role: str, key: str) -> dict[str, Any]:
    return at(synth, role, "aws_cloudwatch_metric_alarm", f"alarms/{key}")


# --- functions ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("synth_name", SYNTHS)
@pytest.mark.parametrize("role", ROLES)
def test_api_and_retry_functions_python_in_private_subnets_with_reserved_concurrency(
    request: pytest.FixtureRequest, synth_name: str, role: str
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    env = "prod" if synth_name == "aws_prod" else "dev"
    # and ledger-admin; region-alarms in the primary only
    assert len(synth.resources(stack_of(role), "aws_lambda_function")) == len(FUNCTIONS) + len(OPERATOR_FUNCTIONS[role])
    for name, (_, handler) in FUNCTIONS.items():
        fn = function(synth, role, name)
        assert fn["function_name"] == f"payments-{env}-{role}-{name}"
        assert fn["handler"] == handler
        major, minor = re.fullmatch(r"python(\d+)\.(\d+)", fn["runtime"]).groups()  # type: ignore[union-attr]
        assert (int(major), int(minor)) >= (3, 11)
        # burst 100 + rate 50/s x p99 1 s (config/environments/<env>.toml)
        assert fn["reserved_concurrent_executions"] == 150
        assert fn["memory_size"] == 512
        assert fn["timeout"] == 15
        assert fn["tracing_config"] == {"mode": "Active"}
        assert key_arn(fn["kms_key_arn"], role), "environment variables are encrypted with the region key"
        vpc = fn["vpc_config"]
        assert len(vpc["subnet_ids"]) == (3 if env == "prod" else 2)
        assert all(is_remote(s, "network", role, "aws_subnet", "id") and "private" in s for s in vpc["subnet_ids"])
        assert len(vpc["security_group_ids"]) == 1
        assert is_remote(vpc["security_group_ids"][0], "network", role, "aws_security_group", "id")
        assert "lambda" in vpc["security_group_ids"][0]
        assert "dead_letter_config" not in fn, "invoked synchronously: Lambda would never send to it"


@pytest.mark.parametrize("role", ROLES)
def test_function_environment_follows_the_runtime_contract(aws_dev: Synth, role: str) -> None:
    for name in ("payment-processor", "payment-retry"):
        variables = function(aws_dev, role, name)["environment"]["variables"]
        # POST /payments also reads the write home (tests/unit/test_write_home_stack.py); the retry consumer does not.
        assert set(variables) == RUNTIME_ENV | (WRITE_HOME_ENV if name == "payment-processor" else set())
        assert variables["REGION"] == REGIONS[role]
        assert variables["MAX_AMOUNT"] == "100000.00"
        assert variables["ALLOWED_CURRENCIES"] == "USD,EUR,GBP,JPY,CHF,CAD"
        assert variables["LOG_LEVEL"] == "INFO"
        assert key_arn(variables["AUDIT_KMS_KEY_ID"], role)
        assert variables["AUDIT_RETRY_QUEUE_URL"] == ref(aws_dev, role, "aws_sqs_queue", "retry/queue", "url")
        assert variables["EVENT_BUS_NAME"] == ref(aws_dev, role, "aws_cloudwatch_event_bus", "events/bus", "name")
        assert is_remote(variables["AUDIT_BUCKET"], "data", role, "aws_s3_bucket", "bucket")
        assert variables["LEDGER_USER"] == LEDGER_WRITER_ROLE
        assert variables["LEDGER_DATABASE"] == "payments"
        assert variables["LEDGER_TLS"] == "verify-full"
        assert is_remote(
            variables["LEDGER_WRITER_HOSTS"].removesuffix(":5432"),
            "data",
            "primary",
            "aws_rds_global_cluster",
            "endpoint",
        ), "both regions write through the global writer endpoint, which only data-primary owns"
    health = function(aws_dev, role, "health")["environment"]["variables"]
    assert set(health) == {"PAYMENTS_TABLE", "AUDIT_BUCKET", "REGION", "LOG_LEVEL"}
    # The table has one name in both regions.
    tables = {function(aws_dev, r, "payment-processor")["environment"]["variables"]["PAYMENTS_TABLE"] for r in ROLES}
    assert len(tables) == 1


def test_local_functions_name_both_local_postgresql_instances_without_tls(local_dev: Synth) -> None:
    """Gaps `rds-engine` and `rds-tls`: the writer is whichever local instance is not in recovery."""
    settings = load_settings(environ={"PAYMENTS_DOTENV": "none"})
    hosts = ",".join(f"127.0.0.1:{settings.local.postgres_port(r)}" for r in ROLES)  # type: ignore[arg-type]
    assert hosts == f"127.0.0.1:{settings.local.port + 1},127.0.0.1:{settings.local.port + 2}"
    for role in ROLES:
        for name in ("payment-processor", "payment-retry", "ledger-admin"):
            variables = function(local_dev, role, name)["environment"]["variables"]
            assert variables["LEDGER_WRITER_HOSTS"] == hosts
            assert variables["LEDGER_TLS"] == "disable"
            assert variables["LEDGER_USER"] == LEDGER_WRITER_ROLE
        assert "aws_rds_global_cluster" not in json.dumps(local_dev[stack_of(role)]), "nothing reads it locally"


@pytest.mark.parametrize("synth_name", SYNTHS)
@pytest.mark.parametrize("role", ROLES)
def test_ledger_admin_runs_migrations_as_the_master_user_behind_no_route(
    request: pytest.FixtureRequest, synth_name: str, role: str
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    fn = function(synth, role, "ledger-admin")
    assert fn["handler"] == "lambda_src.ledger.admin.handler"
    assert fn["timeout"] == 60
    assert "reserved_concurrent_executions" not in fn, "behind no API: nothing to size it for"
    variables = fn["environment"]["variables"]
    assert set(variables) == {*LEDGER_ENV, "LEDGER_ADMIN_SECRET_ARN", "REGION", "LOG_LEVEL"}
    secret = variables["LEDGER_ADMIN_SECRET_ARN"]
    assert is_remote(secret, "data", role, "aws_secretsmanager_secret", "arn"), "this region's master secret"
    statements = statements_by_sid(role_policy(synth, role, "ledger-admin"))
    assert statements["ReadMasterSecret"]["Action"] == ["secretsmanager:GetSecretValue"]
    assert statements["ReadMasterSecret"]["Resource"] == [secret]
    assert statements["UseRegionKey"]["Action"][0] == "kms:Decrypt"
    assert key_arn(statements["UseRegionKey"]["Resource"][0], role), "the key the secret is encrypted with"
    assert statements["ConnectToLedgerAsWriter"]["Action"] == ["rds-db:connect"]
    fn_ref = ref(synth, role, "aws_lambda_function", "ledger-admin/function", "function_name")
    assert synth.outputs(stack_of(role))["ledger_admin_function_name"]["value"] == fn_ref
    integrations = synth.resources(stack_of(role), "aws_api_gateway_integration").values()
    assert all("ledger-admin" not in json.dumps(i) for i in integrations)


@pytest.mark.parametrize("role", ROLES)
def test_payment_functions_may_connect_as_the_ledger_user_in_both_regions(aws_dev: Synth, role: str) -> None:
    for name in ("payment-processor", "payment-retry", "ledger-admin"):
        grant = statements_by_sid(role_policy(aws_dev, role, name))["ConnectToLedgerAsWriter"]
        assert grant["Resource"] == [
            f"arn:${{data.aws_partition.partition.partition}}:rds-db:{region}:${{data.aws_caller_identity.caller.account_id}}"
            f":dbuser:*/{LEDGER_WRITER_ROLE}"
            for region in (REGIONS[role], REGIONS["secondary" if role == "primary" else "primary"])
        ]
    assert "ConnectToLedgerAsWriter" not in statements_by_sid(role_policy(aws_dev, role, "health"))


@pytest.mark.parametrize("role", ROLES)
def test_each_function_has_its_encrypted_log_group_created_first(local_dev: Synth, role: str) -> None:
    for name in FUNCTIONS:
        fn = function(local_dev, role, name)
        group = at(local_dev, role, "aws_cloudwatch_log_group", f"{name}/logs")
        assert group["name"] == f"/aws/lambda/{fn['function_name']}"
        assert group["retention_in_days"] == 30
        assert key_arn(group["kms_key_id"], role)
        depends = fn["depends_on"]
        assert ref(local_dev, role, "aws_cloudwatch_log_group", f"{name}/logs", "arn").split(".")[1] in " ".join(
            depends
        )
        assert any(d.startswith("aws_iam_role_policy.") for d in depends), "permissions before the function"


@pytest.mark.parametrize("role", ROLES)
def test_code_is_archived_by_the_synth_without_caches(local_dev: Synth, role: str) -> None:
    stack_dir = local_dev.outdir / "stacks" / stack_of(role)
    for name, (source, _) in FUNCTIONS.items():
        fn = function(local_dev, role, name)
        archive = fn["filename"]
        assert re.fullmatch(rf"assets/{source.replace('_', '-')}-code/[0-9A-F]{{32}}/archive\.zip", archive)
        assert fn["source_code_hash"] == f'${{filebase64sha256("{archive}")}}'
        names = [n for n in zipfile.ZipFile(stack_dir / archive).namelist() if not n.endswith("/")]  # files only
        assert f"lambda_src/{source}/handler.py" in names, "the repository's layout, as the handler path says"
        assert all(not re.search(r"(__pycache__|\.ruff_cache|\.pytest_cache|\.pyc$)", n) for n in names), (
            "no caches in the package"
        )
        expected = ["lambda_src/__init__.py"]
        uses = ("ledger",) if source == "payment_processor" else ()
        for package in ("common", *uses, source):
            expected += [
                p.relative_to(ROOT).as_posix()
                for p in (ROOT / "lambda_src" / package).rglob("*")
                if p.is_file()
                and not any(part == "__pycache__" or part.startswith(".") for part in p.relative_to(ROOT).parts)
                and p.suffix != ".pyc"
            ]
        sources = [n for n in names if n.startswith("lambda_src/")]
        assert sorted(sources) == sorted(expected), "its own package, common/ and what it uses, nothing else of ours"
        driver = {n.split("/")[0] for n in names if not n.startswith("lambda_src/")}
        modules = {entry for entry in driver if not entry.endswith(".dist-info")}
        assert modules == (DRIVER_MODULES if uses else set()), "the ledger's driver at the root, only with the ledger"
        assert len(driver - modules) == len(modules), "each distribution's metadata (licenses) comes with it"
    # The payment processor and the retry consumer share one archive.
    assert (
        function(local_dev, role, "payment-processor")["filename"]
        == function(local_dev, role, "payment-retry")["filename"]
    )


def test_archives_are_byte_identical_across_synths(local_dev: Synth, aws_dev: Synth) -> None:
    """Fixed file times and modes: an unchanged source never looks like a code change."""
    for role in ROLES:
        for name in FUNCTIONS:
            archive = function(local_dev, role, name)["filename"]
            assert archive == function(aws_dev, role, name)["filename"]
            local = (local_dev.outdir / "stacks" / stack_of(role) / archive).read_bytes()
            aws = (aws_dev.outdir / "stacks" / stack_of(role) / archive).read_bytes()
            assert hashlib.sha256(local).digest() == hashlib.sha256(aws).digest()


def test_retry_consumer_reads_the_retry_queue_with_partial_batch_failures(local_dev: Synth) -> None:
    for role in ROLES:
        mapping = at(local_dev, role, "aws_lambda_event_source_mapping", "retry-source")
        assert mapping["event_source_arn"] == ref(local_dev, role, "aws_sqs_queue", "retry/queue", "arn")
        assert mapping["function_name"] == ref(local_dev, role, "aws_lambda_function", "payment-retry/function", "arn")
        assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
        assert mapping["batch_size"] == 10


# --- IAM --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("synth_name", SYNTHS)
@pytest.mark.parametrize("role", ROLES)
def test_no_policy_allows_a_wildcard_action_or_an_unscoped_resource(
    request: pytest.FixtureRequest, synth_name: str, role: str
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    documents = list(policy_documents(synth, role))
    assert len(documents) >= 8  # 3 role policies, 3 trust policies, the events queue and its dead-letter queue
    for where, document in documents:
        for statement in as_list(document["Statement"]):
            actions = as_list(statement["Action"])
            assert not any("*" in action for action in actions), f"{where}: wildcard action in {actions}"
            resources = as_list(statement.get("Resource", []))
            if statement["Effect"] == "Allow" and "*" in resources:
                # Only what AWS cannot scope: ENI plumbing for VPC functions, X-Ray segment upload, and reading
                # composite alarms (region-alarms, held to the platform's regions).
                if actions == ["cloudwatch:DescribeAlarms"]:
                    assert set(statement["Condition"]["StringEquals"]["aws:RequestedRegion"]) == set(REGIONS.values())
                    continue
                assert set(actions) <= ENI_ACTIONS | TRACING_ACTIONS, f"{where}: {actions} on *"


@pytest.mark.parametrize("role", ROLES)
def test_one_role_per_function_with_inline_policy_only(aws_dev: Synth, role: str) -> None:
    stack = stack_of(role)
    lambda_roles = [
        r
        for r in aws_dev.resources(stack, "aws_iam_role").values()
        if "lambda.amazonaws.com" in r["assume_role_policy"]
    ]
    functions = [*FUNCTIONS, *OPERATOR_FUNCTIONS[role]]
    assert sorted(r["name"] for r in lambda_roles) == sorted(f"payments-dev-{role}-{name}" for name in functions)
    assert all("managed_policy_arns" not in r for r in aws_dev.resources(stack, "aws_iam_role").values())
    assert aws_dev.resources(stack, "aws_iam_role_policy_attachment") == {}
    for name in functions:
        fn = function(aws_dev, role, name)
        assert fn["role"] == ref(aws_dev, role, "aws_iam_role", f"{name}/role", "arn")
        policy = at(aws_dev, role, "aws_iam_role_policy", f"{name}/policy")
        assert policy["role"] == ref(aws_dev, role, "aws_iam_role", f"{name}/role", "id")


@pytest.mark.parametrize("synth_name", SYNTHS)
def test_every_function_role_denies_destructive_actions(request: pytest.FixtureRequest, synth_name: str) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    for role in ROLES:
        for name in [*FUNCTIONS, *OPERATOR_FUNCTIONS[role]]:
            deny = statements_by_sid(role_policy(synth, role, name))["DenyDestructiveActions"]
            assert deny["Effect"] == "Deny"
            assert set(deny["Action"]) >= REQUIRED_DENIES
            assert deny["Resource"] == ["*"], "a guardrail on every resource"


@pytest.mark.parametrize("role", ROLES)
def test_payment_processor_grants_are_exact(aws_dev: Synth, role: str) -> None:
    s = statements_by_sid(role_policy(aws_dev, role, "payment-processor"))
    assert set(s) == {
        "WriteOwnLogs",
        "UseRegionKey",
        "AttachToVpc",
        "SendTraces",
        "PaymentItems",
        "ListCustomerPayments",
        "WriteAuditRecords",
        "PublishPaymentEvents",
        "QueueFailedSteps",
        "ConnectToLedgerAsWriter",
        "ReadWriteHome",  # tests/unit/test_write_home_stack.py
        "DenyDestructiveActions",
    }
    assert s["PaymentItems"]["Action"] == ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    assert len(s["PaymentItems"]["Resource"]) == 1
    assert table_arn(s["PaymentItems"]["Resource"][0], role)
    # Query on the customer index only (its name is the data layer's), never on the table or every index.
    assert s["ListCustomerPayments"]["Action"] == ["dynamodb:Query"]
    [index] = s["ListCustomerPayments"]["Resource"]
    assert index.endswith(f"}}/index/{CUSTOMER_INDEX}")
    assert table_arn(index[: -len(f"/index/{CUSTOMER_INDEX}")], role)
    assert CUSTOMER_INDEX in INDEXES
    assert function(aws_dev, role, "payment-processor")["environment"]["variables"]["CUSTOMER_INDEX"] == CUSTOMER_INDEX
    assert s["WriteAuditRecords"]["Action"] == ["s3:PutObject"]
    [audit] = s["WriteAuditRecords"]["Resource"]
    assert audit.endswith("}/audit/payments/*")
    assert bucket_arn(audit[: -len("/audit/payments/*")], role)
    assert s["PublishPaymentEvents"] == {
        "Effect": "Allow",
        "Sid": "PublishPaymentEvents",
        "Action": ["events:PutEvents"],
        "Resource": [ref(aws_dev, role, "aws_cloudwatch_event_bus", "events/bus", "arn")],
    }
    assert s["QueueFailedSteps"]["Action"] == ["sqs:SendMessage"]
    assert s["QueueFailedSteps"]["Resource"] == [ref(aws_dev, role, "aws_sqs_queue", "retry/queue", "arn")]
    assert s["UseRegionKey"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert key_arn(s["UseRegionKey"]["Resource"][0], role)
    assert s["WriteOwnLogs"]["Resource"] == [
        ref(aws_dev, role, "aws_cloudwatch_log_group", "payment-processor/logs", "arn") + ":*"
    ]
    assert set(s["AttachToVpc"]["Action"]) == ENI_ACTIONS
    assert set(s["SendTraces"]["Action"]) == TRACING_ACTIONS


@pytest.mark.parametrize("role", ROLES)
def test_retry_consumer_and_health_grants_are_exact(aws_dev: Synth, role: str) -> None:
    retry = statements_by_sid(role_policy(aws_dev, role, "payment-retry"))
    assert retry["PaymentItems"]["Action"] == ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    assert retry["ConsumeRetryQueue"]["Action"] == ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    assert retry["ConsumeRetryQueue"]["Resource"] == [ref(aws_dev, role, "aws_sqs_queue", "retry/queue", "arn")]
    assert "QueueFailedSteps" not in retry
    health = statements_by_sid(role_policy(aws_dev, role, "health"))
    assert set(health) - {
        "WriteOwnLogs",
        "UseRegionKey",
        "AttachToVpc",
        "SendTraces",
    } == {
        "DescribeTable",
        "HeadAuditBucket",
        "DenyDestructiveActions",
    }
    assert health["DescribeTable"]["Action"] == ["dynamodb:DescribeTable"]
    assert table_arn(health["DescribeTable"]["Resource"][0], role)
    assert health["HeadAuditBucket"]["Action"] == ["s3:ListBucket"]
    assert bucket_arn(health["HeadAuditBucket"]["Resource"][0], role)


# --- API --------------------------------------------------------------------------------------------------------


def methods(synth: Synth, role: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (m["http_method"], m["//"]["metadata"]["path"].rsplit("/", 1)[1]): m
        for m in synth.resources(stack_of(role), "aws_api_gateway_method").values()
    }


@pytest.mark.parametrize("role", ROLES)
def test_payment_routes_need_an_api_key_and_health_is_open(local_dev: Synth, role: str) -> None:
    api = at(local_dev, role, "aws_api_gateway_rest_api", "api/api")
    assert api["endpoint_configuration"] == {"types": ["REGIONAL"]}
    paths = {r["path_part"] for r in local_dev.resources(stack_of(role), "aws_api_gateway_resource").values()}
    assert paths == {"payments", "{id}", "health"}
    found = methods(local_dev, role)
    assert set(found) == {
        ("POST", "post-payments"),
        ("GET", "get-payments"),
        ("GET", "get-payments-id"),
        ("GET", "get-health"),
    }
    assert found[("POST", "post-payments")]["api_key_required"] is True
    assert found[("GET", "get-payments")]["api_key_required"] is True
    assert found[("GET", "get-payments-id")]["api_key_required"] is True
    assert found[("GET", "get-payments-id")]["request_parameters"] == {"method.request.path.id": True}
    assert found[("GET", "get-health")]["api_key_required"] is False
    assert all(m["authorization"] == "NONE" for m in found.values())


@pytest.mark.parametrize("role", ROLES)
def test_integrations_are_lambda_proxies_with_permissions_scoped_to_the_stage(local_dev: Synth, role: str) -> None:
    targets = {
        "post-payments": "payment-processor",
        "get-payments": "payment-processor",
        "get-payments-id": "payment-processor",
        "get-health": "health",
    }
    execution_arn = ref(local_dev, role, "aws_api_gateway_rest_api", "api/api", "execution_arn")
    arn_paths = {
        "post-payments": "POST/payments",
        "get-payments": "GET/payments",
        "get-payments-id": "GET/payments/*",
        "get-health": "GET/health",
    }
    for route, name in targets.items():
        integration = at(local_dev, role, "aws_api_gateway_integration", f"api/{route}-integration")
        assert integration["type"] == "AWS_PROXY"
        assert integration["integration_http_method"] == "POST"
        assert integration["uri"] == ref(local_dev, role, "aws_lambda_function", f"{name}/function", "invoke_arn")
        permission = at(local_dev, role, "aws_lambda_permission", f"api/{route}-permission")
        assert permission["principal"] == "apigateway.amazonaws.com"
        assert permission["action"] == "lambda:InvokeFunction"
        assert permission["function_name"] == ref(
            local_dev, role, "aws_lambda_function", f"{name}/function", "function_name"
        )
        assert permission["source_arn"] == f"{execution_arn}/v1/{arn_paths[route]}"


@pytest.mark.parametrize("role", ROLES)
def test_deployment_redeploys_when_routes_change(local_dev: Synth, role: str) -> None:
    deployment = at(local_dev, role, "aws_api_gateway_deployment", "api/deployment")
    routes = [
        {"method": "POST", "path": "/payments", "api_key_required": True},
        {"method": "GET", "path": "/payments", "api_key_required": True},
        {"method": "GET", "path": "/payments/{id}", "api_key_required": True},
        {"method": "GET", "path": "/health", "api_key_required": False},
    ]
    assert deployment["triggers"]["routes"] == hashlib.sha256(json.dumps(routes, sort_keys=True).encode()).hexdigest()
    ids = deployment["triggers"]["resources"]
    for key in ("post-payments", "get-payments", "get-payments-id", "get-health"):
        assert ref(local_dev, role, "aws_api_gateway_method", f"api/{key}", "id")[2:-1] in ids
        assert ref(local_dev, role, "aws_api_gateway_integration", f"api/{key}-integration", "uri")[2:-1] in ids
    assert deployment["lifecycle"]["create_before_destroy"] is True


@pytest.mark.parametrize("role", ROLES)
def test_stage_traces_logs_json_and_publishes_metrics(local_dev: Synth, role: str) -> None:
    stage = at(local_dev, role, "aws_api_gateway_stage", "api/stage")
    assert stage["stage_name"] == "v1"
    assert stage["xray_tracing_enabled"] is True
    assert stage["deployment_id"] == ref(local_dev, role, "aws_api_gateway_deployment", "api/deployment", "id")
    access = stage["access_log_settings"]
    assert access["destination_arn"] == ref(local_dev, role, "aws_cloudwatch_log_group", "api/access-logs", "arn")
    fields = json.loads(access["format"])
    assert fields["requestId"] == "$context.requestId"
    assert {"status", "apiKeyId", "responseLatency", "xrayTraceId"} <= set(fields)
    group = at(local_dev, role, "aws_cloudwatch_log_group", "api/access-logs")
    assert key_arn(group["kms_key_id"], role)
    assert group["retention_in_days"] == 30
    execution = at(local_dev, role, "aws_cloudwatch_log_group", "api/execution-logs")
    assert execution["name"].startswith("API-Gateway-Execution-Logs_${")
    assert execution["name"].endswith("}/v1")
    assert key_arn(execution["kms_key_id"], role)
    settings = at(local_dev, role, "aws_api_gateway_method_settings", "api/method-settings")
    assert settings["method_path"] == "*/*"
    assert settings["settings"]["metrics_enabled"] is True
    assert settings["settings"]["logging_level"] == "ERROR"
    assert settings["settings"]["data_trace_enabled"] is False
    # The account's CloudWatch role is `make bootstrap`'s (one per account and region), never a stack's.
    assert "aws_api_gateway_account" not in local_dev[stack_of(role)].get("resource", {})


@pytest.mark.parametrize("synth_name", SYNTHS)
def test_usage_plan_throttles_and_quotas_the_api_key_from_config(
    request: pytest.FixtureRequest, synth_name: str
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    for role in ROLES:
        plan = at(synth, role, "aws_api_gateway_usage_plan", "api/usage-plan")
        assert plan["throttle_settings"] == {"rate_limit": 50, "burst_limit": 100}
        assert plan["quota_settings"] == {"limit": 100000, "period": "DAY"}
        assert plan["api_stages"] == [
            {
                "api_id": ref(synth, role, "aws_api_gateway_rest_api", "api/api", "id"),
                "stage": ref(synth, role, "aws_api_gateway_stage", "api/stage", "stage_name"),
            }
        ]
        key = at(synth, role, "aws_api_gateway_usage_plan_key", "api/keys/usage-plan-key")  # one per key id
        assert key["key_type"] == "API_KEY"
        api_keys = at(synth, role, "aws_api_gateway_api_key", "api/keys/api-key")
        assert key["for_each"] == api_keys["for_each"]  # the key ids of the API key secret
        key_ref = ref(synth, role, "aws_api_gateway_api_key", "api/keys/api-key", "id")
        assert key["key_id"] == key_ref.replace(".id}", "[each.value].id}")  # this id's API key
        assert key["usage_plan_id"] == ref(synth, role, "aws_api_gateway_usage_plan", "api/usage-plan", "id")
        assert at(synth, role, "aws_api_gateway_api_key", "api/keys/api-key")["enabled"] is True


# --- queues and events ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("synth_name", SYNTHS)
def test_every_queue_is_encrypted_with_the_region_key(request: pytest.FixtureRequest, synth_name: str) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    for role in ROLES:
        queues = synth.resources(stack_of(role), "aws_sqs_queue")
        assert len(queues) == 4, "retry, retry-dlq, payment-events, payment-events-dlq"
        assert all(key_arn(q["kms_master_key_id"], role) for q in queues.values())


@pytest.mark.parametrize("role", ROLES)
def test_retry_queue_redrives_to_its_own_dead_letter_queue(aws_dev: Synth, role: str) -> None:
    retry = at(aws_dev, role, "aws_sqs_queue", "retry/queue")
    assert json.loads(retry["redrive_policy"]) == {
        "deadLetterTargetArn": ref(aws_dev, role, "aws_sqs_queue", "retry-dlq/queue", "arn"),
        "maxReceiveCount": 5,
    }
    assert retry["visibility_timeout_seconds"] >= 6 * 15
    for path in ("retry-dlq/queue", DLQ_OF_EVENTS):
        queue = at(aws_dev, role, "aws_sqs_queue", path)
        assert queue["message_retention_seconds"] == 14 * 24 * 3600
        assert "redrive_policy" not in queue


def test_emulator_workarounds_exist_only_on_the_local_target(local_dev: Synth, aws_dev: Synth, aws_prod: Synth) -> None:
    for role in ROLES:
        assert at(local_dev, role, "aws_sqs_queue", "retry/queue")["lifecycle"] == {
            "ignore_changes": ["redrive_policy"]
        }
        for synth in (aws_dev, aws_prod):
            assert "lifecycle" not in at(synth, role, "aws_sqs_queue", "retry/queue")
            assert all("lifecycle" not in function(synth, role, name) for name in FUNCTIONS)


@pytest.mark.parametrize("role", ROLES)
def test_payment_created_events_reach_an_encrypted_queue_only_from_their_rule(aws_dev: Synth, role: str) -> None:
    bus = at(aws_dev, role, "aws_cloudwatch_event_bus", "events/bus")
    assert bus["name"] == f"payments-dev-{role}-payments"
    rule = at(aws_dev, role, "aws_cloudwatch_event_rule", "events/payment-created")
    assert rule["event_bus_name"] == ref(aws_dev, role, "aws_cloudwatch_event_bus", "events/bus", "name")
    assert json.loads(rule["event_pattern"]) == {"source": ["payments.api"], "detail-type": ["payment.created"]}
    target = at(aws_dev, role, "aws_cloudwatch_event_target", "events/to-queue")
    assert target["arn"] == ref(aws_dev, role, "aws_sqs_queue", "events/queue/queue", "arn")
    assert target["rule"] == ref(aws_dev, role, "aws_cloudwatch_event_rule", "events/payment-created", "name")
    queue = at(aws_dev, role, "aws_sqs_queue", "events/queue/queue")
    assert queue["name"] == f"payments-dev-{role}-payment-events"
    [statement] = json.loads(queue["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == ["sqs:SendMessage"]
    assert statement["Resource"] == [
        f"arn:${{data.aws_partition.partition.partition}}:sqs:{REGIONS[role]}:"
        f"${{data.aws_caller_identity.caller.account_id}}:payments-dev-{role}-payment-events"
    ]
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": ref(aws_dev, role, "aws_cloudwatch_event_rule", "events/payment-created", "arn")}
    }


@pytest.mark.parametrize("role", ROLES)
def test_undeliverable_events_are_retried_then_dead_lettered(aws_dev: Synth, role: str) -> None:
    target = at(aws_dev, role, "aws_cloudwatch_event_target", "events/to-queue")
    assert target["retry_policy"] == {"maximum_event_age_in_seconds": 86400, "maximum_retry_attempts": 185}
    assert target["dead_letter_config"] == {"arn": ref(aws_dev, role, "aws_sqs_queue", DLQ_OF_EVENTS, "arn")}
    dlq = at(aws_dev, role, "aws_sqs_queue", DLQ_OF_EVENTS)
    assert dlq["name"] == f"payments-dev-{role}-payment-events-dlq"
    assert key_arn(dlq["kms_master_key_id"], role)
    assert dlq["message_retention_seconds"] == 14 * 24 * 3600
    [statement] = json.loads(dlq["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Resource"] == [
        f"arn:${{data.aws_partition.partition.partition}}:sqs:{REGIONS[role]}:"
        f"${{data.aws_caller_identity.caller.account_id}}:payments-dev-{role}-payment-events-dlq"
    ]
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": ref(aws_dev, role, "aws_cloudwatch_event_rule", "events/payment-created", "arn")}
    }
    url = ref(aws_dev, role, "aws_sqs_queue", DLQ_OF_EVENTS, "url")
    assert aws_dev.outputs(stack_of(role))["events_dlq_url"]["value"] == url


@pytest.mark.parametrize("role", ROLES)
def test_runtime_parameters_are_plain_and_hold_no_api_key(aws_dev: Synth, role: str) -> None:
    parameters = {p["name"]: p for p in aws_dev.resources(stack_of(role), "aws_ssm_parameter").values()}
    prefix = f"/payments/dev/{role}/config/"
    outside = {name for name in parameters if not name.startswith(prefix)}
    assert outside == {f"/payments/dev/{role}/write-home"}  # tests/unit/test_write_home_stack.py
    parameters = {name: p for name, p in parameters.items() if name not in outside}
    plain = {name.removeprefix(prefix) for name, p in parameters.items() if p["type"] == "String"}
    assert plain == {
        "table-name",
        "audit-bucket",
        "event-bus",
        "retry-queue-url",
        "api-endpoint",
        "max-amount",
        "allowed-currencies",
    }
    assert [p["type"] for p in parameters.values() if p["type"] != "String"] == []  # the API keys: their secret only
    assert parameters[prefix + "max-amount"]["value"] == "100000.00"


# --- alarms -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("synth_name", SYNTHS)
def test_alarms_on_functions_api_table_and_dead_letters_notify_the_encrypted_topic(
    request: pytest.FixtureRequest, synth_name: str
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    for role in ROLES:
        topic = at(synth, role, "aws_sns_topic", "alarms/topic")
        assert key_arn(topic["kms_master_key_id"], role)
        topic_arn = ref(synth, role, "aws_sns_topic", "alarms/topic", "arn")
        for config in synth.resources(stack_of(role), "aws_cloudwatch_metric_alarm").values():
            assert config["alarm_actions"] == [topic_arn]
            assert config["ok_actions"] == [topic_arn]
            assert config["treat_missing_data"] == "notBreaching"
        for name in FUNCTIONS:
            fn_name = ref(synth, role, "aws_lambda_function", f"{name}/function", "function_name")
            for metric in ("Errors", "Throttles"):
                a = alarm(synth, role, f"{name}-{metric.lower()}")
                assert (a["namespace"], a["metric_name"], a["statistic"]) == ("AWS/Lambda", metric, "Sum")
                assert a["dimensions"] == {"FunctionName": fn_name}
                assert a["threshold"] == 1
                assert a["comparison_operator"] == "GreaterThanOrEqualToThreshold"
                assert (a["period"], a["evaluation_periods"], a["datapoints_to_alarm"]) == (60, 5, 3)
        api = {
            "ApiName": ref(synth, role, "aws_api_gateway_rest_api", "api/api", "name"),
            "Stage": ref(synth, role, "aws_api_gateway_stage", "api/stage", "stage_name"),
        }
        rate = alarm(synth, role, "api-5xx-rate")
        assert (rate["metric_name"], rate["statistic"], rate["threshold"]) == ("5XXError", "Average", 0.05)
        assert rate["comparison_operator"] == "GreaterThanThreshold"
        assert rate["dimensions"] == api
        latency = alarm(synth, role, "api-p99-latency")
        assert (latency["metric_name"], latency["extended_statistic"], latency["threshold"]) == ("Latency", "p99", 2000)
        assert "statistic" not in latency
        assert latency["dimensions"] == api
        throttles = alarm(synth, role, "table-throttles")
        queries = {q["id"]: q for q in throttles["metric_query"]}
        assert queries["total"]["return_data"] is True
        assert queries["total"]["expression"] == "FILL(reads, 0) + FILL(writes, 0)"
        assert {queries[i]["metric"]["metric_name"] for i in ("reads", "writes")} == {
            "ReadThrottleEvents",
            "WriteThrottleEvents",
        }
        table = function(synth, role, "payment-processor")["environment"]["variables"]["PAYMENTS_TABLE"]
        assert all(queries[i]["metric"]["dimensions"] == {"TableName": table} for i in ("reads", "writes"))
        for dlq, path in (("retry-dlq", "retry-dlq/queue"), ("events-dlq", DLQ_OF_EVENTS)):
            depth = alarm(synth, role, f"{dlq}-depth")
            assert (depth["namespace"], depth["metric_name"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
            assert depth["dimensions"] == {"QueueName": ref(synth, role, "aws_sqs_queue", path, "name")}
            assert (depth["threshold"], depth["comparison_operator"]) == (0, "GreaterThanThreshold")
        undelivered = alarm(synth, role, "event-delivery-failures")
        queries = {q["id"]: q for q in undelivered["metric_query"]}
        assert queries["total"]["expression"] == "FILL(failed, 0) + FILL(undeliverable, 0)"
        assert {queries[i]["metric"]["metric_name"] for i in ("failed", "undeliverable")} == {
            "FailedInvocations",
            "InvocationsFailedToBeSentToDlq",
        }
        rule = {
            "EventBusName": ref(synth, role, "aws_cloudwatch_event_bus", "events/bus", "name"),
            "RuleName": ref(synth, role, "aws_cloudwatch_event_rule", "events/payment-created", "name"),
        }
        assert all(queries[i]["metric"]["dimensions"] == rule for i in ("failed", "undeliverable"))
        assert all(queries[i]["metric"]["namespace"] == "AWS/Events" for i in ("failed", "undeliverable"))
        assert (undelivered["threshold"], undelivered["evaluation_periods"]) == (1, 1)


def test_aurora_replica_lag_is_watched_in_the_secondary_only(aws_dev: Synth) -> None:
    names = [a["alarm_name"] for a in aws_dev.resources("compute-primary", "aws_cloudwatch_metric_alarm").values()]
    assert not any("aurora-replication" in n for n in names)
    lag = alarm(aws_dev, "secondary", "aurora-replication-lag")
    assert (lag["namespace"], lag["metric_name"]) == ("AWS/RDS", "AuroraGlobalDBReplicationLag")
    assert is_remote(
        lag["dimensions"]["DBClusterIdentifier"], "data", "secondary", "aws_rds_cluster", "cluster_identifier"
    )
    assert lag["threshold"] == 1000  # seed 004; data.replication_lag_alarm_ms


def test_aurora_cpu_is_watched_in_both_regions_and_notifies_only(aws_dev: Synth) -> None:
    for role in ROLES:
        cpu = alarm(aws_dev, role, "aurora-cpu")
        assert (cpu["namespace"], cpu["metric_name"], cpu["statistic"]) == ("AWS/RDS", "CPUUtilization", "Maximum")
        assert is_remote(
            cpu["dimensions"]["DBClusterIdentifier"], "data", role, "aws_rds_cluster", "cluster_identifier"
        )
        assert (cpu["threshold"], cpu["comparison_operator"]) == (80, "GreaterThanOrEqualToThreshold")
        composite = at(aws_dev, role, "aws_cloudwatch_composite_alarm", "alarms/region-unhealthy")
        assert "aurora-cpu" not in composite["alarm_rule"]


def test_aurora_alarm_thresholds_come_from_config(tuned: Synth) -> None:
    assert alarm(tuned, "secondary", "aurora-replication-lag")["threshold"] == 2500
    assert {alarm(tuned, role, "aurora-cpu")["threshold"] for role in ROLES} == {65}


@pytest.mark.parametrize("synth_name", ["aws_dev", "aws_prod"])
def test_region_unhealthy_is_a_composite_of_the_critical_alarms(
    request: pytest.FixtureRequest, synth_name: str
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    for role in ROLES:
        composite = at(synth, role, "aws_cloudwatch_composite_alarm", "alarms/region-unhealthy")
        env = "prod" if synth_name == "aws_prod" else "dev"
        assert composite["alarm_name"] == f"payments-{env}-{role}-region-unhealthy"
        critical = ["payment-processor-errors", "payment-processor-throttles", "api-5xx-rate", "api-p99-latency"]
        critical += ["table-throttles"] + (["aurora-replication-lag"] if role == "secondary" else [])
        expected = " OR ".join(
            f'ALARM("{ref(synth, role, "aws_cloudwatch_metric_alarm", f"alarms/{key}", "alarm_name")}")'
            for key in critical
        )
        assert composite["alarm_rule"] == expected
        topic_arn = ref(synth, role, "aws_sns_topic", "alarms/topic", "arn")
        assert composite["alarm_actions"] == [topic_arn]
        assert composite["ok_actions"] == [topic_arn]


def test_local_target_stands_in_a_metric_alarm_for_the_composite(local_dev: Synth) -> None:
    for role in ROLES:
        assert local_dev.resources(stack_of(role), "aws_cloudwatch_composite_alarm") == {}
        stand_in = alarm(local_dev, role, "region-unhealthy")
        assert stand_in["alarm_name"] == f"payments-dev-{role}-region-unhealthy"
        assert (stand_in["metric_name"], stand_in["statistic"]) == ("5XXError", "Average")


def test_no_email_subscription_unless_configured(local_dev: Synth) -> None:
    for role in ROLES:
        assert local_dev.resources(stack_of(role), "aws_sns_topic_subscription") == {}


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """dev with an alarm e-mail, functions left unreserved and its own Aurora alarm thresholds."""
    outdir = tmp_path_factory.mktemp("tuned") / "cdktf.out"
    result = synth_app(
        outdir,
        PAYMENTS_COMPUTE_ALARM_EMAIL="oncall@example.com",
        PAYMENTS_COMPUTE_RESERVE_CONCURRENCY="false",
        PAYMENTS_DATA_REPLICATION_LAG_ALARM_MS="2500",
        PAYMENTS_DATA_AURORA_CPU_ALARM_PERCENT="65",
    )
    assert result.returncode == 0, result.stderr
    return Synth(outdir)


@pytest.mark.parametrize(
    ("rate", "burst", "p99_ms", "reserved"),
    [("50", "100", "1000", 150), ("200", "400", "250", 450), ("10", "10", "1", 11)],
)
def test_reserved_concurrency_is_the_api_burst_plus_what_its_rate_keeps_in_flight(
    rate: str, burst: str, p99_ms: str, reserved: int
) -> None:
    settings = load_settings(
        environ={
            "PAYMENTS_DOTENV": "none",
            "PAYMENTS_COMPUTE_API_THROTTLE_RATE_LIMIT": rate,
            "PAYMENTS_COMPUTE_API_THROTTLE_BURST_LIMIT": burst,
            "PAYMENTS_COMPUTE_LAMBDA_P99_LATENCY_MS": p99_ms,
        }
    )
    assert settings.compute.reserved_concurrency == reserved


def test_functions_can_be_left_unreserved(tuned: Synth) -> None:
    for role in ROLES:
        for name in FUNCTIONS:
            assert "reserved_concurrent_executions" not in function(tuned, role, name)


def test_alarm_email_subscribes_to_the_topic(tuned: Synth) -> None:
    synth = tuned
    for role in ROLES:
        subscription = at(synth, role, "aws_sns_topic_subscription", "alarms/email")
        assert subscription["protocol"] == "email"
        assert subscription["endpoint"] == "oncall@example.com"
        assert subscription["topic_arn"] == ref(synth, role, "aws_sns_topic", "alarms/topic", "arn")


@pytest.mark.parametrize("role", ROLES)
def test_dashboard_shows_the_region_and_its_alarms(local_dev: Synth, role: str) -> None:
    dashboard = at(local_dev, role, "aws_cloudwatch_dashboard", "dashboard/dashboard")
    assert dashboard["dashboard_name"] == f"payments-dev-{role}-payments"
    body = json.loads(dashboard["dashboard_body"])
    metric_widgets = [w for w in body["widgets"] if w["type"] == "metric"]
    assert {w["properties"]["region"] for w in metric_widgets} == {REGIONS[role]}
    namespaces = {m[0] for w in metric_widgets for m in w["properties"]["metrics"]}
    assert namespaces == {"AWS/ApiGateway", "AWS/Lambda", "AWS/DynamoDB", "AWS/SQS", "AWS/RDS"}
    aurora = [m for w in metric_widgets for m in w["properties"]["metrics"] if m[0] == "AWS/RDS"]
    assert {m[1] for m in aurora} == {
        "CPUUtilization",
        "DatabaseConnections",
        "CommitLatency",
        "AuroraGlobalDBReplicationLag",
    }
    assert all(
        m[2] == "DBClusterIdentifier" and is_remote(m[3], "data", role, "aws_rds_cluster", "cluster_identifier")
        for m in aurora
    ), "the region's own cluster (the lag metric appears on whichever cluster is the secondary)"
    [alarms] = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert len(alarms["properties"]["alarms"]) == len(
        local_dev.resources(stack_of(role), "aws_cloudwatch_metric_alarm")
    )


# --- outputs ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("synth_name", SYNTHS)
def test_outputs_for_tests_dns_and_rollout(request: pytest.FixtureRequest, synth_name: str) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    for role in ROLES:
        outputs = {k: v for k, v in synth.outputs(stack_of(role)).items() if not k.startswith("cross-stack-output-")}
        assert set(outputs) >= OUTPUTS
        assert [k for k, v in outputs.items() if v.get("sensitive")] == []  # no key value: the secret holds them
        assert outputs["api_endpoint"]["value"] == ref(synth, role, "aws_api_gateway_stage", "api/stage", "invoke_url")
        assert "dlq_url" not in outputs
        assert outputs["region_unhealthy_alarm_name"]["value"].endswith(f"-{role}-region-unhealthy")
        assert outputs["region"]["value"] == REGIONS[role]
        alarm_names = outputs["alarm_names"]["value"]
        assert isinstance(alarm_names, list)
        assert len(alarm_names) == len(synth.resources(stack_of(role), "aws_cloudwatch_metric_alarm")) + len(
            synth.resources(stack_of(role), "aws_cloudwatch_composite_alarm")
        )
