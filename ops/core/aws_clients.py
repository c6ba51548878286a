"""boto3 clients for the configured target (the emulator's endpoint and fake credentials when local).

Callers that use a client much type it with its boto3-stubs class (`ops.state.bucket`: `S3Client`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import boto3

from config.settings import Settings
from shared.local_target import FAKE_ACCESS_KEY, FAKE_SECRET_KEY


def client(settings: Settings, service: str, region: str) -> Any:
    # Any service by name: the stubs overload the client factories on literal service names only.
    if settings.is_local:
        make = cast("Callable[..., Any]", boto3.client)
        return make(
            service,
            region_name=region,
            endpoint_url=settings.local.endpoint,
            aws_access_key_id=FAKE_ACCESS_KEY,
            aws_secret_access_key=FAKE_SECRET_KEY,
        )
    session = boto3.Session(profile_name=settings.aws.profile or None)
    return cast("Callable[..., Any]", session.client)(service, region_name=region)
