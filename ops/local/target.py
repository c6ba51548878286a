"""The local target's processes: the emulator and the PostgreSQL instances that stand in for Aurora."""

from __future__ import annotations

from config.settings import Settings
from ops.local import emulator, postgres


def up(settings: Settings) -> list[str]:
    """Start (or find running) the emulator and both PostgreSQL instances; one line per thing done or found."""
    return [
        emulator.up(settings.local),
        *postgres.up(settings.local, settings.data.database_name, settings.data.database_master_username),
    ]


def down(settings: Settings) -> list[str]:
    """Stop both; everything they held is gone."""
    return [*postgres.down(settings.local), emulator.down(settings.local)]
