"""Before an aws-target command touches anything: the credentials work, belong to `aws.account_id`, and the state
bucket exists. Each failure is one `AwsAccessError` line naming the profile, account or bucket and the fix."""

from __future__ import annotations

from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from config.settings import Settings
from ops.core.aws_clients import client
from ops.core.aws_errors import (
    NOTHING_CHANGED,
    AwsAccessError,
    missing_state_bucket,
    unreadable_state_bucket,
    wrong_account,
)

# A check answers within seconds or says why not: an unreachable endpoint must not hold a command for minutes.
CHECK_CONFIG = Config(connect_timeout=10, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"})
BUCKET_MISSING = frozenset({"404", "NoSuchBucket"})
BUCKET_FORBIDDEN = frozenset({"403", "AccessDenied"})


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def head_bucket(s3: Any, bucket: str, **kwargs: Any) -> ClientError | None:
    """HeadBucket, asked in one place: None when the bucket is there and readable, else AWS's refusal (its
    `error_code` in BUCKET_MISSING, BUCKET_FORBIDDEN or anything else) for the caller to judge."""
    try:
        s3.head_bucket(Bucket=bucket, **kwargs)
    except ClientError as error:
        return error
    return None


def caller_account(settings: Settings) -> str:
    """The account the credentials belong to (STS GetCallerIdentity needs no permission)."""
    return str(client(settings, "sts", settings.state_region, CHECK_CONFIG).get_caller_identity()["Account"])


def verify_access(settings: Settings, *, state_bucket: bool = True) -> None:
    """Credentials present and accepted, of the configured account, and (unless told otherwise) the state bucket
    there. Nothing to check on the local target: `make local-up` starts and bootstraps the emulator.
    It runs before a command changes anything, so its line also says that nothing was changed."""
    if settings.is_local:
        return
    try:
        _verify(settings, state_bucket=state_bucket)
    except AwsAccessError as error:
        raise AwsAccessError(f"{error}; {NOTHING_CHANGED}") from error


def _verify(settings: Settings, *, state_bucket: bool) -> None:
    account = caller_account(settings)
    if settings.aws.account_id and account != settings.aws.account_id:
        raise AwsAccessError(wrong_account(settings, account))
    if not state_bucket:
        return
    s3 = client(settings, "s3", settings.state_region, CHECK_CONFIG)
    error = head_bucket(s3, settings.state_bucket, ExpectedBucketOwner=account)
    if error is None:
        return
    if error_code(error) in BUCKET_MISSING:
        raise AwsAccessError(missing_state_bucket(settings)) from error
    if error_code(error) in BUCKET_FORBIDDEN:
        raise AwsAccessError(unreadable_state_bucket(settings, account)) from error
    raise error
