"""A host name of the zone to the front door that serves it (an API Gateway regional domain or an Application Load
Balancer), as Route 53 answers a query.

Route 53's rules (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-how-route-53-chooses-records.html):
a record with a health check is healthy when its check is; an alias record that evaluates target health is healthy
when its target in the zone has a healthy record; a record with neither is always healthy; when no record of a group
is healthy, all are treated as healthy. Weighted: chosen by weight among healthy records, zero weights only when no
non-zero record is healthy. Failover: PRIMARY while it is healthy, else SECONDARY. Aliases inside the zone are
followed until one leaves it for an API Gateway regional domain (`d-<id>.execute-api.<region>.amazonaws.com`) or a
load balancer (`<name>-<id>.<region>.elb.amazonaws.com`, which Route 53 also accepts with a `dualstack.` prefix:
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-to-elb-load-balancer.html).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ops.client.records import Record
from ops.core.errors import OpsError

HealthOf = Callable[[str], bool]  # a health check id -> healthy?
MAX_HOPS = 8  # the platform's chain is three deep (entry -> leg -> domain); more is a loop
_REGIONAL_DOMAIN = re.compile(r"^d-[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$")
_LOAD_BALANCER = re.compile(
    r"^(?:dualstack\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.([a-z]{2}(?:-[a-z]+)+-[0-9]+)\.elb\.amazonaws\.com$"
)
DUALSTACK_PREFIX = "dualstack."
API_GATEWAY = "api-gateway"
LOAD_BALANCER = "load-balancer"


class ResolveError(OpsError):
    """The name does not lead to a front door (NXDOMAIN, a loop, a foreign target)."""


@dataclass(frozen=True)
class Resolution:
    host: str
    regional_domain_name: str
    regional_zone_id: str
    region: str
    hops: tuple[str, ...]  # each record followed, as `Record.describe` says it
    front_door: str = API_GATEWAY  # API_GATEWAY: `regional_domain_name` is a custom domain's; LOAD_BALANCER: an ALB's

    @property
    def load_balancer_dns_name(self) -> str:
        """The load balancer's own DNS name (DescribeLoadBalancers' `DNSName`): the alias's, without `dualstack.`."""
        return self.regional_domain_name.removeprefix(DUALSTACK_PREFIX)


def regional_domain_region(name: str) -> str | None:
    match = _REGIONAL_DOMAIN.match(name)
    return match.group(1) if match else None


def load_balancer_region(name: str) -> str | None:
    match = _LOAD_BALANCER.match(name)
    return match.group(1) if match else None


class Resolver:
    def __init__(
        self, records: dict[str, list[Record]], zone_id: str, health: HealthOf, rng: random.Random | None = None
    ) -> None:
        self.records = records
        self.zone_id = zone_id
        self.health = health
        self.rng = rng or random.Random()  # noqa: S311  # a traffic share, not a secret

    def resolve(self, host: str) -> Resolution:
        name, hops = host.rstrip(".").lower(), []
        for _ in range(MAX_HOPS):
            record = self.choose(name)
            hops.append(record.describe())
            if record.alias is None:
                raise ResolveError(f"{host}: {record.describe()} is not an alias; the API's names are alias records")
            target = record.alias
            if target.zone_id == self.zone_id:
                name = target.dns_name
                continue
            if (region := regional_domain_region(target.dns_name)) is not None:
                return Resolution(host, target.dns_name, target.zone_id, region, tuple(hops))
            if (region := load_balancer_region(target.dns_name)) is not None:
                return Resolution(host, target.dns_name, target.zone_id, region, tuple(hops), LOAD_BALANCER)
            raise ResolveError(
                f"{host}: {record.describe()} leaves the zone for something not API Gateway and not a load balancer"
            )
        raise ResolveError(f"{host}: more than {MAX_HOPS} aliases followed ({' | '.join(hops)}): a loop?")

    def choose(self, name: str) -> Record:
        group = self.records.get(name)
        if not group:
            raise ResolveError(f"{name}: no such record in the zone (NXDOMAIN)")
        if any(r.weight is not None for r in group):
            return self._weighted(group)
        if any(r.failover for r in group):
            return self._failover(group)
        return group[0]

    def healthy(self, record: Record, seen: frozenset[str] = frozenset()) -> bool:
        if record.health_check_id and not self.health(record.health_check_id):
            return False
        alias = record.alias
        if alias and alias.evaluate_target_health and alias.zone_id == self.zone_id and alias.dns_name not in seen:
            return any(self.healthy(r, seen | {record.name}) for r in self.records.get(alias.dns_name, []))
        return True

    def _weighted(self, group: Sequence[Record]) -> Record:
        healthy = [r for r in group if self.healthy(r)] or list(group)
        candidates = [r for r in healthy if r.weight] or healthy
        total = sum(r.weight or 0 for r in candidates)
        if not total:
            return self.rng.choice(candidates)
        point = self.rng.uniform(0, total)
        for record in candidates:
            point -= record.weight or 0
            if point <= 0:
                return record
        return candidates[-1]

    def _failover(self, group: Sequence[Record]) -> Record:
        ordered = sorted(group, key=lambda r: r.failover != "PRIMARY")
        return next((r for r in ordered if self.healthy(r)), ordered[0])
