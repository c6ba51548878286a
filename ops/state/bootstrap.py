"""The remote-state home: a versioned, encrypted, private S3 bucket and a DynamoDB lock table. Idempotent."""

from __future__ import annotations

from botocore.exceptions import ClientError

from config.settings import Settings
from ops.core.aws_clients import client


def bootstrap_state(settings: Settings) -> list[str]:
    region = settings.state_region
    s3 = client(settings, "s3", region)
    dynamodb = client(settings, "dynamodb", region)
    done: list[str] = []
    bucket = settings.state.bucket
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket, **kwargs)
        done.append(f"created state bucket {bucket}")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}]
        },
    )
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    table = settings.state.lock_table
    try:
        dynamodb.describe_table(TableName=table)
    except dynamodb.exceptions.ResourceNotFoundException:
        dynamodb.create_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True},
        )
        dynamodb.get_waiter("table_exists").wait(TableName=table)
        done.append(f"created lock table {table}")
    try:
        dynamodb.update_continuous_backups(
            TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    except ClientError as error:  # already enabled, or not supported by the target
        if error.response["Error"]["Code"] not in {"ContinuousBackupsUnavailableException"}:
            raise
    return done or [f"state bucket {bucket} and lock table {table} already in place"]
