"""boto3 clients for the health check: created once per container, short timeouts, a single retry.

A health check must answer well within the Lambda and Route 53 timeouts; a slow dependency is a failing one.
``AWS_ENDPOINT_URL`` is honoured through botocore's configuration chain.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

_CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=2, retries={"mode": "standard", "max_attempts": 2})

_lock = threading.Lock()
_session: boto3.session.Session | None = None
_clients: dict[tuple[str, str], Any] = {}


def client(service: str, region: str) -> Any:
    global _session
    with _lock:
        cached = _clients.get((service, region))
        if cached is None:
            if _session is None:
                _session = boto3.session.Session()
            cached = _session.client(service, region_name=region, config=_CLIENT_CONFIG)
            _clients[(service, region)] = cached
        return cached


def reset() -> None:
    global _session
    with _lock:
        _clients.clear()
        _session = None
