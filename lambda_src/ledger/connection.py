"""One connection per container to the ledger's writer: found among candidates, authenticated with an IAM
token, over TLS on aws; dropped and found again after a connection error.

Writer discovery is libpq's ``target_session_attrs=read-write``: the first candidate that answers and is
not in recovery (``pg_is_in_recovery()``). That also skips a demoted writer that DNS still names right
after a switchover. Nothing secret is logged: not the token, not a password.
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pg8000.native
from botocore.config import Config

from ..common.per_container import Clients, Once
from .config import CA_BUNDLE, TLS_VERIFY_FULL, ConfigError, LedgerSettings, load_settings

T = TypeVar("T")
Connect = Callable[[str, int], pg8000.native.Connection]

CONNECT_TIMEOUT_SECONDS = 5  # pg8000 applies it to every socket operation of the connection, too
APPLICATION_NAME = "payments-ledger"
# SQLSTATEs after which the connection is no use: class 08 (connection exceptions), the server going away
# (57P01-57P03), and read-only transactions (the writer was demoted by a switchover).
_LOST_CONNECTION_STATES = re.compile(r"08...|57P0[123]|25006")
_RDS_REGION = re.compile(r"\.([a-z]{2}(?:-[a-z]+)+-\d)\.rds\.amazonaws\.com\.?$")

_clients = Clients(Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}))


def client(service: str, region: str) -> Any:
    """The container's boto3 client for ``service`` in ``region``."""
    return _clients.get(service, region)


class WriterNotFound(ConnectionError):
    """No candidate answered as a writer; the message says what each one did."""


def is_connection_lost(error: BaseException) -> bool:
    """The connection that raised ``error`` must be dropped (the next use connects afresh)."""
    if isinstance(error, (pg8000.native.InterfaceError, OSError)):
        return True
    if isinstance(error, pg8000.native.DatabaseError) and error.args and isinstance(error.args[0], dict):
        return bool(_LOST_CONNECTION_STATES.fullmatch(str(error.args[0].get("C", ""))))
    return False


def signing_region(host: str, default: str) -> str:
    """The region an IAM token for ``host`` is signed for: the one in the RDS endpoint's name (or in the name
    it is an alias of, e.g. the global writer endpoint's current cluster), else ``default``."""
    match = _RDS_REGION.search(host)
    if match is None:
        try:
            match = _RDS_REGION.search(socket.gethostbyname_ex(host)[0])
        except OSError:
            match = None
    return match[1] if match else default


def auth_token(settings: LedgerSettings, host: str, port: int) -> str:
    """A fresh IAM database auth token (a local presign, no network call; valid 15 minutes)."""
    region = signing_region(host, settings.region)
    token: str = client("rds", region).generate_db_auth_token(
        DBHostname=host, Port=port, DBUsername=settings.user, Region=region
    )
    return token


def ssl_context(settings: LedgerSettings) -> ssl.SSLContext | None:
    """verify-full: RDS's CA bundle from the archive, hostname checked; disable (local target): none."""
    if settings.tls != TLS_VERIFY_FULL:
        return None
    if not CA_BUNDLE.is_file():
        raise ConfigError(
            f"LEDGER_TLS={TLS_VERIFY_FULL} needs the RDS CA bundle at {CA_BUNDLE.name} in the archive: set "
            "data.rds_ca_bundle and deploy again"
        )
    context = ssl.create_default_context(cafile=str(CA_BUNDLE))
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def connector(settings: LedgerSettings, credentials: tuple[str, str] | None = None) -> Connect:
    """Opens a connection to one candidate: as the application role with an IAM token, or as
    ``credentials`` (user, password) when given (the master user, for ledger-admin)."""

    def connect(host: str, port: int) -> pg8000.native.Connection:
        user, password = credentials or (settings.user, auth_token(settings, host, port))
        return pg8000.native.Connection(
            user=user,
            password=password,
            host=host,
            port=port,
            database=settings.database,
            ssl_context=ssl_context(settings),
            timeout=CONNECT_TIMEOUT_SECONDS,
            application_name=APPLICATION_NAME,
        )

    return connect


def _close_quietly(conn: pg8000.native.Connection) -> None:
    with contextlib.suppress(Exception):  # a connection we are discarding anyway
        conn.close()


def find_writer(candidates: Sequence[tuple[str, int]], connect: Connect) -> tuple[pg8000.native.Connection, str, int]:
    """The first candidate that accepts a connection and is not in recovery: (connection, host, port)."""
    tried: list[str] = []
    for host, port in candidates:
        try:
            conn = connect(host, port)
        except (pg8000.native.Error, OSError) as error:
            tried.append(f"{host}:{port} did not connect ({type(error).__name__})")
            continue
        try:
            in_recovery = bool(conn.run("SELECT pg_is_in_recovery()")[0][0])
        except (pg8000.native.Error, OSError) as error:
            _close_quietly(conn)
            tried.append(f"{host}:{port} failed the recovery check ({type(error).__name__})")
            continue
        if not in_recovery:
            return conn, host, port
        _close_quietly(conn)
        tried.append(f"{host}:{port} is in recovery (a standby)")
    raise WriterNotFound("no ledger writer among the candidates: " + "; ".join(tried or ["none given"]))


class WriterSession:
    """The container's one writer connection: opened on first use, reused, dropped after a connection error.

    ``run(work)`` calls ``work(conn)`` holding the session's lock (a connection serves one caller at a time).
    If the connection turns out lost, it is dropped and ``work`` runs once more on a freshly discovered
    writer, so ``work`` must be safe to repeat (``ledger.record`` is idempotent).
    """

    def __init__(self, settings: Callable[[], LedgerSettings]) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._conn: pg8000.native.Connection | None = None

    def _open(self) -> pg8000.native.Connection:
        settings = self._settings()
        conn, _, _ = find_writer(settings.writer_hosts, connector(settings))
        return conn

    def run(self, work: Callable[[pg8000.native.Connection], T]) -> T:
        with self._lock:
            for attempt in (1, 2):
                if self._conn is None:
                    self._conn = self._open()
                try:
                    return work(self._conn)
                except Exception as error:
                    if not is_connection_lost(error):
                        raise
                    self._drop()
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")  # pragma: no cover

    def _drop(self) -> None:
        if self._conn is not None:
            _close_quietly(self._conn)
            self._conn = None

    def reset(self) -> None:
        with self._lock:
            self._drop()


_settings = Once(load_settings)
_session = WriterSession(_settings.get)


def run_on_writer(work: Callable[[pg8000.native.Connection], T]) -> T:
    """``work(conn)`` on the container's writer connection (see ``WriterSession.run``)."""
    return _session.run(work)


def reset() -> None:
    """Close the container's connection and forget settings and clients (tests, or a changed environment)."""
    _session.reset()
    _settings.reset()
    _clients.reset()
