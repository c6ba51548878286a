"""Each rule runs over aws/dev and aws/prod: the JSON a first apply on a real account would get."""

from __future__ import annotations

import pytest

from tests.aws_target import aws_settings
from tests.support import Synth


@pytest.fixture(params=["aws_dev", "aws_prod"])
def aws(request: pytest.FixtureRequest) -> Synth:
    synth: Synth = request.getfixturevalue(request.param)
    return synth


@pytest.fixture(scope="session", params=["dev", "prod"])
def load_balancer_aws(request: pytest.FixtureRequest) -> Synth:
    """The load balancer constructs' test stack (tests/unit/load_balancer_stack.py) on aws/dev and aws/prod."""
    from tests.unit.load_balancer_stack import OneStack, synth_stack  # noqa: PLC0415 -- jsii on use

    return OneStack(synth_stack(aws_settings(request.param)))
