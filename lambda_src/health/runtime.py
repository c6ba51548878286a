"""The health check's per-container pieces: its logger and its boto3 clients.

A health check must answer well within the Lambda and Route 53 timeouts, so its clients have short
timeouts and a single retry: a slow dependency is a failing one.
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.config import Config

from ..common import logging_setup
from ..common.per_container import Clients

LOGGER_NAME = "payments.health"
_clients = Clients(Config(connect_timeout=2, read_timeout=2, retries={"mode": "standard", "max_attempts": 2}))


def get_logger() -> logging.Logger:
    return logging_setup.get_logger(LOGGER_NAME)


def client(service: str, region: str) -> Any:
    return _clients.get(service, region)


def reset_clients() -> None:
    _clients.reset()
