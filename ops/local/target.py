"""The local target's processes: the emulator, the table replication between its two regions, the PostgreSQL
instances that stand in for Aurora, and (with `compute.runtime = "ec2"`) the payment server's stand-ins."""

from __future__ import annotations

from config.settings import Settings
from ops.local import emulator, postgres, processor, replication


def up(settings: Settings) -> list[str]:
    """Start (or find running) the emulator, the table replication and both PostgreSQL instances; one line per thing
    done or found."""
    return [
        *emulator.up(settings.local).splitlines(),
        replication.up(
            settings.local,
            (settings.regions.primary, settings.regions.secondary),
            (settings.state_bucket_of("primary"), settings.state_bucket_of("secondary")),  # gap s3-state-replication
        ),
        *postgres.up(settings.local, settings.data.database_name, settings.data.database_master_username),
    ]


def down(settings: Settings) -> list[str]:
    """Stop them all; everything they held is gone."""
    regions = (settings.regions.primary, settings.regions.secondary)
    return [
        *processor.down(settings.local, regions),  # started by deploys (`ops.deploy.stand_in`), not by up()
        replication.down(settings.local),
        *postgres.down(settings.local),
        emulator.down(settings.local),
    ]
