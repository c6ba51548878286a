"""boto3 clients, created lazily once per container and shared by all invocations (clients are thread-safe).

Endpoints come from botocore's own configuration chain, so ``AWS_ENDPOINT_URL`` (and the per-service
``AWS_ENDPOINT_URL_<SERVICE>``) redirect every call, e.g. to a local emulator.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from .config import get_settings

_CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
)

_lock = threading.Lock()
_session: boto3.session.Session | None = None
_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    region = get_settings().region
    global _session
    with _lock:
        cached = _clients.get(service)
        if cached is None:
            if _session is None:
                _session = boto3.session.Session()
            cached = _session.client(service, region_name=region, config=_CLIENT_CONFIG)
            _clients[service] = cached
        return cached


def dynamodb() -> Any:
    return client("dynamodb")


def s3() -> Any:
    return client("s3")


def events() -> Any:
    return client("events")


def sqs() -> Any:
    return client("sqs")


def reset() -> None:
    global _session
    with _lock:
        _clients.clear()
        _session = None
