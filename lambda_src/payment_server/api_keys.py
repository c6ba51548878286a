"""The API key check API Gateway did: `x-api-key` must be one of the values in the API key secret.

The secret (`{"keys": {id: value}, "current": id}`, written by `make rotate-api-key`) is re-read at most every
`MAX_AGE_SECONDS`, so a rotation reaches the server within a minute. Values are compared in constant time and
never logged.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Callable

from botocore.config import Config

from ..common.per_container import Clients
from ..payment_processor.logging_setup import get_logger

MAX_AGE_SECONDS = 60.0
_clients = Clients(Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}))


def values_of(secret_string: str) -> tuple[str, ...]:
    """The key values in the secret's text."""
    keys = json.loads(secret_string).get("keys")
    if not isinstance(keys, dict) or not keys:
        raise ValueError('the API key secret holds no keys (expected {"keys": {id: value}, "current": id})')
    return tuple(value for value in keys.values() if isinstance(value, str) and value)


class ApiKeys:
    """`accepts(key)`; the values are read on first use and again once they are `max_age` seconds old."""

    def __init__(
        self,
        read: Callable[[], str],
        *,
        max_age: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._values: tuple[str, ...] | None = None
        self._read_at = 0.0

    @classmethod
    def from_secret(cls, secret_name: str, region: str) -> ApiKeys:
        def read() -> str:
            secret: str = _clients.get("secretsmanager", region).get_secret_value(SecretId=secret_name)["SecretString"]
            return secret

        return cls(read)

    def accepts(self, key: str) -> bool:
        sent = key.encode()
        matched = False
        for value in self._current():
            matched |= hmac.compare_digest(sent, value.encode())  # every value compared: no early exit
        return matched

    def _current(self) -> tuple[str, ...]:
        with self._lock:
            now = self._clock()
            if self._values is None or now - self._read_at >= self._max_age:
                try:
                    self._values = values_of(self._read())
                except Exception:
                    if self._values is None:
                        raise
                    get_logger().exception("API key secret unreadable: the values read before still apply")
                self._read_at = now
            return self._values
