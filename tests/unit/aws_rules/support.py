"""Reading the aws target's JSON for rule tests; every lookup carries its count guard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support import Synth

Found = list[tuple[str, str, dict[str, Any]]]  # (stack, resource name, configuration)


def each(
    synth: Synth, rtype: str, *, at_least: int = 1, where: Callable[[dict[str, Any]], bool] = lambda _: True
) -> Found:
    """Every resource of `rtype` (matching `where`) across the stacks; fails when fewer than `at_least` exist,
    so a rule cannot pass by finding nothing to check."""
    found = [
        (stack, name, config) for stack, kind, name, config in synth.all_resources() if kind == rtype and where(config)
    ]
    assert len(found) >= at_least, f"count guard: expected at least {at_least} {rtype}, found {len(found)}"
    return found
