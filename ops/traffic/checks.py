"""One line of a failover's pre- or post-checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal["ok", "FAIL", "note"]


@dataclass(frozen=True)
class Check:
    name: str
    outcome: Outcome  # note: could not be verified (emulator), continuing on the local target only
    detail: str

    def __str__(self) -> str:
        return f"    {self.outcome:<5} {self.name}: {self.detail}"
