"""The write home check of POST /payments: exactly one region accepts payment writes (docs/write-home.md).

Environment contract (set by the compute stack; all four or none):
    WRITE_HOME_PARAMETER      SSM parameter holding this region's view of the write home
    REGION_ROLE               this region's role ("primary" or "secondary")
    WRITE_HOME_ORIGINS        JSON {"<role>": "https://origin-<role>.api.<zone>/v1", ...}
    WRITE_HOME_CACHE_SECONDS  how long a container trusts the value it read
Without WRITE_HOME_PARAMETER the function behaves as a single region: every write is accepted here.

The parameter's value decides:
    this region's role          accept the write
    another role in ORIGINS     307 to that role's origin (no side effect here)
    anything else ("fenced")    503 write_home_switching, Retry-After: 1
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import clients
from .config import ConfigError
from .logging_setup import get_logger

RETRY_AFTER_SECONDS = 1
_VARIABLES = ("WRITE_HOME_PARAMETER", "REGION_ROLE", "WRITE_HOME_ORIGINS", "WRITE_HOME_CACHE_SECONDS")


@dataclass(frozen=True)
class WriteHome:
    parameter: str
    role: str
    origins: Mapping[str, str]
    cache_seconds: float


@dataclass(frozen=True)
class Decision:
    """``accept``, else ``location`` (redirect there) or neither (fenced: retry later)."""

    accept: bool
    location: str | None = None
    home: str | None = None


def load(environ: Mapping[str, str] | None = None) -> WriteHome | None:
    """The write home settings, or None when the function runs as a single region; ConfigError if incomplete."""
    env = os.environ if environ is None else environ
    if not env.get("WRITE_HOME_PARAMETER", "").strip():
        return None
    missing = [name for name in _VARIABLES if not env.get(name, "").strip()]
    if missing:
        raise ConfigError(f"{', '.join(missing)} not set (WRITE_HOME_PARAMETER is)")
    try:
        origins = json.loads(env["WRITE_HOME_ORIGINS"])
        cache_seconds = float(env["WRITE_HOME_CACHE_SECONDS"])
    except ValueError as error:
        raise ConfigError(f"WRITE_HOME_ORIGINS or WRITE_HOME_CACHE_SECONDS is malformed: {error}") from None
    if not isinstance(origins, dict) or not all(isinstance(v, str) for v in origins.values()) or cache_seconds < 0:
        raise ConfigError("WRITE_HOME_ORIGINS must be a JSON object of role -> URL, WRITE_HOME_CACHE_SECONDS >= 0")
    return WriteHome(env["WRITE_HOME_PARAMETER"].strip(), env["REGION_ROLE"].strip(), origins, cache_seconds)


class _Cached:
    """The parameter's value, trusted for ``cache_seconds`` per container; a failed read is not cached."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: str | None = None
        self._read_at = 0.0

    def value(self, home: WriteHome) -> str:
        with self._lock:
            now = time.monotonic()
            if self._value is None or now - self._read_at >= home.cache_seconds:
                answer: dict[str, Any] = clients.client("ssm").get_parameter(Name=home.parameter)
                self._value = str(answer["Parameter"]["Value"])
                self._read_at = now
            return self._value

    def reset(self) -> None:
        with self._lock:
            self._value = None


_cache = _Cached()


def decide(home: WriteHome) -> Decision:
    """Whether this region takes the write now. An unreadable parameter is treated as fenced: never guess."""
    try:
        value = _cache.value(home)
    except (ClientError, BotoCoreError):
        get_logger().exception("write home parameter unreadable; refusing the write", extra={"status": 503})
        return Decision(accept=False)
    if value == home.role:
        return Decision(accept=True, home=value)
    origin = home.origins.get(value)
    if origin is not None:
        return Decision(accept=False, location=f"{origin.rstrip('/')}/payments", home=value)
    return Decision(accept=False)


def reset() -> None:
    _cache.reset()
