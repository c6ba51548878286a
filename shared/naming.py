"""The one naming scheme every resource, stack and state key follows."""

from __future__ import annotations

from dataclasses import dataclass

from config.schema import GLOBAL_COMPONENT_MAX
from config.settings import Role, Settings


def state_key(settings: Settings, stack: str) -> str:
    return f"{settings.environment}/{stack}.tfstate"


@dataclass(frozen=True)
class Naming:
    """Names for one region role: `<project>-<suffix>-<role>-<component>`."""

    project: str
    suffix: str
    role: Role
    region: str

    @classmethod
    def for_role(cls, settings: Settings, role: Role) -> Naming:
        return cls(settings.project, settings.environment_suffix, role, settings.regions.of(role))

    @property
    def prefix(self) -> str:
        return f"{self.project}-{self.suffix}-{self.role}"

    def name(self, component: str) -> str:
        return f"{self.prefix}-{component}"

    def global_name(self, component: str, account_id: str) -> str:
        """For globally unique names (S3 buckets): carries the region instead of the role, and the account, so
        another account's bucket cannot take the name first. Config validation keeps it within S3's limit
        at the longest project, suffix and region (with components up to GLOBAL_COMPONENT_MAX characters)."""
        if len(component) > GLOBAL_COMPONENT_MAX:
            raise ValueError(f"global name component {component!r} is longer than {GLOBAL_COMPONENT_MAX} characters")
        return f"{self.project}-{self.suffix}-{component}-{self.region}-{account_id}"

    def path(self, *parts: str) -> str:
        """Hierarchical names: SSM parameters, log groups (`/payments/dev/primary/...`)."""
        return "/" + "/".join((self.project, self.suffix, self.role, *parts))

    def alias(self, component: str) -> str:
        return f"alias/{self.name(component)}"
