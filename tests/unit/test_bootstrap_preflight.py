"""Bootstrap's converging steps and preflight's checks, against the emulator's own responses (moto in-process)
where it answers, and against recorded response shapes where it does not (its gaps are listed in GAPS)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, NoCredentialsError
from moto import mock_aws

from config import Settings, load_settings
from ops.cli.main import main
from ops.core.endpoints import is_emulator
from ops.core.errors import RefusedError
from ops.deploy import engine, preflight
from ops.deploy.synth_facts import AuroraInstance, AuroraVersion, read_facts
from ops.state import account_settings, bootstrap
from ops.state.bootstrap_key import Caller, ensure_key
from shared.local_target import GAPS_BY_KEY
from tests.conftest import AWS_ZONE
from tests.support import Synth, write_ca_bundle

ACCOUNT, REGION = "123456789012", "us-east-1"
CALLER = Caller(account_id=ACCOUNT, partition="aws")


@pytest.fixture
def settings() -> Settings:
    return load_settings(
        environ={
            "PAYMENTS_DOTENV": "none",
            "PAYMENTS_TARGET": "aws",
            "PAYMENTS_AWS_ACCOUNT_ID": ACCOUNT,
            "PAYMENTS_DNS_ZONE_NAME": AWS_ZONE,
        }
    )


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        yield


def aws(service: str, region: str = REGION) -> Any:
    return boto3.client(service, region_name=region)  # type: ignore[call-overload]


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "Operation")


# -- which endpoint is an emulator --------------------------------------------------------------------------------


def test_aws_endpoints_are_not_emulators_and_any_other_endpoint_is() -> None:
    assert not is_emulator(boto3.client("s3", region_name="eu-west-1"))
    assert not is_emulator(boto3.client("sts", region_name="cn-north-1"))
    assert is_emulator(boto3.client("s3", region_name=REGION, endpoint_url="http://127.0.0.1:4566"))


def test_each_gap_preflight_and_bootstrap_name_is_listed() -> None:
    assert {"backup-region-settings", "lambda-account-settings", "rds-engine-catalogue"} <= set(GAPS_BY_KEY)


# -- bootstrap: every step converges, a second run changes nothing -------------------------------------------------


def test_bootstrap_key_rotates_has_its_alias_and_lets_only_rds_os_metrics_use_it_via_logs(
    moto: None, settings: Settings
) -> None:
    """https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html (the logs.<region> principal,
    the kms:EncryptionContext:aws:logs:arn condition), https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html"""
    kms = aws("kms")
    key_arn, changes = ensure_key(settings, kms, CALLER, REGION)
    assert changes[0] == f"created KMS key alias/payments-dev-bootstrap in {REGION}"
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"]
    logs_statement = json.loads(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])["Statement"][1]
    assert logs_statement["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
    assert logs_statement["Condition"] == {
        "ArnEquals": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:RDSOSMetrics"}
    }
    assert ensure_key(settings, kms, CALLER, REGION) == (key_arn, [])


def test_state_bucket_and_lock_table_converge(moto: None, settings: Settings) -> None:
    """https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html (TLS-only policy),
    https://developer.hashicorp.com/terraform/language/backend/s3 (bucket versioning, the LockID table)"""
    key_arn, _ = ensure_key(settings, aws("kms"), CALLER, REGION)
    s3, dynamodb = aws("s3"), aws("dynamodb")
    assert f"created state bucket {settings.state.bucket}" in bootstrap.ensure_state_bucket(
        settings, s3, key_arn, "aws"
    )
    assert bootstrap.ensure_state_bucket(settings, s3, key_arn, "aws") == []
    (deny,) = json.loads(s3.get_bucket_policy(Bucket=settings.state.bucket)["Policy"])["Statement"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert bootstrap.ensure_lock_table(settings, dynamodb, key_arn) == [
        f"created lock table {settings.state.lock_table} in {REGION}",
        f"enabled point-in-time recovery of {settings.state.lock_table} in {REGION}",
    ]
    assert bootstrap.ensure_lock_table(settings, dynamodb, key_arn) == []


def test_an_existing_bucket_with_the_default_key_is_moved_to_the_bootstrap_key(moto: None, settings: Settings) -> None:
    s3 = aws("s3")
    s3.create_bucket(Bucket=settings.state.bucket)
    s3.put_bucket_encryption(
        Bucket=settings.state.bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    key_arn, _ = ensure_key(settings, aws("kms"), CALLER, REGION)
    assert f"encrypted {settings.state.bucket} with the bootstrap key" in bootstrap.ensure_state_bucket(
        settings, s3, key_arn, "aws"
    )


def test_api_gateway_role_writes_logs_only_and_trusts_only_this_account(moto: None, settings: Settings) -> None:
    """https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html (one role per account and
    region, set with UpdateAccount), https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html"""
    iam = aws("iam")
    role_arn, changes = account_settings.ensure_api_gateway_role(settings, iam, CALLER)
    assert len(changes) == 2
    name = account_settings.api_gateway_role_name(settings)
    (statement,) = iam.get_role_policy(RoleName=name, PolicyName="write-logs")["PolicyDocument"]["Statement"]
    assert not [action for action in statement["Action"] if action.startswith(("logs:Get", "logs:Filter"))]
    assert account_settings.ensure_api_gateway_role(settings, iam, CALLER) == (role_arn, [])
    apigateway = aws("apigateway")
    assert account_settings.ensure_api_gateway_account(apigateway, role_arn, REGION, role_is_new=False)
    assert apigateway.get_account()["cloudwatchRoleArn"] == role_arn
    assert account_settings.ensure_api_gateway_account(apigateway, role_arn, REGION, role_is_new=False) == []


def test_rds_os_metrics_log_group_is_created_encrypted_with_retention_once(moto: None, settings: Settings) -> None:
    """https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_Monitoring.OS.overview.html (Enhanced
    Monitoring writes to the RDSOSMetrics log group)"""
    key_arn, _ = ensure_key(settings, aws("kms"), CALLER, REGION)
    logs = aws("logs")
    first = account_settings.ensure_rds_os_metrics_log_group(logs, key_arn, 30, REGION)
    assert len(first.changes) == 2
    (group,) = logs.describe_log_groups(logGroupNamePrefix="RDSOSMetrics")["logGroups"]
    assert (group["kmsKeyId"], group["retentionInDays"]) == (key_arn, 30)
    second = account_settings.ensure_rds_os_metrics_log_group(logs, key_arn, 30, REGION)
    assert (second.changes, second.notes) == ([], [])


class RecordingBackup:
    """Backup's region settings as AWS answers them (the emulator does not implement them: gap)."""

    def __init__(self, endpoint: str, current: dict[str, Any]) -> None:
        self.meta = SimpleNamespace(endpoint_url=endpoint)
        self.current = current
        self.updates: list[dict[str, Any]] = []

    def describe_region_settings(self) -> dict[str, Any]:
        return self.current

    def update_region_settings(self, **kwargs: Any) -> None:
        self.updates.append(kwargs)


def test_backup_region_settings_set_only_what_differs_and_are_skipped_by_name_on_an_emulator() -> None:
    """https://docs.aws.amazon.com/aws-backup/latest/devguide/API_UpdateRegionSettings.html,
    https://docs.aws.amazon.com/aws-backup/latest/devguide/advanced-ddb-backup.html"""
    backup = RecordingBackup(
        "https://backup.us-east-1.amazonaws.com",
        {"ResourceTypeOptInPreference": {"Aurora": True, "DynamoDB": False, "EFS": True}},
    )
    report = account_settings.ensure_backup_region_settings(backup, REGION)
    assert backup.updates == [
        {"ResourceTypeOptInPreference": {"DynamoDB": True}, "ResourceTypeManagementPreference": {"DynamoDB": True}}
    ]
    assert report.changes == [
        f"set AWS Backup region settings in {REGION}: opt-in DynamoDB, full management of DynamoDB"
    ]
    backup.current = {
        "ResourceTypeOptInPreference": {"Aurora": True, "DynamoDB": True},
        "ResourceTypeManagementPreference": {"DynamoDB": True},
    }
    assert account_settings.ensure_backup_region_settings(backup, REGION).changes == []
    emulated = RecordingBackup("http://127.0.0.1:4566", {})
    assert "gap backup-region-settings" in account_settings.ensure_backup_region_settings(emulated, REGION).notes[0]
    assert emulated.updates == []


def test_bootstrap_refuses_credentials_of_another_account(moto: None) -> None:
    other = load_settings(
        environ={
            "PAYMENTS_DOTENV": "none",
            "PAYMENTS_TARGET": "aws",
            "PAYMENTS_AWS_ACCOUNT_ID": "111122223333",
            "PAYMENTS_DNS_ZONE_NAME": AWS_ZONE,
        }
    )
    with pytest.raises(RefusedError, match=r"is account 123456789012, but aws\.account_id is 111122223333"):
        bootstrap.caller_identity(other)


# -- preflight checks ---------------------------------------------------------------------------------------------


def test_credentials_must_belong_to_an_allowed_account(moto: None) -> None:
    assert preflight.check_credentials(aws("sts"), {ACCOUNT}, "").ok
    wrong = preflight.check_credentials(aws("sts"), {"111122223333"}, "ops")
    assert wrong.line == (
        "FAIL  credentials and account: profile ops belong to account 123456789012; the stacks allow only "
        "111122223333 -- fix: use credentials of that account, or fix PAYMENTS_AWS_ACCOUNT_ID (aws.account_id)"
    )
    assert not preflight.check_credentials(aws("sts"), set(), "").ok


def test_missing_credentials_are_one_fail_line_naming_the_fix() -> None:
    class NoCredentials:
        def get_caller_identity(self) -> None:
            raise NoCredentialsError

    result = preflight.check_credentials(NoCredentials(), {ACCOUNT}, "ops")
    assert result.line.startswith("FAIL  credentials and account: profile ops do not work")
    assert result.line.endswith("fix: log in (e.g. `aws sso login`) or export valid credentials")


def test_state_checks_send_to_make_bootstrap(moto: None, settings: Settings) -> None:
    s3, dynamodb = aws("s3"), aws("dynamodb")
    assert preflight.check_state_bucket(s3, "absent").detail.endswith("fix: run `make bootstrap`")
    assert preflight.check_lock_table(dynamodb, "absent").detail.endswith("fix: run `make bootstrap`")
    assert not preflight.check_api_gateway_account(aws("apigateway"), REGION).ok
    key_arn, _ = ensure_key(settings, aws("kms"), CALLER, REGION)
    bootstrap.ensure_state_bucket(settings, s3, key_arn, "aws")
    bootstrap.ensure_lock_table(settings, dynamodb, key_arn)
    assert preflight.check_state_bucket(s3, settings.state.bucket).ok
    assert preflight.check_lock_table(dynamodb, settings.state.lock_table).ok


class LambdaQuota:
    """GetAccountSettings and GetFunctionConcurrency as AWS answers them (the emulator lacks the first: gap)."""

    class exceptions:
        class ResourceNotFoundException(Exception):
            pass

    def __init__(self, unreserved: int, held: dict[str, int]) -> None:
        self.unreserved, self.held = unreserved, held

    def get_account_settings(self) -> dict[str, Any]:
        return {"AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": self.unreserved}}

    def get_function_concurrency(self, FunctionName: str) -> dict[str, int]:
        if FunctionName not in self.held:
            raise self.exceptions.ResourceNotFoundException
        return {"ReservedConcurrentExecutions": self.held[FunctionName]}


@pytest.mark.parametrize(
    ("unreserved", "held", "passes"),
    [
        (1000, {}, True),  # a fresh account: 970 left
        (129, {}, False),  # 99 left after reserving 30
        (130, {}, True),  # exactly 100 left
        (100, {"a": 10, "b": 10, "c": 10}, True),  # our functions already hold their 30: redeploying changes nothing
        (90, {"a": 10}, False),  # 90 + 10 - 30 = 70
    ],
)
def test_lambda_concurrency_keeps_100_unreserved(unreserved: int, held: dict[str, int], passes: bool) -> None:
    """https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html (reserve up to the unreserved
    account concurrency minus 100)"""
    result = preflight.check_lambda_concurrency(LambdaQuota(unreserved, held), REGION, {"a": 10, "b": 10, "c": 10})
    assert result.ok is passes
    if not passes:
        assert "L-B99A9384" in result.detail


class EngineVersions:
    """DescribeDBEngineVersions as AWS answers it (not implemented by the emulator: gap rds-engine-catalogue)."""

    def __init__(self, versions: list[dict[str, Any]]) -> None:
        self.versions = versions

    def describe_db_engine_versions(self, Engine: str, EngineVersion: str) -> dict[str, Any]:
        return {"DBEngineVersions": [v for v in self.versions if v["EngineVersion"] == EngineVersion]}


def test_engine_version_must_be_offered_with_global_database_support() -> None:
    """https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBEngineVersions.html
    (SupportsGlobalDatabases)"""
    wanted = AuroraVersion(REGION, "aurora-postgresql", "16.4")
    rds = EngineVersions([{"Engine": "aurora-postgresql", "EngineVersion": "16.4", "SupportsGlobalDatabases": True}])
    assert preflight.check_engine_version(rds, wanted).ok
    assert "not offered" in preflight.check_engine_version(EngineVersions([]), wanted).detail
    no_global = EngineVersions([{"EngineVersion": "16.4", "SupportsGlobalDatabases": False}])
    assert "not for global databases" in preflight.check_engine_version(no_global, wanted).detail


BUNDLE_FIX = (
    "fix: download https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem and set data.rds_ca_bundle to "
    "its path"
)


def test_the_rds_ca_bundle_must_be_a_pem_bundle(tmp_path: Path) -> None:
    """https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.SSL.html (the global bundle)"""
    name = "RDS CA bundle (data.rds_ca_bundle)"
    assert preflight.check_rds_ca_bundle("").line == f"FAIL  {name}: not set -- {BUNDLE_FIX}"
    missing = preflight.check_rds_ca_bundle(str(tmp_path / "absent.pem")).line
    assert (
        missing
        == f"FAIL  {name}: {tmp_path}/absent.pem is not a readable PEM bundle (FileNotFoundError) -- {BUNDLE_FIX}"
    )
    (tmp_path / "page.pem").write_text("<html>not found</html>\n")
    assert "is not a readable PEM bundle (SSLError)" in preflight.check_rds_ca_bundle(str(tmp_path / "page.pem")).line
    bundle = write_ca_bundle(tmp_path / "global-bundle.pem")
    assert preflight.check_rds_ca_bundle(str(bundle)).line == f"ok    {name}: {bundle}: 1 CA certificate(s)"


def test_instance_class_must_be_orderable_for_the_version(moto: None) -> None:
    rds = aws("rds")
    assert preflight.check_instance_class(rds, AuroraInstance(REGION, "aurora-postgresql", "14.6", "db.r6g.large")).ok
    absent = preflight.check_instance_class(rds, AuroraInstance(REGION, "aurora-postgresql", "14.6", "db.r1.nano"))
    assert absent.line.startswith("FAIL  db.r1.nano for aurora-postgresql 14.6 (us-east-1): not orderable")


def test_zones_must_be_available_to_the_account(moto: None) -> None:
    ec2 = aws("ec2")
    assert preflight.check_zones(ec2, REGION, {"us-east-1a", "us-east-1b"}, set(), set()).ok
    assert "us-east-1z" in preflight.check_zones(ec2, REGION, {"us-east-1a", "us-east-1z"}, set(), set()).detail
    assert not preflight.check_zones(ec2, REGION, set(), {"use1-az99"}, set()).ok
    assert not preflight.check_zones(ec2, REGION, set(), set(), {f"${{ref{i}}}" for i in range(20)}).ok


def test_bucket_names_are_free_ours_or_taken(moto: None) -> None:
    s3 = aws("s3")
    assert preflight.check_bucket_name(s3, "payments-free-name").detail == "free"
    s3.create_bucket(Bucket="payments-ours")
    assert preflight.check_bucket_name(s3, "payments-ours").detail == "already ours"

    class Taken:
        def head_bucket(self, Bucket: str) -> None:
            raise client_error("403")

    assert "taken by another account" in preflight.check_bucket_name(Taken(), "payments-taken").detail


def test_a_failing_call_is_a_fail_line_and_a_gap_on_an_emulator_is_a_named_skip() -> None:
    def denied() -> preflight.Result:
        raise client_error("AccessDenied")

    aws_client = SimpleNamespace(meta=SimpleNamespace(endpoint_url="https://rds.us-east-1.amazonaws.com"))
    assert preflight._run(("x", aws_client, "rds-engine-catalogue", denied)).ok is False
    emulated = SimpleNamespace(meta=SimpleNamespace(endpoint_url="http://127.0.0.1:4566"))
    skipped = preflight._run(("x", emulated, "rds-engine-catalogue", denied))
    assert skipped.line == "skip  x: not answered by the emulator (gap rds-engine-catalogue)"


# -- what preflight reads from the synthesized JSON ----------------------------------------------------------------


def test_facts_follow_provider_aliases_and_resolve_sibling_references(tmp_path: Path) -> None:
    stack = {
        "provider": {
            "aws": [
                {"region": "eu-west-1", "allowed_account_ids": [ACCOUNT]},
                {"alias": "peer", "region": "us-east-1", "allowed_account_ids": [ACCOUNT]},
            ]
        },
        "resource": {
            "aws_lambda_function": {
                "f": {"function_name": "fn", "reserved_concurrent_executions": 25},
                "g": {"function_name": "unreserved"},
            },
            "aws_rds_cluster": {"c": {"engine": "aurora-postgresql", "engine_version": "16.4"}},
            "aws_rds_cluster_instance": {
                "i": {
                    "engine": "${aws_rds_cluster.c.engine}",
                    "engine_version": "${aws_rds_cluster.c.engine_version}",
                    "instance_class": "db.r6g.large",
                }
            },
            "aws_subnet": {
                "a": {"availability_zone": "eu-west-1a"},
                "b": {"availability_zone": "${data.aws_availability_zones.z.names[1]}"},
            },
            "aws_s3_bucket": {"p": {"bucket": "name-in-peer", "provider": "aws.peer"}, "q": {"bucket": "${x}"}},
        },
    }
    (tmp_path / "stacks" / "one").mkdir(parents=True)
    (tmp_path / "stacks" / "one" / "cdk.tf.json").write_text(json.dumps(stack))
    facts = read_facts(tmp_path)
    assert facts.allowed_account_ids == {ACCOUNT}
    assert facts.reserved_concurrency == {"eu-west-1": {"fn": 25}}
    assert facts.aurora_versions == {AuroraVersion("eu-west-1", "aurora-postgresql", "16.4")}
    assert facts.aurora_instances == {AuroraInstance("eu-west-1", "aurora-postgresql", "16.4", "db.r6g.large")}
    assert facts.zone_names == {"eu-west-1": {"eu-west-1a"}}
    assert facts.zone_references == {"eu-west-1": {"${data.aws_availability_zones.z.names[1]}"}}
    assert facts.buckets == {("us-east-1", "name-in-peer")}


def test_facts_of_the_aws_target_cover_both_regions(aws_dev: Synth) -> None:
    facts = read_facts(aws_dev.outdir)
    regions = {"us-east-1", "eu-west-1"}
    assert set(facts.reserved_concurrency) == regions
    assert {version.region for version in facts.aurora_versions} == regions
    assert {instance.region for instance in facts.aurora_instances} == regions
    assert set(facts.zone_names) | set(facts.zone_ids) | set(facts.zone_references) == regions
    assert {region for region, _ in facts.buckets} == regions
    assert facts.allowed_account_ids == {"111122223333"}


class ForeignBucket:
    """HeadBucket on a name another account owns: 403."""

    def head_bucket(self, Bucket: str) -> None:
        raise client_error("403")


def test_a_state_bucket_name_owned_elsewhere_is_refused_by_bootstrap_and_failed_by_preflight(
    settings: Settings,
) -> None:
    with pytest.raises(RefusedError, match="PAYMENTS_STATE_BUCKET"):
        bootstrap.ensure_state_bucket(settings, ForeignBucket(), "arn:aws:kms:us-east-1:1:key/k", "aws")
    result = preflight.check_state_bucket(ForeignBucket(), settings.state.bucket)
    assert result.ok is False
    assert "not readable with these credentials (403)" in result.detail


def test_an_aws_deploy_stops_before_any_change_when_preflight_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in {
        "PAYMENTS_DOTENV": "none",
        "PAYMENTS_TARGET": "aws",
        "PAYMENTS_AWS_ACCOUNT_ID": ACCOUNT,
        "PAYMENTS_DNS_ZONE_NAME": AWS_ZONE,
    }.items():
        monkeypatch.setenv(name, value)
    ran: list[str] = []

    def failing_preflight(_: Settings) -> int:
        ran.append("preflight")
        return 1

    monkeypatch.setattr(preflight, "run", failing_preflight)
    monkeypatch.setattr(engine, "prepare", lambda settings, **__: ran.append("prepare") or settings)  # synthesized
    monkeypatch.setattr(engine, "run_stacks", lambda *_, **__: ran.append("apply"))
    assert main(["deploy", "primary"]) == 1
    assert ran == ["prepare", "preflight"]
    assert "a preflight check failed" in capsys.readouterr().err
