"""`make bootstrap`: the remote-state home and the per-account, per-region settings, before any stack. Idempotent.

State: two homes, the primary's (`state_bucket_of("primary")`) and its replica in the secondary region
(`state_bucket_of("secondary")`), each a versioned, CMK-encrypted (its region's bootstrap key), private,
bucket-owner-enforced S3 bucket with a TLS-only policy; and the lock table in both regions, with point-in-time
recovery, SSE under its region's key and a NEW_AND_OLD_IMAGES stream. The homes are kept in step on AWS by two-way S3
replication and a global lock table (`ops.state.state_replication`); locally by the replication process (gaps
`s3-state-replication` and `dynamodb-replica`). Then, in both configured
regions: the bootstrap key, API Gateway's CloudWatch Logs role, AWS Backup region settings and the RDSOSMetrics
log group (`ops.state.account_settings`). With `pipeline.github_repository` set, last: GitHub Actions' OIDC provider,
deploy and plan roles and their permissions boundary (`ops.state.deploy_roles`). Every step reads first and changes
only what differs.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config.settings import ROLES, Role, Settings
from ops.core.aws_access import BUCKET_MISSING, error_code, head_bucket
from ops.core.aws_clients import client
from ops.core.endpoints import is_emulator
from ops.core.errors import RefusedError
from ops.state import account_settings, deploy_roles, state_replication
from ops.state.account_settings import Report
from ops.state.bootstrap_key import Caller, ensure_key
from ops.state.state_replication import ensure_point_in_time_recovery
from shared.local_target import (
    replicates_state_buckets_itself,
    supports_dynamodb_replicas,
    supports_tls_only_bucket_policy,
)

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


def ensure_state_bucket(settings: Settings, s3: Any, key_arn: str, partition: str, role: Role = "primary") -> list[str]:
    """The home of `role` (the primary's, or its replica in the secondary region), hardened alike."""
    bucket, region = settings.state_bucket_of(role), settings.regions.of(role)
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


LOCK_TABLE_STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}  # what a global table replicates


def ensure_lock_table(settings: Settings, dynamodb: Any, key_arn: str) -> list[str]:
    """The lock table in `dynamodb`'s region: its key, PITR and the stream a global table (or, locally, the table
    replication) replicates from."""
    table = settings.state.lock_table
    sse = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn}
    region = dynamodb.meta.region_name
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
            StreamSpecification=LOCK_TABLE_STREAM,
        )
        dynamodb.get_waiter("table_exists").wait(TableName=table)
        changes.append(f"created lock table {table} in {region}")
        description = {
            "SSEDescription": {"SSEType": "KMS", "KMSMasterKeyArn": key_arn},
            "StreamSpecification": LOCK_TABLE_STREAM,
        }
    current_sse = description.get("SSEDescription", {})
    if current_sse.get("SSEType") != "KMS" or current_sse.get("KMSMasterKeyArn") != key_arn:
        dynamodb.update_table(TableName=table, SSESpecification=sse)
        changes.append(f"encrypted lock table {table} in {region} with the bootstrap key")
    if description.get("StreamSpecification") != LOCK_TABLE_STREAM:
        dynamodb.update_table(TableName=table, StreamSpecification=LOCK_TABLE_STREAM)
        changes.append(f"enabled the NEW_AND_OLD_IMAGES stream of lock table {table} in {region}")
    changes += ensure_point_in_time_recovery(dynamodb, table)
    return changes


def _state(settings: Settings, caller: Caller) -> list[str]:
    """Both homes: each region's key and bucket, the lock table in both regions, and what keeps them in step."""
    keys: dict[Role, str] = {}
    changes: list[str] = []
    for role in ROLES:
        region = settings.regions.of(role)
        keys[role], key_changes = ensure_key(settings, client(settings, "kms", region), caller, region)
        changes += key_changes
        changes += ensure_state_bucket(settings, client(settings, "s3", region), keys[role], caller.partition, role)
    primary = client(settings, "dynamodb", settings.regions.primary)
    secondary = client(settings, "dynamodb", settings.regions.secondary)
    changes += ensure_lock_table(settings, primary, keys["primary"])
    # Gap dynamodb-replica (also on an emulator endpoint with aws-shaped settings): a same-name table with a stream,
    # which the local table replication keeps in step.
    if supports_dynamodb_replicas(settings) and not is_emulator(primary):
        changes += state_replication.ensure_lock_table_replica(settings, primary, secondary, keys["secondary"])
    else:
        changes += ensure_lock_table(settings, secondary, keys["secondary"])
    if not replicates_state_buckets_itself(settings):
        changes += state_replication.ensure_bucket_replication(
            settings, lambda service, region: client(settings, service, region), caller, keys
        )
    return changes


def bootstrap_state(settings: Settings) -> list[str]:
    """Only the state bucket, lock table and their key: what every local command makes sure of before it runs."""
    changes = _state(settings, caller_identity(settings))
    state = (
        f"state buckets {settings.state_bucket_of('primary')} and {settings.state_bucket_of('secondary')} and lock "
        f"table {settings.state.lock_table} in both regions"
    )
    return changes or [f"no change: {state} already in place"]


def bootstrap(settings: Settings) -> Report:
    """Converge everything; `Report.changes` is empty when the account already was as bootstrap leaves it."""
    caller = caller_identity(settings)
    report = Report(changes=_state(settings, caller))
    iam = client(settings, "iam", settings.state_region)
    role_arn, role_changes = account_settings.ensure_api_gateway_role(settings, iam, caller)
    report.changes += role_changes
    key_arns: list[str] = []
    for region in (settings.regions.primary, settings.regions.secondary):
        key_arn, key_changes = ensure_key(settings, client(settings, "kms", region), caller, region)
        key_arns.append(key_arn)
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
    report.extend(deploy_roles.ensure_deploy_roles(settings, iam, caller, key_arns))
    return report


def bootstrap_lines(settings: Settings) -> list[str]:
    """`make bootstrap` and `make local-up`: everything, one line per change, or one line saying nothing changed."""
    report = bootstrap(settings)
    if report.changes:
        return [*report.changes, *report.notes]
    return [
        *report.notes,
        f"no change: state buckets {settings.state_bucket_of('primary')} and "
        f"{settings.state_bucket_of('secondary')}, lock table {settings.state.lock_table} and the account settings "
        f"of both regions{' and the GitHub pipeline roles' if settings.pipeline.github_repository else ''} already "
        "in place",
    ]
