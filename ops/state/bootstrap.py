"""`make bootstrap`: the remote-state home and the per-account, per-region settings, before any stack. Idempotent.

State (in the state region): a versioned, CMK-encrypted, private, bucket-owner-enforced S3 bucket with a TLS-only
policy, and a DynamoDB lock table with point-in-time recovery and SSE under the same key. Then, in both configured
regions: the bootstrap key, API Gateway's CloudWatch Logs role, AWS Backup region settings and the RDSOSMetrics
log group (`ops.state.account_settings`). Every step reads first and changes only what differs.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config.settings import Settings
from ops.core.aws_access import BUCKET_MISSING, error_code, head_bucket
from ops.core.aws_clients import client
from ops.core.errors import RefusedError
from ops.state import account_settings
from ops.state.account_settings import Report
from ops.state.bootstrap_key import Caller, ensure_key
from shared.local_target import supports_tls_only_bucket_policy

PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def tls_only_policy(bucket: str, partition: str) -> dict[str, Any]:
    arn = f"arn:{partition}:s3:::{bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def caller_identity(settings: Settings) -> Caller:
    """Who the credentials are; on the aws target they must be `aws.account_id`'s, or nothing is created."""
    profile = settings.aws.profile or "the default credentials"
    try:
        identity = client(settings, "sts", settings.state_region).get_caller_identity()
    except (BotoCoreError, ClientError) as error:
        raise RefusedError(
            f"bootstrap: cannot use {profile}: {error}; log in (e.g. `aws sso login`) and run again"
        ) from error
    caller = Caller(account_id=str(identity["Account"]), partition=str(identity["Arn"]).split(":")[1])
    if not settings.is_local and caller.account_id != settings.aws.account_id:
        raise RefusedError(
            f"bootstrap: {profile} is account {caller.account_id}, but aws.account_id is "
            f"{settings.aws.account_id}: use credentials of {settings.aws.account_id} or fix PAYMENTS_AWS_ACCOUNT_ID"
        )
    return caller


def _bucket_encryption(key_arn: str) -> dict[str, Any]:
    return {
        "Rules": [
            {
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
                "BucketKeyEnabled": True,
            }
        ]
    }


def _current_or_none(call: Any, missing: str, **kwargs: Any) -> Any:
    try:
        return call(**kwargs)
    except ClientError as error:
        if error_code(error) == missing:
            return None
        raise


def ensure_state_bucket(settings: Settings, s3: Any, key_arn: str, partition: str) -> list[str]:
    bucket, region = settings.state.bucket, settings.state_region
    changes: list[str] = []
    error = head_bucket(s3, bucket)
    if error is not None:
        if error_code(error) not in BUCKET_MISSING:
            raise RefusedError(
                f"bootstrap: state bucket {bucket} exists but is not readable with these credentials "
                f"({error_code(error)}): another account owns the name, or grant s3:ListBucket; "
                "a free name: set state.bucket (PAYMENTS_STATE_BUCKET)"
            ) from error
        kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket, **kwargs)
        changes.append(f"created state bucket {bucket}")
    if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        changes.append(f"enabled versioning of {bucket}")
    encryption = _bucket_encryption(key_arn)
    current = _current_or_none(
        s3.get_bucket_encryption, "ServerSideEncryptionConfigurationNotFoundError", Bucket=bucket
    )
    if current is None or current["ServerSideEncryptionConfiguration"]["Rules"] != encryption["Rules"]:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=encryption)
        changes.append(f"encrypted {bucket} with the bootstrap key")
    block = _current_or_none(s3.get_public_access_block, "NoSuchPublicAccessBlockConfiguration", Bucket=bucket)
    if block is None or block["PublicAccessBlockConfiguration"] != PUBLIC_ACCESS_BLOCK:
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK)
        changes.append(f"blocked public access to {bucket}")
    ownership = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    current = _current_or_none(s3.get_bucket_ownership_controls, "OwnershipControlsNotFoundError", Bucket=bucket)
    if current is None or current["OwnershipControls"] != ownership:
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=ownership)
        changes.append(f"set {bucket} to bucket-owner-enforced (ACLs off)")
    if supports_tls_only_bucket_policy(settings):  # gap s3-tls-only-policy: the emulator would deny state writes
        policy = tls_only_policy(bucket, partition)
        current = _current_or_none(s3.get_bucket_policy, "NoSuchBucketPolicy", Bucket=bucket)
        if current is None or json.loads(current["Policy"]) != policy:
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
            changes.append(f"set the TLS-only policy of {bucket}")
    return changes


def ensure_lock_table(settings: Settings, dynamodb: Any, key_arn: str) -> list[str]:
    table = settings.state.lock_table
    sse = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn}
    changes: list[str] = []
    try:
        description = dynamodb.describe_table(TableName=table)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        dynamodb.create_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            SSESpecification=sse,
        )
        dynamodb.get_waiter("table_exists").wait(TableName=table)
        changes.append(f"created lock table {table}")
        description = {"SSEDescription": {"SSEType": "KMS", "KMSMasterKeyArn": key_arn}}
    current_sse = description.get("SSEDescription", {})
    if current_sse.get("SSEType") != "KMS" or current_sse.get("KMSMasterKeyArn") != key_arn:
        dynamodb.update_table(TableName=table, SSESpecification=sse)
        changes.append(f"encrypted lock table {table} with the bootstrap key")
    backups = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    if backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus") != "ENABLED":
        dynamodb.update_continuous_backups(
            TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
        changes.append(f"enabled point-in-time recovery of {table}")
    return changes


def _state(settings: Settings, caller: Caller) -> list[str]:
    region = settings.state_region
    key_arn, changes = ensure_key(settings, client(settings, "kms", region), caller, region)
    changes += ensure_state_bucket(settings, client(settings, "s3", region), key_arn, caller.partition)
    changes += ensure_lock_table(settings, client(settings, "dynamodb", region), key_arn)
    return changes


def bootstrap_state(settings: Settings) -> list[str]:
    """Only the state bucket, lock table and their key: what every local command makes sure of before it runs."""
    changes = _state(settings, caller_identity(settings))
    state = f"state bucket {settings.state.bucket} and lock table {settings.state.lock_table}"
    return changes or [f"no change: {state} already in place"]


def bootstrap(settings: Settings) -> Report:
    """Converge everything; `Report.changes` is empty when the account already was as bootstrap leaves it."""
    caller = caller_identity(settings)
    report = Report(changes=_state(settings, caller))
    role_arn, role_changes = account_settings.ensure_api_gateway_role(
        settings, client(settings, "iam", settings.state_region), caller
    )
    report.changes += role_changes
    for region in (settings.regions.primary, settings.regions.secondary):
        key_arn, key_changes = ensure_key(settings, client(settings, "kms", region), caller, region)
        report.changes += key_changes
        report.changes += account_settings.ensure_api_gateway_account(
            client(settings, "apigateway", region), role_arn, region, role_is_new=bool(role_changes)
        )
        report.extend(account_settings.ensure_backup_region_settings(client(settings, "backup", region), region))
        report.extend(
            account_settings.ensure_rds_os_metrics_log_group(
                client(settings, "logs", region), key_arn, settings.compute.log_retention_days, region
            )
        )
    return report


def bootstrap_lines(settings: Settings) -> list[str]:
    """`make bootstrap` and `make local-up`: everything, one line per change, or one line saying nothing changed."""
    report = bootstrap(settings)
    if report.changes:
        return [*report.changes, *report.notes]
    return [
        *report.notes,
        f"no change: state bucket {settings.state.bucket}, lock table {settings.state.lock_table} and the "
        "account settings of both regions already in place",
    ]
