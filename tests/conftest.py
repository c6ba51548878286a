"""Session fixtures: each target's app is synthesized once and shared by all unit tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.platform import free_port
from ops.build.synth import synth_app
from ops.core.paths import LOCAL_DIR
from ops.core.tool_env import QUIET
from ops.local import postgres
from tests.support import Synth

AWS_ACCOUNT = "111122223333"
# The aws target refuses reserved zones (.internal, .example, ...): a delegable name, never deployed by tests.
AWS_ZONE = "payments.acme-payments.com"
OPERATOR_PROFILE = "payments-operator"
AWS_PROD_ALARM_EMAIL = "payments-oncall@example.com"
AWS_PROD_MIGRATION_BATCH = "wave-2/eu-west-1"  # seed 000's MigrationBatch tag (aws/dev leaves it empty: no tag)


def pytest_configure() -> None:
    os.environ.update(QUIET)  # cdktf (jsii) and Terraform run in-process by tests, as quiet as under ops


def _synth(tmp_path_factory: pytest.TempPathFactory, name: str, **settings: str) -> Synth:
    outdir = tmp_path_factory.mktemp(name) / "cdktf.out"
    result = synth_app(outdir, **settings)
    assert result.returncode == 0, result.stderr
    return Synth(outdir)


@pytest.fixture(scope="session")
def local_dev(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """dev on the local emulator: the embedded default."""
    return _synth(tmp_path_factory, "local-dev")


@pytest.fixture(scope="session")
def aws_dev(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synth(
        tmp_path_factory,
        "aws-dev",
        PAYMENTS_TARGET="aws",
        PAYMENTS_AWS_ACCOUNT_ID=AWS_ACCOUNT,
        PAYMENTS_DNS_ZONE_NAME=AWS_ZONE,
    )


@pytest.fixture(scope="session")
def aws_prod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synth(
        tmp_path_factory,
        "aws-prod",
        PAYMENTS_ENV="prod",
        PAYMENTS_TARGET="aws",
        PAYMENTS_AWS_ACCOUNT_ID=AWS_ACCOUNT,
        PAYMENTS_DNS_ZONE_NAME=AWS_ZONE,
        PAYMENTS_AWS_PROFILE=OPERATOR_PROFILE,  # an operator's own profile, which must not reach the output
        PAYMENTS_COMPUTE_ALARM_EMAIL=AWS_PROD_ALARM_EMAIL,  # prod on aws must notify someone
        PAYMENTS_MIGRATION_BATCH=AWS_PROD_MIGRATION_BATCH,
    )


@pytest.fixture(scope="session")
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.Instance]:
    """A throwaway PostgreSQL 15 writer on a free loopback port (`host`, `port`, `user`: a trusted superuser).

    Real PostgreSQL, started by the project's own code (ops/local/postgres.py) in a directory the server user can
    reach (pytest's temporary directories are private to root); removed after the session.
    """
    directory = LOCAL_DIR / "postgres" / f"tests-{os.getpid()}"
    instance = postgres.scratch(directory, free_port(), name="writer")
    try:
        yield instance
    finally:
        postgres.stop(instance, mode="immediate")
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_standby(postgres_server: postgres.Instance) -> Iterator[postgres.Instance]:
    """A streaming hot standby of `postgres_server` (in recovery: reads only)."""
    instance = postgres.Instance("standby", free_port(), postgres_server.datadir.parent / "standby")
    postgres.base_backup(instance, postgres_server)
    postgres.start(instance)
    try:
        yield instance
    finally:
        postgres.stop(instance, mode="immediate")
