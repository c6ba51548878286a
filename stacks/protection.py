"""How hard stateful resources are protected, by environment: prod keeps everything, dev destroys cleanly."""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle

from config.settings import Settings

PROD_KMS_DELETION_WINDOW_DAYS = 30
DEV_KMS_DELETION_WINDOW_DAYS = 7


def kms_deletion_window_days(settings: Settings) -> int:
    return PROD_KMS_DELETION_WINDOW_DAYS if settings.is_production else DEV_KMS_DELETION_WINDOW_DAYS


def deletion_protection(settings: Settings) -> bool:
    return settings.is_production


def force_destroy(settings: Settings) -> bool:
    """Dev buckets may be destroyed with their objects; prod buckets never."""
    return not settings.is_production


def stateful_lifecycle(
    settings: Settings, *, ignore_changes: list[str] | None = None
) -> TerraformResourceLifecycle | None:
    if not settings.is_production and not ignore_changes:
        return None
    return TerraformResourceLifecycle(
        prevent_destroy=settings.is_production or None, ignore_changes=ignore_changes or None
    )
