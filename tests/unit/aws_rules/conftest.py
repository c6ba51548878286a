"""Each rule runs over aws/dev and aws/prod: the JSON a first apply on a real account would get."""

from __future__ import annotations

import pytest

from tests.support import Synth


@pytest.fixture(params=["aws_dev", "aws_prod"])
def aws(request: pytest.FixtureRequest) -> Synth:
    synth: Synth = request.getfixturevalue(request.param)
    return synth
