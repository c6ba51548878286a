"""The drill on a deployed local platform with fault injection: lose the write home's region, recover, come back.

    steady payments through the client (it follows DNS and the write home)
    -> outage of the write home's region (the fault proxy refuses, times out or answers 503 for every request
       signed for that region; its PostgreSQL instance is stopped)
    -> detection: the region's health check fails `FailureThreshold` times in a row at its `RequestInterval`, as
       Route 53's checkers would see it (the emulator's checkers probe nothing: the drill probes the same URL)
    -> `make failover UNPLANNED=yes` (`ops.traffic.region_loss`), which must send the lost region no request
    -> payments succeed in the survivor -> the outage is cleared -> `make rejoin` -> the planned switch back
    -> `make reconcile`.

Figures: RTO (outage start to the first payment acknowledged through the client after it), RPO (acknowledged
payments missing after the switch back, with the replication lag that explains them), duplicates (a payment
created twice), and the requests the failover sent to the lost region (0). Exit 1 when a figure misses its bound.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from config.settings import Role, Settings, other_role
from ops.client import smoke
from ops.client.api_client import ApiClient
from ops.client.aws import client
from ops.core.console import console
from ops.core.errors import RefusedError
from ops.deploy.outputs import layer_outputs, outputs_with
from ops.drill.payments import Payment, PaymentStream
from ops.keys import api_key
from ops.ledger import reconcile
from ops.local import outage, table_replication
from ops.local.fault_proxy import OPS_CALLER, Mode
from ops.state.home import with_home
from ops.traffic import failover, region_loss, rejoin, write_home
from shared.api_names import origin_name

RTO_BOUND_SECONDS = 300.0  # seed 003: recovery in under 5 minutes
WARM_UP_PAYMENTS = 5
SURVIVOR_PAYMENTS = 10
BACK_HOME_PAYMENTS = 5
PHASE_TIMEOUT_SECONDS = 600.0
REPLICATION_WAIT_SECONDS = 30.0


@dataclass
class Timeline:
    started: float = field(default_factory=time.monotonic)
    events: list[tuple[float, str]] = field(default_factory=list)
    outage_at: float | None = None

    def mark(self, what: str) -> float:
        now = time.monotonic()
        self.events.append((now, what))
        console.say(f"drill +{now - self.started:6.1f}s  {what}")
        return now

    def lines(self) -> list[str]:
        def since_outage(moment: float) -> str:
            return "" if self.outage_at is None else f"{moment - self.outage_at:+7.1f}s"

        ordered = sorted(self.events)
        return [f"  +{moment - self.started:6.1f}s {since_outage(moment):>9}  {what}" for moment, what in ordered]


@dataclass(frozen=True)
class Figures:
    rto_seconds: float | None
    detection_seconds: float
    failover_seconds: float
    lost_region_requests: int
    acknowledged: int
    missing: list[str]
    explained_missing: list[str]
    duplicates: list[str]
    loss_bound: str
    reconcile_code: int

    def misses(self) -> list[str]:
        problems = []
        if self.rto_seconds is None or self.rto_seconds > RTO_BOUND_SECONDS:
            problems.append(f"RTO {self.rto_seconds} s is over the bound of {RTO_BOUND_SECONDS:.0f} s")
        if self.lost_region_requests:
            problems.append(f"the failover sent {self.lost_region_requests} request(s) to the lost region")
        if self.missing:
            problems.append(f"{len(self.missing)} acknowledged payment(s) missing beyond the stated bound")
        if self.duplicates:
            problems.append(f"{len(self.duplicates)} duplicate payment(s)")
        if self.reconcile_code != 0:
            problems.append(f"make reconcile exited {self.reconcile_code}")
        return problems


class DrillFailedError(RefusedError):
    """A phase of the drill did not do what it must (the message says which)."""


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise DrillFailedError(f"drill stopped: {what}")


def _health_check(settings: Settings, role: Role) -> tuple[str, int, int]:
    """The region's health check: (its URL's host and path as probed, RequestInterval, FailureThreshold)."""
    check_id = outputs_with(settings, [f"dns-{role}"])[f"dns-{role}"]["health_check_id"]
    config = client(settings, "route53", settings.regions.primary).get_health_check(HealthCheckId=check_id)
    described = config["HealthCheck"]["HealthCheckConfig"]
    return described["ResourcePath"], int(described["RequestInterval"]), int(described["FailureThreshold"])


def detect(settings: Settings, api: ApiClient, role: Role, sleep: Callable[[float], None] = time.sleep) -> int:
    """Probe the region's health check URL at its interval until it fails `FailureThreshold` times in a row (what
    turns a Route 53 check unhealthy); returns the probes sent."""
    path, interval, threshold = _health_check(settings, role)
    host = origin_name(settings.dns, role)
    console.say(f"    probing https://{host}{path} every {interval}s; unhealthy after {threshold} failures in a row")
    failures = probes = 0
    deadline = time.monotonic() + PHASE_TIMEOUT_SECONDS
    while failures < threshold:
        _require(time.monotonic() < deadline, f"the {role} region's health check never failed {threshold} times")
        sleep(interval)
        probes += 1
        status = api.probe(host, path)
        failures = failures + 1 if not 200 <= status < 400 else 0  # Route 53's rule: 2xx/3xx
        console.say(f"    probe {probes}: {status or 'no answer'} ({failures}/{threshold})")
    return probes


def _tables(settings: Settings) -> dict[Role, str]:
    return {role: data["table_name"] for role, data in layer_outputs(settings, "data", "the drill").items()}


def _present(settings: Settings, tables: dict[Role, str], payment_id: str) -> bool:
    return all(
        "Item"
        in client(settings, "dynamodb", settings.regions.of(role)).get_item(
            TableName=table, Key={"payment_id": {"S": payment_id}}, ConsistentRead=True
        )
        for role, table in tables.items()
    )


def missing_payments(settings: Settings, acknowledged: list[Payment]) -> list[Payment]:
    """Acknowledged payments not in both regions' tables, once replication had REPLICATION_WAIT_SECONDS."""
    tables = _tables(settings)
    deadline = time.monotonic() + REPLICATION_WAIT_SECONDS
    while True:
        missing = [p for p in acknowledged if not _present(settings, tables, p.answer.get("payment_id", ""))]
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(1.0)


