"""boto3 clients of the payments API, in the region of its settings, made once per container."""

from __future__ import annotations

from typing import Any

from botocore.config import Config

from ..common.per_container import Clients
from .config import get_settings

_clients = Clients(Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}))


def client(service: str) -> Any:
    return _clients.get(service, get_settings().region)


def dynamodb() -> Any:
    return client("dynamodb")


def s3() -> Any:
    return client("s3")


def events() -> Any:
    return client("events")


def sqs() -> Any:
    return client("sqs")


def reset() -> None:
    _clients.reset()
