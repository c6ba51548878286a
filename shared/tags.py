"""Tags applied once, through each provider's default_tags."""

from __future__ import annotations

from config.settings import Settings


def default_tags(settings: Settings, region: str) -> dict[str, str]:
    return {
        **settings.tags,
        "Project": settings.project,
        "Environment": settings.environment,
        "EnvironmentSuffix": settings.environment_suffix,
        "Region": region,
        "ManagedBy": "cdktf",
    }