def _loss_bound(settings: Settings) -> tuple[str, float]:
    """The table replication's largest measured lag: what an acknowledged payment could still miss at the outage."""
    stats = table_replication.stats(settings.local)
    worst = (stats.max_ms or 0.0) / 1000
    return f"table replication lag {stats.lag()}", worst


def _lost_region_requests(settings: Settings, region: str, before: dict[str, int]) -> int:
    """Requests of the ops tooling (not the client's) the fault proxy refused for `region` since `before`."""
    now = outage.faulted_counts(settings.local)
    return sum(
        count - before.get(key, 0)
        for key, count in now.items()
        if key.startswith(f"{region}/") and key.endswith(f"/{OPS_CALLER}")
    )


def _check_ready(settings: Settings) -> Role:
    if not settings.is_local or not settings.local.fault_injection:
        raise RefusedError(
            "drill: runs on the local target with local.fault_injection = true (a private deployment: `make drill`)"
        )
    home = write_home.home(settings)
    if home is None:
        raise RefusedError("drill: the regions do not agree on a write home (`make write-home`); fix that first")
    return home


def run(settings: Settings, *, mode: Mode, bake_seconds: int) -> int:
    lost = _check_ready(settings)
    timeline = Timeline()
    api = ApiClient(settings, api_key.current(settings, lost))
    stream = PaymentStream(api, f"cus_Drill{uuid.uuid4().hex[:12]}").start()
    figures = None
    try:
        figures = _phases(Drill(settings, api, stream, timeline, lost, mode, bake_seconds))
    finally:
        stream.stop()
        outage.clear(settings)  # never leave the platform broken, whatever stopped the drill
    console.say("")
    console.say("timeline (since the drill started, since the outage started):")
    for line in timeline.lines():
        console.say(line)
    return _report(figures)


@dataclass(frozen=True)
class Drill:
    settings: Settings
    api: ApiClient
    stream: PaymentStream
    timeline: Timeline
    lost: Role
    mode: Mode
    bake_seconds: int


