"""DnsStack: the zone, health checks and traffic-split records (completed by the DNS issue)."""

from __future__ import annotations

from constructs import Construct

from config.settings import Role, Settings
from stacks.base import PlatformStack
from stacks.compute import ComputeStack


class DnsStack(PlatformStack):
    layer = "dns"

    def __init__(
        self,
        scope: Construct,
        *,
        settings: Settings,
        role: Role,
        compute: ComputeStack,
        primary: DnsStack | None = None,
    ) -> None:
        super().__init__(scope, settings=settings, role=role)
        self.compute = compute
        self.primary = primary
        self.add_dependency(compute)
        if primary is not None:
            self.add_dependency(primary)
