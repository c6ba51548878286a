"""The payments API client: resolve, pass the front door's checks (API Gateway's, or the load balancer's with
`compute.runtime = "ec2"`), reach the function or server, follow 307, wait out 503.

    client = ApiClient.connect(settings, key)
    answer = client.request("POST", client.url("/payments"), body=..., headers={"Idempotency-Key": ...})

Each request re-reads the zone's records (a client without a DNS cache), so it follows rollouts and failovers as
they happen. `docs/client.md` walks the path.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from config.settings import ROLES, Role, Settings
from ops.client import gateway, health, load_balancer, records, transport
from ops.client.gateway import Refusal
from ops.client.resolve import LOAD_BALANCER, HealthOf, Resolver
from ops.client.transport import Answer
from ops.core.errors import OpsError
from shared.api_names import API_KEY_HEADER, base_url, entry_name
from shared.local_target import probes_health_checks_itself, runs_functions_in_process

MAX_REDIRECTS = 3  # one redirect reaches the write home; more is a loop between two views of it
MAX_RETRIES = 10  # a fenced switch lasts seconds (Retry-After: 1 each)
MAX_RETRY_AFTER_SECONDS = 5.0


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: str
    region: str  # the region whose function answered (or whose API Gateway refused)
    role: Role | None
    entered: Role | None  # the region the first attempt reached (DNS's choice); `role` differs after a 307
    trail: tuple[str, ...]  # one line per attempt: method, URL, region, status

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    def json(self) -> object:
        return json.loads(self.body) if self.body else None


class ApiClient:
    def __init__(
        self,
        settings: Settings,
        key: str | None,
        *,
        health_of: HealthOf | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.key = key
        self.rng = rng or random.Random()  # noqa: S311  # a traffic share, not a secret
        self.sleep = sleep
        self.regions = [settings.regions.of(role) for role in ROLES]
        self.zone_id = records.zone_id(settings)
        self.health_of = health_of or (
            health.Prober(settings, self.probe)
            if probes_health_checks_itself(settings)
            else health.from_route53(settings)
        )

    def url(self, route: str) -> str:
        """`https://api.<zone>/v1<route>`: what a client calls."""
        return base_url(entry_name(self.settings.dns)) + route

    def role_of(self, region: str) -> Role | None:
        return next((role for role in ROLES if self.settings.regions.of(role) == region), None)

    def request(
        self, method: str, url: str, *, body: str | None = None, headers: Mapping[str, str] | None = None
    ) -> Response:
        """One request as a client sends it: 307 followed with the same method, body and key; 503 retried after
        its Retry-After (bounded)."""
        trail: list[str] = []
        redirects = retries = 0
        entered: Role | None = None
        while True:
            answer, region = self.send(method, url, body=body, headers=headers, key=self.key)
            entered = entered or self.role_of(region)
            trail.append(f"{method} {url} -> {self.role_of(region) or '?'} ({region}) {answer.status}")
            location = answer.header("Location")
            if answer.status == 307 and location and redirects < MAX_REDIRECTS:
                redirects, url = redirects + 1, location
                continue
            retry_after = answer.header("Retry-After")
            if answer.status == 503 and retry_after is not None and retries < MAX_RETRIES:
                retries += 1
                self.sleep(min(_seconds(retry_after), MAX_RETRY_AFTER_SECONDS))
                continue
            return Response(
                answer.status, answer.headers, answer.body, region, self.role_of(region), entered, tuple(trail)
            )

    def send(
        self,
        method: str,
        url: str,
        *,
        body: str | None = None,
        headers: Mapping[str, str] | None = None,
        key: str | None = None,
    ) -> tuple[Answer, str]:
        """One attempt with `key` (None: no x-api-key header): (the answer, the region that gave it)."""
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise OpsError(f"{url}: the API is served over https only")
        host, path = parts.hostname, parts.path or "/"
        sent = {"Host": host, **(headers or {})}
        if key is not None:
            sent[API_KEY_HEADER] = key
        outgoing = transport.Outgoing(method, path, sent, body, parts.query)
        resolution = Resolver(records.zone_records(self.settings, self.zone_id), self.zone_id, self.health_of, self.rng)
        resolved = resolution.resolve(host)
        if resolved.front_door == LOAD_BALANCER:
            return load_balancer.send(self.settings, resolved, self.regions, outgoing)
        if not runs_functions_in_process(self.settings):
            region, _ = gateway.find_domain(self.settings, resolved, self.regions)
            return transport.over_https(host, resolved.regional_domain_name, outgoing), region
        try:
            target = gateway.route(self.settings, resolved, self.regions, method, path, key=key)
        except Refusal as refusal:
            refused = Answer(
                refusal.status, {"Content-Type": "application/json"}, json.dumps({"message": refusal.message})
            )
            return refused, resolved.region
        return transport.in_process(self.settings, target, outgoing), target.region

    def probe(self, host: str, path: str) -> int:
        """A health checker's GET: no key, no redirects followed; an unreachable target is a failure."""
        try:
            answer, _ = self.send("GET", f"https://{host}{path}")
        except Exception:  # whatever stops the request, a checker records a failure
            return 0
        return answer.status


def _seconds(retry_after: str) -> float:
    try:
        return max(float(retry_after), 0.0)
    except ValueError:
        return 1.0
