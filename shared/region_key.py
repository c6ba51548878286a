"""The region key's alias: the data stacks create it, others look the key up by it without a stack reference."""

from __future__ import annotations

from typing import Final

from config.settings import Role, Settings
from shared.naming import Naming

REGION_KEY: Final = "data"


def region_key_alias(settings: Settings, role: Role) -> str:
    return Naming.for_role(settings, role).alias(REGION_KEY)
