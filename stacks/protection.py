"""How hard stateful resources are protected, by environment: prod keeps everything, dev destroys cleanly.

Every stack turns the settings into one `Protection` value (`PlatformStack.protection`) and hands it to
its constructs, so a construct never reads the environment itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle

from config.settings import Settings

PROD_KMS_DELETION_WINDOW_DAYS = 30
DEV_KMS_DELETION_WINDOW_DAYS = 7


@dataclass(frozen=True)
class Protection:
    """What one environment does to keep (prod) or cleanly destroy (dev) its stateful resources."""

    production: bool

    @property
    def kms_deletion_window_days(self) -> int:
        return PROD_KMS_DELETION_WINDOW_DAYS if self.production else DEV_KMS_DELETION_WINDOW_DAYS

    @property
    def deletion_protection(self) -> bool:
        """The service's own switch (DynamoDB, RDS): on in prod."""
        return self.production

    @property
    def force_destroy(self) -> bool:
        """Buckets and vaults may be deleted with their contents: dev only."""
        return not self.production

    @property
    def skip_final_snapshot(self) -> bool:
        return not self.production

    def final_snapshot_identifier(self, cluster_identifier: str) -> str | None:
        """Prod keeps a last snapshot of a deleted cluster; dev keeps nothing."""
        return None if self.skip_final_snapshot else f"{cluster_identifier}-final"

    def lifecycle(self, *, ignore_changes: Sequence[str] = ()) -> TerraformResourceLifecycle | None:
        """`prevent_destroy` in prod, plus any attributes the caller must not diff (none by default)."""
        if not self.production and not ignore_changes:
            return None
        return TerraformResourceLifecycle(
            prevent_destroy=self.production or None, ignore_changes=list(ignore_changes) or None
        )


def protection(settings: Settings) -> Protection:
    return Protection(production=settings.is_production)
