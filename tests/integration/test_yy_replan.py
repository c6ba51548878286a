"""Right after a deploy, a second plan of every stack shows no changes (runs after the layer checks)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.platform import Platform
from tests.support import STACKS


@pytest.mark.parametrize("stack", STACKS)
def test_second_plan_is_clean(platform: Platform, deployed: dict[str, Any], stack: str) -> None:
    result = platform.ops("diff", stack, "--detailed-exitcode")
    assert result.returncode == 0, f"{stack} plans changes right after deploy:\n{result.stdout[-4000:]}"
    assert "No changes." in result.stdout
