"""The last hop: the request reaches the function (or the server) behind the route.

local target: the deployed function's handler runs in this process with its deployed environment (gap
`lambda-invoke`, `ops.ledger.local_lambda`), given the proxy event API Gateway would send; behind a load balancer,
a plain HTTP request to the region's payment server stand-in (gap `ec2-user-data`, `over_http`).
aws target: a real HTTPS request to the regional domain or load balancer the records resolved to, with SNI and Host
set to the name the client called, so the certificate is verified against that name (what a resolver-following
client does).
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import socket
import ssl
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl

from config.settings import Settings
from ops.client.api_events import api_event
from ops.client.aws import client
from ops.client.gateway import Target
from ops.core.paths import LOCAL_DIR
from ops.ledger import local_lambda

HTTPS_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Outgoing:
    """A request as it leaves the client: `path` is the URL's path (`/v1/payments`), headers include Host."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: str | None = None
    query: str = ""  # the URL's query string, undecoded

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def function_log(settings: Settings) -> Path:
    """Where the in-process functions' log lines go (CloudWatch Logs' stand-in): one file per local emulator."""
    return LOCAL_DIR / f"function-logs-{settings.local.port}.log"


class _PerThreadStdout(io.TextIOBase):
    """`sys.stdout` of a process whose threads may run functions in-process: a thread running one writes to the
    function log, every other thread to the real stdout. (`redirect_stdout` swaps stdout for the whole process: a
    client paying on one thread would send the other threads' output into the log, and then into a closed file.)"""

    def __init__(self, real: TextIO) -> None:
        self.real = real
        self.local = threading.local()

    def _target(self) -> TextIO:
        target: TextIO | None = getattr(self.local, "target", None)
        return target or self.real

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def fileno(self) -> int:
        return self._target().fileno()

    def isatty(self) -> bool:
        return self._target().isatty()


_install_lock = threading.Lock()


def _per_thread_stdout() -> _PerThreadStdout:
    with _install_lock:
        if not isinstance(sys.stdout, _PerThreadStdout):
            sys.stdout = _PerThreadStdout(sys.stdout)
        return sys.stdout


@contextmanager
def _function_logs(settings: Settings) -> Iterator[None]:
    """The functions log JSON lines to stdout, as on Lambda; a client's own output is not the place for them."""
    path = function_log(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    stdout = _per_thread_stdout()
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a") as log:
        stdout.local.target = log
        try:
            yield
        finally:
            stdout.local.target = None


def in_process(settings: Settings, target: Target, request: Outgoing) -> Answer:
    """Run the integration's function as API Gateway's proxy integration would invoke it."""
    configuration = client(settings, "lambda", target.region).get_function_configuration(
        FunctionName=target.function_name
    )
    event = api_event(
        request.method,
        request.path,
        body=request.body,
        headers=request.headers,
        resource=target.resource,
        path_parameters=target.path_parameters or None,
        stage=target.stage,
        domain_name=target.domain_name,
        api_key_id=target.api_key_id,
        query=dict(parse_qsl(request.query)),
    )
    with _function_logs(settings):
        response = local_lambda.run(
            settings, target.function_name, target.region, configuration["Handler"], event, configuration=configuration
        )
    text = response.get("body") or ""
    if response.get("isBase64Encoded"):
        text = base64.b64decode(text).decode()
    return Answer(
        int(response["statusCode"]), {str(k): str(v) for k, v in (response.get("headers") or {}).items()}, text
    )


def over_http(address: str, port: int, request: Outgoing) -> Answer:
    """`request` sent as it is (its Host header kept) over plain HTTP to `address:port`."""
    return _exchange(http.client.HTTPConnection(address, port, timeout=HTTPS_TIMEOUT_SECONDS), request)


def _exchange(connection: http.client.HTTPConnection, request: Outgoing) -> Answer:
    """One request and its answer on `connection`, which is closed after."""
    body = request.body.encode() if request.body is not None else None
    try:
        connection.request(request.method, request.target, body=body, headers=dict(request.headers))
        response = connection.getresponse()
        return Answer(response.status, dict(response.getheaders()), response.read().decode())
    finally:
        connection.close()


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to `address` (the resolved regional domain) but speaks TLS for `host` (SNI, certificate check)."""

    def __init__(self, host: str, address: str, port: int = 443, context: ssl.SSLContext | None = None) -> None:
        super().__init__(host, port, timeout=HTTPS_TIMEOUT_SECONDS)
        self.address = address
        self.tls = context or ssl.create_default_context()

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), HTTPS_TIMEOUT_SECONDS)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


def over_https(
    host: str, regional_domain_name: str, request: Outgoing, *, port: int = 443, context: ssl.SSLContext | None = None
) -> Answer:
    """`request` sent to `regional_domain_name`, TLS verified for `host` (`context`: the trust store; default the
    system's)."""
    return _exchange(_PinnedHTTPSConnection(host, regional_domain_name, port, context), request)
