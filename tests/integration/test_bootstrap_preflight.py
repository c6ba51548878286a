"""`make bootstrap` and `make preflight` with aws-shaped settings against a private emulator (AWS_ENDPOINT_URL).

Its own short-lived emulator: the shared deployment is the local target, and bootstrap's aws-target behaviour
(TLS-only policy, the account check) only shows with target = aws.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from config.settings import LocalTarget
from harness.platform import free_port
from ops.core.paths import ROOT
from ops.core.tool_env import clean_environ
from ops.local import emulator
from tests.conftest import AWS_ZONE
from tests.support import write_ca_bundle

pytestmark = pytest.mark.phase("checks")  # its own emulator: it changes nothing the shared deployment holds

ACCOUNT = "123456789012"  # the emulator's account
REGIONS = ("us-east-1", "eu-west-1")
BUCKET, TABLE = f"payments-dev-tfstate-{ACCOUNT}", "payments-dev-tflock"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    target = LocalTarget(host="127.0.0.1", port=free_port())
    emulator.up(target)
    yield target.endpoint
    emulator.down(target)


def run_ops(endpoint: str, outdir: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = clean_environ(
        **settings,
        PAYMENTS_DOTENV="none",
        PAYMENTS_TARGET="aws",
        PAYMENTS_AWS_ACCOUNT_ID=ACCOUNT,
        PAYMENTS_DNS_ZONE_NAME=AWS_ZONE,
        PAYMENTS_OUTDIR=str(outdir),
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.pop("AWS_PROFILE", None)
    result = subprocess.run(
        [sys.executable, "-m", "ops", *args],
        check=False,
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=600,
    )
    sys.stdout.write(f"\n$ python -m ops {' '.join(args)}  (exit {result.returncode})\n{result.stdout}{result.stderr}")
    return result


def aws(endpoint: str, service: str, region: str = REGIONS[0]) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service, region_name=region, endpoint_url=endpoint, aws_access_key_id="t", aws_secret_access_key="t"
    )


@pytest.fixture(scope="module")
def bootstrapped(endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    outdir = tmp_path_factory.mktemp("bootstrap") / "cdktf.out"
    first, second = (run_ops(endpoint, outdir, "bootstrap") for _ in range(2))
    assert first.returncode == 0
    assert second.returncode == 0
    return first.stdout, second.stdout


def test_bootstrap_converges_then_changes_nothing(bootstrapped: tuple[str, str]) -> None:
    first, second = bootstrapped
    assert f"created state bucket {BUCKET}" in first
    assert "no change:" not in first
    assert "no change:" in second
    assert not [line for line in second.splitlines() if line.startswith(("created", "set ", "enabled", "updated"))]
    assert second.count("emulator gap backup-region-settings") == 2  # a gap is named, never silently skipped


def test_state_bucket_is_versioned_cmk_encrypted_private_and_tls_only(endpoint: str, bootstrapped: object) -> None:
    s3, kms = aws(endpoint, "s3"), aws(endpoint, "kms")
    key = kms.describe_key(KeyId="alias/payments-dev-bootstrap")["KeyMetadata"]
    assert key["KeyManager"] == "CUSTOMER"
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}
    assert all(s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"].values())
    ownership = s3.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (deny,) = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_lock_table_has_pitr_and_kms(endpoint: str, bootstrapped: object) -> None:
    dynamodb = aws(endpoint, "dynamodb")
    key_arn = aws(endpoint, "kms").describe_key(KeyId="alias/payments-dev-bootstrap")["KeyMetadata"]["Arn"]
    sse = dynamodb.describe_table(TableName=TABLE)["Table"]["SSEDescription"]
    assert (sse["Status"], sse["SSEType"], sse["KMSMasterKeyArn"]) == ("ENABLED", "KMS", key_arn)
    backups = dynamodb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


@pytest.mark.parametrize("region", REGIONS)
def test_account_settings_of_each_region(endpoint: str, bootstrapped: object, region: str) -> None:
    key_arn = aws(endpoint, "kms", region).describe_key(KeyId="alias/payments-dev-bootstrap")["KeyMetadata"]["Arn"]
    (group,) = aws(endpoint, "logs", region).describe_log_groups(logGroupNamePrefix="RDSOSMetrics")["logGroups"]
    assert (group["kmsKeyId"], group["retentionInDays"]) == (key_arn, 30)
    role_arn = aws(endpoint, "apigateway", region).get_account()["cloudwatchRoleArn"]
    assert role_arn == f"arn:aws:iam::{ACCOUNT}:role/payments-account-apigateway-logs"
    trust = aws(endpoint, "iam").get_role(RoleName="payments-account-apigateway-logs")["Role"]
    (statement,) = trust["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_preflight_passes_after_bootstrap(
    endpoint: str, bootstrapped: object, tmp_path_factory: pytest.TempPathFactory
) -> None:
    directory = tmp_path_factory.mktemp("preflight")
    bundle = write_ca_bundle(directory / "global-bundle.pem")  # the real one is a download; this machine is offline
    result = run_ops(endpoint, directory / "cdktf.out", "preflight", PAYMENTS_DATA_RDS_CA_BUNDLE=str(bundle))
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert f"ok    RDS CA bundle (data.rds_ca_bundle): {bundle}: 1 CA certificate(s)" in lines
    assert f"ok    credentials and account: account {ACCOUNT}, as aws.account_id requires" in lines
    assert f"ok    state bucket: {BUCKET} exists" in lines
    assert sum(line.startswith("ok    API Gateway CloudWatch role") for line in lines) == 2
    assert sum(line.startswith("ok    bucket name payments-dev-audit-") for line in lines) == 2
    assert sum("(gap lambda-account-settings)" in line for line in lines) == 2
    assert not [line for line in lines if line.startswith("FAIL")]
