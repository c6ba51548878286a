"""What a Lambda container builds once and every invocation (thread) shares: settings, boto3 clients.

A failed build is not cached, so the next invocation tries again; ``reset`` forgets everything (tests,
or a changed environment).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

import boto3
from botocore.config import Config

T = TypeVar("T")


class Once(Generic[T]):
    """``build()`` on first use, then the same value until ``reset()``."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._value: T | None = None

    def get(self) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._build()
            return self._value

    def reset(self) -> None:
        with self._lock:
            self._value = None


class ClientPool(Protocol):
    """Hands out a client for (service, region, config), made by ``make`` when it has none to hand."""

    def get(self, service: str, region: str, config: Config, make: Callable[[], Any]) -> Any: ...


CLIENT_POOL: ClientPool | None = None
"""None on Lambda: a container makes its own clients. A host that runs handlers in-process and resets them before
every call (the local target's runner, ``ops/ledger/local_lambda.py``) sets a pool of clients made under the same
environment, so that a reset costs what a warm container's would."""


class Clients:
    """boto3 clients by (service, region), from one session; clients are thread-safe once made.

    Endpoints come from botocore's own configuration chain, so ``AWS_ENDPOINT_URL`` (and the per-service
    ``AWS_ENDPOINT_URL_<SERVICE>``) redirect every call, e.g. to a local emulator.
    """

    def __init__(self, config: Config) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._session: boto3.session.Session | None = None
        self._clients: dict[tuple[str, str], Any] = {}

    def get(self, service: str, region: str) -> Any:
        with self._lock:
            cached = self._clients.get((service, region))
            if cached is None:
                pool = CLIENT_POOL
                cached = (
                    self._make(service, region)
                    if pool is None
                    else pool.get(service, region, self._config, lambda: self._make(service, region))
                )
                self._clients[(service, region)] = cached
            return cached

    def _make(self, service: str, region: str) -> Any:
        if self._session is None:
            self._session = boto3.session.Session()
        # boto3's stubs type `client` per literal service name; here the name is data.
        make_client: Callable[..., Any] = self._session.client
        return make_client(service, region_name=region, config=self._config)

    def reset(self) -> None:
        with self._lock:
            self._clients.clear()
            self._session = None
