"""boto3 clients for the configured target (the emulator's endpoint and fake credentials when local).

Every client raises `AwsAccessError` (one line: profile, account and fix) for missing or rejected credentials and
an unreachable endpoint (`ops.core.aws_errors`). Callers that use a client much type it with its boto3-stubs class
(`ops.state.bucket`: `S3Client`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ProfileNotFound

from config.settings import Settings
from ops.core.aws_errors import AwsAccessError, profile_not_found, translate_errors
from shared.local_target import FAKE_ACCESS_KEY, FAKE_SECRET_KEY


def client(
    settings: Settings, service: str, region: str, config: Config | None = None, *, translate: bool = True
) -> Any:
    """`translate=False`: botocore's own exceptions, for a caller that judges them itself (`ops.state.home`)."""
    # Any service by name: the stubs overload the client factories on literal service names only.
    if settings.is_local:
        make = cast("Callable[..., Any]", boto3.client)
        made = make(
            service,
            region_name=region,
            endpoint_url=settings.local.endpoint,
            aws_access_key_id=FAKE_ACCESS_KEY,
            aws_secret_access_key=FAKE_SECRET_KEY,
            config=config,
        )
        return translate_errors(made, settings) if translate else made
    try:
        session = boto3.Session(profile_name=settings.aws.profile or None)
    except ProfileNotFound as error:
        raise AwsAccessError(profile_not_found(settings)) from error
    made = cast("Callable[..., Any]", session.client)(service, region_name=region, config=config)
    return translate_errors(made, settings) if translate else made
