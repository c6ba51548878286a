"""Session fixtures: each target's app is synthesized once and shared by all unit tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ops.build.synth import synth_app
from ops.core.tool_env import QUIET
from tests.support import Synth

AWS_ACCOUNT = "111122223333"
OPERATOR_PROFILE = "payments-operator"
AWS_PROD_ALARM_EMAIL = "payments-oncall@example.com"


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
    return _synth(tmp_path_factory, "aws-dev", PAYMENTS_TARGET="aws", PAYMENTS_AWS_ACCOUNT_ID=AWS_ACCOUNT)


@pytest.fixture(scope="session")
def aws_prod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synth(
        tmp_path_factory,
        "aws-prod",
        PAYMENTS_ENV="prod",
        PAYMENTS_TARGET="aws",
        PAYMENTS_AWS_ACCOUNT_ID=AWS_ACCOUNT,
        PAYMENTS_AWS_PROFILE=OPERATOR_PROFILE,  # an operator's own profile, which must not reach the output
        PAYMENTS_COMPUTE_ALARM_EMAIL=AWS_PROD_ALARM_EMAIL,  # prod on aws must notify someone
    )


@pytest.fixture(scope="session")
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent
