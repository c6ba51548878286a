"""boto3 clients for the configured target (the emulator's endpoint and fake credentials when local)."""

from __future__ import annotations

from typing import Any

import boto3

from config.settings import Settings
from shared.local_target import FAKE_ACCESS_KEY, FAKE_SECRET_KEY


def client(settings: Settings, service: str, region: str) -> Any:
    if settings.is_local:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=settings.local.endpoint,
            aws_access_key_id=FAKE_ACCESS_KEY,
            aws_secret_access_key=FAKE_SECRET_KEY,
        )
    session = boto3.Session(profile_name=settings.aws.profile or None)
    return session.client(service, region_name=region)
