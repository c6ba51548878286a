"""AWS provider factory: the stack's own region, and a peer-region alias where a stack owns cross-region links."""

from __future__ import annotations

from typing import TypedDict

from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags, AwsProviderEndpoints
from constructs import Construct

from config.settings import Settings
from shared.local_target import FAKE_ACCESS_KEY, FAKE_SECRET_KEY, LOCAL_ENDPOINT_SERVICES
from shared.tags import default_tags

LOCAL_MAX_RETRIES = 3


class _Placement(TypedDict):
    """What every provider says, on every target: its region, its alias and the default tags."""

    region: str
    alias: str | None
    default_tags: list[AwsProviderDefaultTags]


def aws_provider(scope: Construct, settings: Settings, region: str, *, alias: str | None = None) -> AwsProvider:
    construct_id = f"aws-{alias}" if alias else "aws"
    placement = _Placement(
        region=region, alias=alias, default_tags=[AwsProviderDefaultTags(tags=default_tags(settings, region))]
    )
    if not settings.is_local:
        # Credentials come from the environment (ops exports AWS_PROFILE when configured), never a profile name.
        return AwsProvider(scope, construct_id, **placement, allowed_account_ids=[settings.aws.account_id])
    endpoint = settings.local.endpoint
    return AwsProvider(
        scope,
        construct_id,
        **placement,
        access_key=FAKE_ACCESS_KEY,
        secret_key=FAKE_SECRET_KEY,
        endpoints=[AwsProviderEndpoints(**dict.fromkeys(LOCAL_ENDPOINT_SERVICES, endpoint))],
        s3_use_path_style=True,
        skip_credentials_validation=True,
        skip_metadata_api_check="true",
        skip_region_validation=True,
        # False: the emulator answers STS and computed ARNs then carry its account id.
        skip_requesting_account_id=False,
        # Unimplemented emulator calls answer 500: a few retries fail them in seconds instead of the
        # default 25 (~10 min), while still riding out a dropped connection on a busy machine.
        max_retries=LOCAL_MAX_RETRIES,
    )
