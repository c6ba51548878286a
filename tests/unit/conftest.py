"""Unit fixtures: a fresh ledger database per test on the session's real PostgreSQL 15 (tests/conftest.py)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pg8000.native
import pytest

from lambda_src.ledger import migrate
from ops.local import postgres
from tests.conftest import AWS_ACCOUNT, AWS_PROD_ALARM_EMAIL, AWS_ZONE
from tests.support import Synth
from tests.unit.ec2_synth import synth_ec2

MASTER = "ledger_master"  # owns the database and may create roles, as Aurora's master user (not a superuser)
APP_ROLE = "ledger_app"  # what LEDGER_USER names


class LedgerDatabase:
    """One throwaway database; ``connect(user)`` opens connections that are closed after the test."""

    def __init__(self, server: postgres.Instance, name: str) -> None:
        self.server = server
        self.name = name
        self._opened: list[pg8000.native.Connection] = []

    def connect(self, user: str = MASTER, port: int | None = None) -> pg8000.native.Connection:
        conn = pg8000.native.Connection(
            user, host=self.server.host, port=port or self.server.port, database=self.name, timeout=30
        )
        self._opened.append(conn)
        return conn

    def close_all(self) -> None:
        for conn in self._opened:
            with contextlib.suppress(Exception):  # already closed by the test (or the server)
                conn.close()


@contextlib.contextmanager
def ledger_database_on(server: postgres.Instance) -> Iterator[LedgerDatabase]:
    """An empty database owned by MASTER (no migrations applied), dropped afterwards."""
    name = f"ledger_{uuid.uuid4().hex[:12]}"
    postgres.ensure_database(server, name, MASTER)
    database = LedgerDatabase(server, name)
    try:
        yield database
    finally:
        database.close_all()
        postgres.query(server, f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def ledger_database(postgres_server: postgres.Instance) -> Iterator[LedgerDatabase]:
    """An empty database owned by MASTER (no migrations applied)."""
    with ledger_database_on(postgres_server) as database:
        yield database


@pytest.fixture
def ledger(ledger_database: LedgerDatabase) -> LedgerDatabase:
    """A database with every migration applied for APP_ROLE."""
    migrate.apply(ledger_database.connect(), writer_role=APP_ROLE)
    return ledger_database


# -- the ec2 runtime (the whole app: tests/unit/ec2_synth.py) ---------------------------------


@pytest.fixture(scope="session")
def ec2_local(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """dev on the local emulator, compute.runtime = ec2."""
    return synth_ec2(tmp_path_factory.mktemp("ec2-local") / "cdktf.out")


@pytest.fixture(scope="session")
def ec2_aws_dev(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synth_ec2(
        tmp_path_factory.mktemp("ec2-aws-dev") / "cdktf.out",
        PAYMENTS_TARGET="aws",
        PAYMENTS_AWS_ACCOUNT_ID=AWS_ACCOUNT,
        PAYMENTS_DNS_ZONE_NAME=AWS_ZONE,
    )


@pytest.fixture(scope="session")
def ec2_aws_prod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synth_ec2(
        tmp_path_factory.mktemp("ec2-aws-prod") / "cdktf.out",
        PAYMENTS_ENV="prod",
        PAYMENTS_TARGET="aws",
        PAYMENTS_AWS_ACCOUNT_ID=AWS_ACCOUNT,
        PAYMENTS_DNS_ZONE_NAME=AWS_ZONE,
        PAYMENTS_COMPUTE_ALARM_EMAIL=AWS_PROD_ALARM_EMAIL,
    )
