"""The errors a new user meets first, as one line each naming the profile, account or bucket and the fix.

Missing or expired credentials, an endpoint that cannot be reached, credentials of another account and a missing
state bucket: the one place that recognizes them, in botocore's exceptions (every client of `ops.core.aws_clients`
raises `AwsAccessError` instead) and in Terraform's output (`ops.terraform.runner`).
"""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import (
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)

from config.settings import Settings
from ops.core.errors import OpsError

NOTHING_CHANGED = "nothing was changed"  # added by the check that runs before a command changes anything

# Error codes of a request AWS refused because of the credentials themselves (expired, revoked, unknown, mistyped).
REJECTED_CREDENTIALS = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidAccessKeyId",  # S3's name for an unknown key
        "SignatureDoesNotMatch",
    }
)
_MISSING_CREDENTIALS = (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError)
_EXPIRED_LOGIN = (SSOError, TokenRetrievalError)  # an SSO session that ended or was never started
_UNREACHABLE = (EndpointConnectionError, ConnectTimeoutError)

# What Terraform (the AWS provider and the S3 backend, both aws-sdk-go-v2) prints for the same situations.
_TERRAFORM_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"No valid credential sources found|failed to refresh cached credentials|no EC2 IMDS role"), "none"),
    (re.compile(r"|".join(sorted(REJECTED_CREDENTIALS)) + r"|token has expired|SSO session .*expired"), "rejected"),
    (
        re.compile(
            r"dial tcp(?::\s*lookup)?\s*(\S+?):?\s[^\n]*(?:connection refused|i/o timeout|no such host|no route)"
        ),
        "unreachable",
    ),
)


class AwsAccessError(OpsError):
    """AWS cannot be used as configured; the one line says which profile, account or bucket, and what to do."""


def _whose(settings: Settings) -> str:
    return f"profile {settings.aws.profile!r}" if settings.aws.profile else "the default credential chain"


def _account(settings: Settings) -> str:
    return f"account {settings.aws.account_id}" if settings.aws.account_id else "the account (aws.account_id unset)"


def _login(settings: Settings) -> str:
    if settings.aws.profile:
        return f"log in with `aws sso login --profile {settings.aws.profile}`"
    return "log in with `aws sso login --profile <name>` and set PAYMENTS_AWS_PROFILE=<name>, or export AWS credentials"


def no_credentials(settings: Settings) -> str:
    return f"no AWS credentials found for {_whose(settings)} ({_account(settings)}): {_login(settings)}"


def profile_not_found(settings: Settings) -> str:
    return (
        f"AWS profile {settings.aws.profile!r} (aws.profile) is not in your AWS config: create it with "
        f"`aws configure sso --profile {settings.aws.profile}` or fix PAYMENTS_AWS_PROFILE"
    )


def credentials_rejected(settings: Settings, why: str) -> str:
    return (
        f"AWS rejected the credentials of {_whose(settings)} ({_account(settings)}) as expired or invalid ({why}): "
        f"{_login(settings)} again"
    )


def unreachable(settings: Settings, endpoint: str) -> str:
    if settings.is_local:
        return f"the emulator at {endpoint} is not reachable: start it with `make local-up`"
    return f"cannot reach AWS at {endpoint}: check the network connection, proxy and any AWS_ENDPOINT_URL override"


def wrong_account(settings: Settings, actual: str) -> str:
    return (
        f"the credentials of {_whose(settings)} belong to account {actual}, not aws.account_id "
        f"{settings.aws.account_id}: {_login(settings)} to account {settings.aws.account_id}, or fix "
        f"PAYMENTS_AWS_ACCOUNT_ID if that account is the right one"
    )


def missing_state_bucket(settings: Settings) -> str:
    return (
        f"the state bucket {settings.state_bucket} does not exist in {_account(settings)} ({settings.state_region}): "
        f"create it with `make bootstrap`, then re-run"
    )


def unreadable_state_bucket(settings: Settings, account: str) -> str:
    return (
        f"the state bucket {settings.state_bucket} is not readable by {_whose(settings)} in account {account} (403): "
        f"it belongs to another account (choose another state.bucket) or the credentials lack s3:ListBucket on it"
    )


def explain(error: BaseException, settings: Settings) -> str | None:
    """The one line for a botocore exception that is one of these situations; None for any other error."""
    if isinstance(error, ProfileNotFound):
        return profile_not_found(settings)
    if isinstance(error, _MISSING_CREDENTIALS):
        return no_credentials(settings)
    if isinstance(error, _EXPIRED_LOGIN):
        return credentials_rejected(settings, type(error).__name__)
    if isinstance(error, _UNREACHABLE):
        return unreachable(settings, str(error.kwargs.get("endpoint_url", "?")))
    return None


def explain_response(code: str, settings: Settings) -> str | None:
    """The one line for an error response AWS sent because of the credentials; None for any other error code."""
    return credentials_rejected(settings, code) if code in REJECTED_CREDENTIALS else None


def explain_terraform(output: str, settings: Settings) -> str | None:
    """The one line for Terraform output that failed on credentials, the endpoint or the state bucket."""
    if f'S3 bucket "{settings.state_bucket}" does not exist' in output:  # the S3 backend's words (init)
        return missing_state_bucket(settings)
    for pattern, kind in _TERRAFORM_PATTERNS:
        found = pattern.search(output)
        if found is None:
            continue
        if kind == "none":
            return no_credentials(settings)
        if kind == "rejected":
            return credentials_rejected(settings, found.group(0))
        return unreachable(settings, found.group(1))
    return None


def translate_errors(client: Any, settings: Settings) -> Any:
    """Make `client` raise AwsAccessError, with its one line, wherever it fails for one of these reasons."""

    def on_exception(exception: BaseException, **_: Any) -> None:
        line = explain(exception, settings)
        if line is not None:
            raise AwsAccessError(line) from exception

    def on_response(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        if http_response.status_code >= 300:  # HTTP: 3xx and above are not a success
            line = explain_response(str(parsed.get("Error", {}).get("Code", "")), settings)
            if line is not None:
                raise AwsAccessError(line)

    client.meta.events.register("after-call-error", on_exception)
    client.meta.events.register("after-call", on_response)
    return client
