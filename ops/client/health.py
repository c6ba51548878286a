"""A Route 53 health check's status, as the client's resolver needs it.

aws target: GetHealthCheckStatus, healthy when more than 18% of the checkers report success (`ops.core.route53_health`).
local target: the emulator runs no checkers (it answers a canned success), so the client does what a checker does:
it reads the check's target (GetHealthCheck: host, path) and sends `GET https://<host><path>` itself, through the
same path as any request (records -> custom domain -> mapping -> the health function in-process). Route 53 counts a
2xx or 3xx answer as success (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from config.settings import Settings
from ops.client.aws import client
from ops.client.resolve import HealthOf
from ops.core.route53_health import is_healthy

Probe = Callable[[str, str], int]  # (host, path) -> HTTP status of a GET through the client
PROBE_TTL_SECONDS = 10.0  # Route 53 checks every 30 s; a client re-probing on every request adds nothing


def from_route53(settings: Settings) -> HealthOf:
    route53 = client(settings, "route53", settings.regions.primary)

    def healthy(health_check_id: str) -> bool:
        observations = route53.get_health_check_status(HealthCheckId=health_check_id)["HealthCheckObservations"]
        return is_healthy(observations) is not False  # a new check without observations yet counts as healthy

    return healthy


class Prober:
    """Health by probing each check's target through the client (`probe`), each answer kept PROBE_TTL_SECONDS."""

    def __init__(self, settings: Settings, probe: Probe, clock: Callable[[], float] = time.monotonic) -> None:
        self.route53 = client(settings, "route53", settings.regions.primary)
        self.probe = probe
        self.clock = clock
        self.known: dict[str, tuple[float, bool]] = {}
        self.probing: set[str] = set()

    def __call__(self, health_check_id: str) -> bool:
        cached = self.known.get(health_check_id)
        if cached and self.clock() - cached[0] < PROBE_TTL_SECONDS:
            return cached[1]
        if health_check_id in self.probing:
            return True  # a check whose own path depends on it: no checker could see that either
        self.probing.add(health_check_id)
        try:
            config = self.route53.get_health_check(HealthCheckId=health_check_id)["HealthCheck"]["HealthCheckConfig"]
            host = config.get("FullyQualifiedDomainName") or config.get("IPAddress", "")
            status = self.probe(host, config.get("ResourcePath", "/"))
        finally:
            self.probing.discard(health_check_id)
        healthy = 200 <= status < 400
        self.known[health_check_id] = (self.clock(), healthy)
        return healthy
