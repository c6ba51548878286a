"""DataStack: everything stateful in one region (completed by the data-layer issue)."""

from __future__ import annotations

from constructs import Construct

from config.settings import Role, Settings
from stacks.base import PlatformStack
from stacks.network import NetworkStack


class DataStack(PlatformStack):
    layer = "data"

    def __init__(
        self,
        scope: Construct,
        *,
        settings: Settings,
        role: Role,
        network: NetworkStack,
        primary: DataStack | None = None,
    ) -> None:
        super().__init__(scope, settings=settings, role=role)
        self.network = network
        self.primary = primary
        self.add_dependency(network)
        if primary is not None:
            self.add_dependency(primary)
