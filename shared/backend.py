"""Remote state: one S3 key per stack and environment, locked through DynamoDB.

For the local target the emulator's endpoints and flags are S3Backend class
fields, never overrides: cdktf copies only the class fields into the
dependants' `terraform_remote_state`, so an override would send remote-state
reads to real AWS.
"""

from __future__ import annotations

from typing import TypedDict

from cdktf import S3Backend, S3BackendEndpointConfig, TerraformStack

from config.settings import Settings
from shared.local_target import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from shared.naming import state_key


class _StateLocation(TypedDict):
    """Where a stack's state and lock live, on every target."""

    bucket: str
    key: str
    region: str
    dynamodb_table: str
    kms_key_id: str


def state_backend(stack: TerraformStack, settings: Settings, stack_name: str) -> S3Backend:
    location = _StateLocation(
        bucket=settings.state_bucket,  # the copy in use (`State.home`): its region, its key
        key=state_key(settings, stack_name),
        region=settings.state_region,
        dynamodb_table=settings.state.lock_table,
        # Without it `encrypt` asks S3 for its own key (SSE-S3) on every write, overriding the bucket's default.
        kms_key_id=settings.bootstrap_key_alias,
    )
    if not settings.is_local:
        # No profile here: credentials come from the environment (ops exports AWS_PROFILE when configured),
        # so CI and every operator can init the same generated configuration.
        return S3Backend(stack, **location, encrypt=True)
    endpoint = settings.local.endpoint
    return S3Backend(
        stack,
        **location,
        encrypt=True,
        endpoints=S3BackendEndpointConfig(s3=endpoint, dynamodb=endpoint, sts=endpoint, iam=endpoint),
        use_path_style=True,
        access_key=FAKE_ACCESS_KEY,
        secret_key=FAKE_SECRET_KEY,
        skip_credentials_validation=True,
        skip_metadata_api_check=True,
        skip_region_validation=True,
        skip_requesting_account_id=True,
    )
