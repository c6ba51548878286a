"""The client's AWS API clients, made once per endpoint, service and region: a client sends many requests, and
making a boto3 client costs tens of milliseconds."""

from __future__ import annotations

import threading
from typing import Any

from botocore.config import Config

from config.settings import Settings
from ops.core.aws_clients import client as make_client
from ops.local.fault_proxy import CLIENT_AGENT

_made: dict[tuple[str, str, str, str], Any] = {}
_lock = threading.Lock()


def client(settings: Settings, service: str, region: str) -> Any:
    where = settings.local.endpoint if settings.is_local else f"profile:{settings.aws.profile}"
    key = (where, settings.environment, service, region)
    with _lock:
        if key not in _made:
            _made[key] = make_client(settings, service, region, Config(user_agent_extra=CLIENT_AGENT))
        return _made[key]
