"""Right after a deploy, a second plan of every stack shows no changes (runs after the layer checks).

`make diff` first answers from the deploy record, without Terraform; `--refresh` runs the real plan."""

from __future__ import annotations

from typing import Any

import pytest

from harness.platform import Platform
from tests.support import STACKS

pytestmark = pytest.mark.phase("replan")


@pytest.mark.parametrize("stack", STACKS)
def test_second_plan_is_clean(platform: Platform, deployed: dict[str, Any], stack: str) -> None:
    recorded = platform.ops("diff", stack, "--detailed-exitcode")
    assert recorded.returncode == 0, recorded.stdout
    assert f"{stack}: no changes. Its configuration, its state and the outputs it reads" in recorded.stdout
    assert "Refreshing state" not in recorded.stdout

    result = platform.ops("diff", stack, "--detailed-exitcode", "--refresh")
    assert result.returncode == 0, f"{stack} plans changes right after deploy:\n{result.stdout[-4000:]}"
    assert "No changes." in result.stdout