def _phases(drill: Drill) -> Figures:
    settings, api, stream, timeline, lost = drill.settings, drill.api, drill.stream, drill.timeline, drill.lost
    survivor, mode, bake_seconds = other_role(lost), drill.mode, drill.bake_seconds
    timeline.mark(f"steady payments through the client (the {lost} region is the write home)")
    _require(stream.wait_for(WARM_UP_PAYMENTS, timeline.started, PHASE_TIMEOUT_SECONDS), "no steady payments")
    bound, worst_lag = _loss_bound(settings)
    for line in outage.inject(settings, lost, mode):
        console.say(f"    {line}")
    outage_at = timeline.outage_at = timeline.mark(f"OUTAGE: the {lost} region ({settings.regions.of(lost)}), {mode}")
    detect(settings, api, lost)
    detected = timeline.mark(f"detected: the {lost} region's health check failed")
    before = outage.faulted_counts(settings.local)
    code = region_loss.run(with_home(settings, survivor), to=survivor, bake_seconds=bake_seconds)
    failed_over = timeline.mark(f"unplanned failover to {survivor} done (exit {code})")
    _require(code == 0, "the unplanned failover failed")
    lost_requests = _lost_region_requests(settings, settings.regions.of(lost), before)
    _require(stream.wait_for(1, outage_at, PHASE_TIMEOUT_SECONDS), "no payment succeeded after the failover")
    first = stream.first_acknowledged_after(outage_at)
    rto = None if first is None or first.acknowledged_at is None else first.acknowledged_at - outage_at
    timeline.events.append((first.acknowledged_at if first and first.acknowledged_at else failed_over, "first payment"))
    _require(stream.wait_for(SURVIVOR_PAYMENTS, failed_over, PHASE_TIMEOUT_SECONDS), "payments stalled in survivor")
    timeline.mark(f"{SURVIVOR_PAYMENTS} payments acknowledged by the {survivor} region")
    for line in outage.clear(settings):
        console.say(f"    {line}")
    timeline.mark(f"outage cleared: the {lost} region answers again")
    _require(rejoin.run(settings) == 0, f"the {lost} region did not rejoin")
    timeline.mark(f"rejoined: the {lost} region follows {survivor}")
    switched = failover.run(settings, to=lost, unplanned=False, max_lag_ms=1000, bake_seconds=bake_seconds)
    _require(switched == 0, f"the planned switch back to {lost} failed")
    back = timeline.mark(f"switched back: the {lost} region is the write home and takes all traffic")
    _require(stream.wait_for(BACK_HOME_PAYMENTS, back, PHASE_TIMEOUT_SECONDS), "payments stalled after switching back")
    acknowledged = [p for p in stream.stop() if p.acknowledged_at is not None]
    timeline.mark(f"payments stopped: {len(acknowledged)} acknowledged")
    missing = missing_payments(settings, acknowledged)
    explained = [p for p in missing if p.acknowledged_at and outage_at - p.acknowledged_at <= worst_lag]
    doubled = smoke.duplicates(settings, [p.answer for p in acknowledged], _tables(settings))
    reconciled = reconcile.run(settings, only={p.answer["payment_id"] for p in acknowledged})
    timeline.mark(f"reconcile of the drill's payments: exit {reconciled}")
    return Figures(
        rto_seconds=rto,
        detection_seconds=detected - outage_at,
        failover_seconds=failed_over - detected,
        lost_region_requests=lost_requests,
        acknowledged=len(acknowledged),
        missing=[p.answer.get("payment_id", p.key) for p in missing if p not in explained],
        explained_missing=[p.answer.get("payment_id", p.key) for p in explained],
        duplicates=doubled,
        loss_bound=bound,
        reconcile_code=reconciled,
    )


def _report(figures: Figures | None) -> int:
    if figures is None:
        return 1
    rto = "none" if figures.rto_seconds is None else f"{figures.rto_seconds:.1f} s"
    console.say("")
    console.say(f"RTO        {rto} (bound {RTO_BOUND_SECONDS:.0f} s): outage start to the first acknowledged payment")
    console.say(f"  detection {figures.detection_seconds:.1f} s, unplanned failover {figures.failover_seconds:.1f} s")
    console.say(
        f"RPO        {len(figures.missing) + len(figures.explained_missing)} of {figures.acknowledged} acknowledged "
        f"payments missing after the switch back ({len(figures.explained_missing)} within the replication lag); "
        f"{figures.loss_bound}"
    )
    console.say(f"duplicates {len(figures.duplicates)}")
    console.say(f"requests the failover sent to the lost region: {figures.lost_region_requests}")
    for line in figures.duplicates:
        console.say(f"  duplicate {line}")
    for payment_id in figures.missing:
        console.say(f"  missing {payment_id}")
    problems = figures.misses()
    for problem in problems:
        console.say(f"FAIL: {problem}")
    console.say("drill passed" if not problems else "drill FAILED")
    return 1 if problems else 0
