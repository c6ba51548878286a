"""The Aurora cluster's name component: the data stacks create `<prefix>-aurora` per region, the rollout engine
pre-checks and snapshots the primary's by that name."""

from __future__ import annotations

from typing import Final

from config.settings import Role, Settings
from shared.naming import Naming

AURORA: Final = "aurora"


def cluster_identifier(settings: Settings, role: Role) -> str:
    return Naming.for_role(settings, role).name(AURORA)
