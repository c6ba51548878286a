"""Remote state: one S3 key per stack and environment, locked through DynamoDB.

For the local target the emulator's endpoints and flags are S3Backend class
fields, never overrides: cdktf copies only the class fields into the
dependants' `terraform_remote_state`, so an override would send remote-state
reads to real AWS.
"""

from __future__ import annotations

from cdktf import S3Backend, S3BackendEndpointConfig, TerraformStack

from config.settings import Settings
from shared.local_target import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from shared.naming import state_key


def state_backend(stack: TerraformStack, settings: Settings, stack_name: str) -> S3Backend:
    fields: dict[str, object] = {
        "bucket": settings.state.bucket,
        "key": state_key(settings, stack_name),
        "region": settings.state_region,
        "encrypt": True,
        "dynamodb_table": settings.state.lock_table,
    }
    if settings.is_local:
        endpoint = settings.local.endpoint
        fields |= {
            "endpoints": S3BackendEndpointConfig(s3=endpoint, dynamodb=endpoint, sts=endpoint, iam=endpoint),
            "use_path_style": True,
            "access_key": FAKE_ACCESS_KEY,
            "secret_key": FAKE_SECRET_KEY,
            "skip_credentials_validation": True,
            "skip_metadata_api_check": True,
            "skip_region_validation": True,
            "skip_requesting_account_id": True,
        }
    elif settings.aws.profile:
        fields["profile"] = settings.aws.profile
    return S3Backend(stack, **fields)  # type: ignore[arg-type]
