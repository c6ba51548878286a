"""What every stack of the platform starts with: settings, names, its region's provider and its remote state.

Every stack has the same shape: `__init__` calls small private builders, one per part, then `_outputs`,
which declares the stack's outputs through `export`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from config.settings import Role, Settings, other_role
from shared import account
from shared.backend import state_backend
from shared.naming import Naming
from shared.providers import aws_provider
from shared.stack_id import Layer, StackId
from stacks.protection import Protection, protection


class PlatformStack(TerraformStack):
    """A layer of one region. Subclasses add resources and expose a few attributes for their dependants."""

    layer: ClassVar[Layer]

    def __init__(
        self,
        scope: Construct,
        *,
        settings: Settings,
        role: Role,
        depends_on: Sequence[PlatformStack | None] = (),
    ) -> None:
        """`depends_on`: the stacks this one reads from (None stands for an optional one that is absent)."""
        self.stack_id = StackId(self.layer, role)
        super().__init__(scope, self.stack_id.name)
        self.settings = settings
        self.role: Role = role
        self.region = settings.regions.of(role)
        self.naming = Naming.for_role(settings, role)
        self.protection: Protection = protection(settings)
        self.provider = aws_provider(self, settings, self.region)
        state_backend(self, settings, self.stack_id.name)
        for dependency in depends_on:
            if dependency is not None:
                self.add_dependency(dependency)
        self._peer_provider: AwsProvider | None = None

    @property
    def peer_role(self) -> Role:
        return other_role(self.role)

    @property
    def peer_provider(self) -> AwsProvider:
        """Provider alias for the other region, for stacks that own cross-region links."""
        if self._peer_provider is None:
            self._peer_provider = aws_provider(
                self, self.settings, self.settings.regions.of(self.peer_role), alias=self.peer_role
            )
        return self._peer_provider

    @property
    def account_id(self) -> str:
        return account.account_id(self)

    @property
    def partition(self) -> str:
        return account.partition(self)

    def export(self, name: str, value: object, *, description: str, sensitive: bool = False) -> None:
        """A named output for people, tests and the outputs file (dependants use attributes instead)."""
        TerraformOutput(self, name, value=value, description=description, sensitive=sensitive)
