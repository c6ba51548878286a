"""ComputeStack: the payments API of one region (completed by the compute issue)."""

from __future__ import annotations

from constructs import Construct

from config.settings import Role, Settings
from stacks.base import PlatformStack
from stacks.data import DataStack
from stacks.network import NetworkStack


class ComputeStack(PlatformStack):
    layer = "compute"

    def __init__(
        self, scope: Construct, *, settings: Settings, role: Role, network: NetworkStack, data: DataStack
    ) -> None:
        super().__init__(scope, settings=settings, role=role)
        self.network = network
        self.data = data
        self.add_dependency(network)
        self.add_dependency(data)
