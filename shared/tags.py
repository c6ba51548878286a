"""Tags applied once, through each provider's default_tags."""

from __future__ import annotations

from config.settings import Settings

MIGRATION_BATCH_TAG = "MigrationBatch"


def default_tags(settings: Settings, region: str) -> dict[str, str]:
    batch = settings.migration.batch
    return {
        **settings.tags,
        "Project": settings.project,
        "Environment": settings.environment,
        "EnvironmentSuffix": settings.environment_suffix,
        "Region": region,
        "ManagedBy": "cdktf",
        **({MIGRATION_BATCH_TAG: batch} if batch else {}),
    }
