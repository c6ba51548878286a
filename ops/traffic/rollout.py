"""Staged traffic shifts between the regions, watched by alarms and health checks, reverted when they fire.

`make rollout TO=secondary STEPS=10,25,50,100 BAKE=300`: each step gives TO the step's share of the
traffic, persists the split (`ops.state.traffic_split`), applies only the two DNS stacks with it, then bakes: for BAKE
seconds it polls each region's `region-unhealthy` alarm and each region's Route 53 health check. A bad signal
reverts to the last good split (applied the same way), marks the split `reverted` and exits 1 naming the
signal. Steps at or below TO's current share are already done, so running the same command again resumes
an interrupted rollout; `make rollout TO=primary STEPS=100` takes everything back.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from config.settings import ROLES, Role, Settings
from ops.build.fingerprint import template_sha256
from ops.core.aws_clients import client
from ops.core.clock import utc_now
from ops.core.console import Console, console
from ops.core.errors import NotDeployedError, UsageError
from ops.core.paths import stack_dir
from ops.core.route53_health import is_healthy, succeeded
from ops.deploy import engine, releases
from ops.deploy.outputs import outputs_with
from ops.state import locks, traffic_split
from ops.state.traffic_split import Split, TrafficState
from ops.traffic.checks import Check, describe_alarm
from shared.rollout_engine import ENGINES, Engine
from shared.stack_id import StackId, all_stacks, parse_role

DNS_STACKS = [s.name for s in all_stacks() if s.layer == "dns"]
DEFAULT_STEPS = (10, 25, 50, 100)
DEFAULT_BAKE_SECONDS = 300
POLL_SECONDS = 5.0
PROGRESS_EVERY_SECONDS = 30.0
ALARM_STATE = "ALARM"


class ArgumentError(UsageError):
    """A bad command-line value: the CLI prints this one line naming the argument and exits 2."""


def fail_argument(command: str, variable: str, value: str, problem: str, example: str) -> ArgumentError:
    return ArgumentError(f"{command}: {variable}={value!r} is invalid: {problem}, e.g. {variable}={example}")


def parse_to(value: str, command: str = "rollout") -> Role:
    text = value.strip()
    if not text:
        raise ArgumentError(f"{command}: TO is required: the region role to shift traffic to, e.g. TO=secondary")
    if text not in ROLES:
        raise fail_argument(command, "TO", value, f"use {' or '.join(ROLES)}", ROLES[-1])
    return parse_role(text)


def parse_steps(value: str, command: str = "rollout", *, hold: bool = False) -> list[int]:
    """`10,25,50,100` -> [10, 25, 50, 100]: whole percents 1-100, strictly increasing, ending at 100 unless the
    rollout is to hold its last step (`HOLD=yes`: a split such as 50/50 kept until the next rollout)."""
    text = value.strip()
    if not text:
        return list(DEFAULT_STEPS)
    example = ",".join(str(s) for s in DEFAULT_STEPS)
    parts = [p.strip() for p in text.split(",")]
    if not all(p.isdigit() for p in parts):
        raise fail_argument(command, "STEPS", value, "use a comma-separated list of whole percents", example)
    steps = [int(p) for p in parts]
    if any(not 1 <= s <= 100 for s in steps):
        raise fail_argument(command, "STEPS", value, "each step is a percent from 1 to 100", example)
    if any(b <= a for a, b in itertools.pairwise(steps)):
        raise fail_argument(command, "STEPS", value, "steps must be strictly increasing", example)
    if steps[-1] != 100 and not hold:
        problem = "the last step must be 100 (a rollout ends complete), or add HOLD=yes to stay at the last step"
        raise fail_argument(command, "STEPS", value, problem, example)
    return steps


def parse_hold(value: str, command: str = "rollout") -> bool:
    text = value.strip()
    if text not in ("", "yes"):
        raise fail_argument(command, "HOLD", value, "use yes or leave it empty", "yes")
    return text == "yes"


def parse_bake(value: str, command: str = "rollout", default: int = DEFAULT_BAKE_SECONDS) -> int:
    text = value.strip()
    if not text:
        return default
    if not text.isdigit():
        raise fail_argument(command, "BAKE", value, "use a whole number of seconds >= 0", "300")
    return int(text)


def parse_engine(value: str, command: str = "rollout") -> Engine | None:
    """ENGINE: `local` (this process applies the DNS stacks) or `stepfunctions` (the state machine in AWS); None:
    the target's default (`shared.rollout_engine.default_engine`)."""
    text = value.strip()
    if not text:
        return None
    for engine_name in ENGINES:
        if text == engine_name:
            return engine_name
    raise fail_argument(command, "ENGINE", value, f"use {' or '.join(ENGINES)}", "stepfunctions")


def dry_run(engine_name: Engine, to: Role, steps: Sequence[int], bake_seconds: int) -> int:
    """What `make rollout` would do with these arguments; nothing is read or changed."""
    where = "the rollout state machine (Step Functions)" if engine_name == "stepfunctions" else "this process"
    console.say(
        f"dry run: {where} would shift traffic to {to} in steps {', '.join(str(s) for s in steps)} "
        f"(percent for {to}), baking {bake_seconds}s after each"
    )
    return 0


def remaining_steps(current: Split, to: Role, steps: Sequence[int]) -> list[Split]:
    """The splits still to apply: steps above TO's current share (the ones at or below it are done)."""
    return [Split.with_share(to, step) for step in steps if step > current.share(to)]


# -- signals ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    """Something that says a region is not healthy."""

    kind: str  # "alarm" | "health check"
    name: str
    role: Role
    region: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name} ({self.role}, {self.region}): {self.detail}"


@dataclass
class Watch:
    """The alarms and health checks a rollout watches, read from the deployed stacks' outputs."""

    settings: Settings
    alarms: list[tuple[Role, str]] = field(default_factory=list)  # (role, alarm name)
    health_checks: list[tuple[Role, str]] = field(default_factory=list)  # (role, health check id)

    @classmethod
    def of(cls, settings: Settings, roles: Sequence[Role]) -> Watch:
        outputs = _outputs(settings)
        watch = cls(settings)
        for role in roles:
            compute_stack, dns_stack = StackId("compute", role).name, StackId("dns", role).name
            compute, dns = outputs.get(compute_stack, {}), outputs.get(dns_stack, {})
            if not compute.get("region_unhealthy_alarm_name"):
                raise NotDeployedError(
                    f"{compute_stack} is not deployed (no region_unhealthy_alarm_name output); deploy first"
                )
            if not dns.get("health_check_id"):
                raise NotDeployedError(f"{dns_stack} is not deployed (no health_check_id output); deploy first")
            watch.alarms.append((role, compute["region_unhealthy_alarm_name"]))
            watch.health_checks.append((role, dns["health_check_id"]))
        return watch

    def describe(self) -> str:
        alarms = ", ".join(f"{name} ({self.settings.regions.of(role)})" for role, name in self.alarms)
        checks = ", ".join(f"{hc} ({role})" for role, hc in self.health_checks)
        return f"alarms {alarms}; health checks {checks}"

    def check(self) -> Signal | None:
        for role, name in self.alarms:
            signal = _alarm_signal(self.settings, role, name)
            if signal is not None:
                return signal
        for role, health_check_id in self.health_checks:
            signal = _health_check_signal(self.settings, role, health_check_id)
            if signal is not None:
                return signal
        return None


def region_health(settings: Settings, role: Role) -> Check:
    """A failover's check of the region it moves to: its alarm not firing, its health check healthy."""
    watch = Watch.of(settings, [role])
    signal = watch.check()
    return Check(f"{role} region health", "FAIL" if signal else "ok", str(signal) if signal else watch.describe())


def _outputs(settings: Settings) -> dict[str, Any]:
    """outputs/<env>.json, refreshed from the remote state when it lacks a compute or DNS stack."""
    return outputs_with(settings, [s.name for s in all_stacks() if s.layer in {"compute", "dns"}])


def _alarm_signal(settings: Settings, role: Role, name: str) -> Signal | None:
    region = settings.regions.of(role)
    alarm = describe_alarm(settings, region, name)
    if alarm is None:
        return Signal("alarm", name, role, region, "does not exist, so the region's health cannot be watched")
    if alarm["StateValue"] == ALARM_STATE:
        return Signal("alarm", name, role, region, f"in ALARM ({alarm.get('StateReason', 'no reason given')})")
    return None


def _health_check_signal(settings: Settings, role: Role, health_check_id: str) -> Signal | None:
    route53 = client(settings, "route53", settings.regions.primary)
    observations = route53.get_health_check_status(HealthCheckId=health_check_id)["HealthCheckObservations"]
    if is_healthy(observations) is False:  # None: a new health check has no observations yet
        healthy = succeeded(observations)
        return Signal(
            "health check",
            health_check_id,
            role,
            settings.regions.of(role),
            f"unhealthy: {healthy} of {len(observations)} Route 53 checkers report success",
        )
    return None


def _undeployed_changes(settings: Settings) -> list[str]:
    """DNS stacks whose synthesized configuration (without the weights) differs from their newest release."""
    changed = []
    for stack in DNS_STACKS:
        recorded = releases.list_releases(settings, stack)
        if recorded and recorded[-1].template_sha256 != template_sha256(stack_dir(stack)):
            changed.append(stack)
    return changed


def bake(
    watch: Watch, seconds: int, *, poll: float = POLL_SECONDS, sleep: Callable[[float], None] = time.sleep
) -> tuple[Signal | None, float]:
    """Poll the signals for `seconds` (once when 0); the first bad one ends the bake."""
    started = time.monotonic()
    deadline = started + seconds
    last_progress = started
    while True:
        signal = watch.check()
        now = time.monotonic()
        if signal is not None:
            return signal, now - started
        if now >= deadline:
            return None, now - started
        if now - last_progress >= PROGRESS_EVERY_SECONDS:
            console.say(f"    baking: {now - started:.0f}s of {seconds}s, all signals healthy")
            last_progress = now
        sleep(min(poll, max(deadline - now, 0.0)))


# -- applying a split ------------------------------------------------------------------------------------------


def apply_split(settings: Settings, state: TrafficState) -> bool:
    """Apply both DNS stacks with the persisted split (the deploy engine writes their tfvars from it).

    The two applies run side by side, each as its own `run_stacks` call: a weight change touches one
    record per stack and nothing dns-secondary reads from dns-primary, so the dependency that orders a
    first deploy does not apply here, and the split is half-changed for half as long.
    """
    for stack in DNS_STACKS:
        traffic_split.write_tfvars(stack, state.weights)
    quiet = Console.buffered()  # the engine's own summary is noise here; its progress lines are kept
    with ThreadPoolExecutor(max_workers=len(DNS_STACKS)) as pool:
        runs = [pool.submit(engine.run_stacks, settings, [stack], force=True, out=quiet) for stack in DNS_STACKS]
        results = [result for run in runs for result in run.result()]
    ok = all(r.ok for r in results)
    for line in quiet.lines():
        if not ok or line.startswith(("    [dns-", "    dns-")):
            console.say(line)
    return ok


@dataclass
class StepRow:
    step: str
    source: Split
    target: Split
    result: str
    apply_seconds: float = 0.0
    bake_seconds: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "from": self.source.as_dict(),
            "to": self.target.as_dict(),
            "apply_seconds": self.apply_seconds,
            "bake_seconds": self.bake_seconds,
            "result": self.result,
        }


def print_summary(rows: list[StepRow]) -> None:
    """The steps taken, as a table (or, with `--json`, as the command's JSON document)."""
    if console.json_mode:
        console.json({"steps": [r.as_json() for r in rows]})
        return
    header = f"{'step':<6} {'from':>8} {'to':>8} {'apply s':>8} {'bake s':>7}  result"
    lines = ["", "traffic split primary/secondary", header, "-" * (len(header) + 30)]
    for r in rows:
        baked = "-" if r.bake_seconds is None else f"{r.bake_seconds:.1f}"
        lines.append(f"{r.step:<6} {r.source!s:>8} {r.target!s:>8} {r.apply_seconds:>8.1f} {baked:>7}  {r.result}")
    console.say("\n".join(lines))


@dataclass
class Rollout:
    settings: Settings
    to: Role
    bake_seconds: int
    reason: str
    watch: Watch
    poll: float = POLL_SECONDS
    rows: list[StepRow] = field(default_factory=list)

    def step(self, state: TrafficState, label: str, last_good: Split, target: Split) -> bool:
        """Apply `target`, bake it; on a bad signal revert to `last_good`. Returns whether the step held."""
        console.say(f"[step {label}] {last_good} -> {target} (primary/secondary): applying {', '.join(DNS_STACKS)}")
        state.weights, state.status = target, "in_progress"
        state.rollout = {
            "to": self.to,
            "reason": self.reason,
            "last_good": last_good.as_dict(),
            "started_at": utc_now(),
        }
        traffic_split.write(self.settings, state)
        started = time.monotonic()
        applied = apply_split(self.settings, state)
        row = StepRow(label, last_good, target, "", time.monotonic() - started)
        self.rows.append(row)
        if not applied:
            row.result = "FAILED: apply"
            state.add_history(source=last_good, target=target, result="apply failed", reason=self.reason)
            self.revert(state, target, last_good, "the apply failed")
            return False
        console.say(f"[step {label}] applied in {row.apply_seconds:.1f}s; baking {self.bake_seconds}s")
        signal, row.bake_seconds = bake(self.watch, self.bake_seconds, poll=self.poll)
        if signal is not None:
            row.result = f"FAILED: {signal.kind} {signal.name} ({signal.region})"
            console.say(f"[step {label}] bad signal: {signal}")
            state.add_history(source=last_good, target=target, result="failed", reason=self.reason, signal=str(signal))
            self.revert(state, target, last_good, str(signal))
            return False
        row.result = "ok"
        state.add_history(source=last_good, target=target, result="ok", reason=self.reason)
        traffic_split.write(self.settings, state)
        console.say(f"[step {label}] {target} held for {row.bake_seconds:.1f}s: ok")
        return True

    def revert(self, state: TrafficState, bad: Split, last_good: Split, why: str) -> None:
        console.say(f"--> reverting to the last good split {last_good} (primary/secondary): {why}")
        state.weights = last_good
        traffic_split.write(self.settings, state)
        started = time.monotonic()
        reverted = apply_split(self.settings, state)
        self.rows.append(
            StepRow("revert", bad, last_good, "reverted" if reverted else "REVERT FAILED", time.monotonic() - started)
        )
        if reverted:
            state.status, state.rollout = "reverted", None
            state.add_history(source=bad, target=last_good, result="reverted", reason=self.reason, cause=why)
        else:
            # Still in progress: re-running the rollout (or `make deploy`) applies the last good split again.
            state.add_history(source=bad, target=last_good, result="revert failed", reason=self.reason, cause=why)
        traffic_split.write(self.settings, state)


def _stopped(run: Rollout, state: TrafficState) -> int:
    print_summary(run.rows)
    failed = next(r for r in reversed(run.rows) if r.result.startswith("FAILED"))
    stopped = f"{run.reason} to {run.to} stopped at {failed.target}: {failed.result}"
    if state.status == "reverted":
        console.say(f"{stopped}; traffic is back at {state.weights} (primary/secondary), status reverted")
    else:
        console.say(
            f"{stopped}; the revert to {state.weights} failed too, so the DNS stacks may disagree: fix the cause "
            "above, then run the same command again (it re-applies and bakes that split first) or `make deploy`"
        )
    return 1


def _ready_to_start(settings: Settings, state: TrafficState, watch_roles: Sequence[Role]) -> Watch | None:
    """The watch over the regions' signals when a rollout may start; None (after saying why) when it may not."""
    missing = [s for s in DNS_STACKS if not _outputs(settings).get(s, {}).get("health_check_id")]
    if missing:
        raise NotDeployedError(f"{', '.join(missing)} not deployed: deploy both regions before shifting traffic")
    pending = _undeployed_changes(settings)
    if pending:
        console.say(
            f"refusing to start: {', '.join(pending)} changed since the last apply (not just the split); "
            "deploy first (`make deploy`), so that a traffic step changes nothing but weights"
        )
        return None
    watch = Watch.of(settings, watch_roles)
    console.say(f"--> current split {state.weights} (primary/secondary), status {state.status}")
    console.say(f"--> watching {watch.describe()}")
    if settings.is_local:
        console.say(
            "--> note: the emulator answers GetHealthCheckStatus with a canned 'Success' (it probes nothing): "
            "locally only the alarms can stop a rollout"
        )
    signal = watch.check()
    if signal is not None:
        console.say(f"refusing to start: {signal}")
        return None
    return watch


def _resume(run: Rollout, state: TrafficState) -> Split | None:
    """The last good split to step from; an interrupted rollout to the same region re-applies and bakes its
    unconfirmed split first (None: that failed)."""
    if not (state.status == "in_progress" and state.rollout):
        return state.weights
    if state.rollout.get("to") != run.to:
        console.say(f"--> the rollout to {state.rollout.get('to')} stops here; starting from the current split")
        return state.weights
    console.say(f"--> resuming: {state.weights} was applied but never confirmed; applying and baking it again")
    last_good = Split.from_dict(state.rollout["last_good"])
    return state.weights if run.step(state, "resume", last_good, state.weights) else None


def _mark_stable(settings: Settings, state: TrafficState) -> None:
    state.status, state.rollout = "stable", None
    traffic_split.write(settings, state)


def execute(
    settings: Settings,
    *,
    to: Role,
    steps: Sequence[int],
    bake_seconds: int,
    reason: str = "rollout",
    watch_roles: Sequence[Role] = ROLES,
    poll: float = POLL_SECONDS,
) -> int:
    """The rollout itself (the caller holds the traffic lock)."""
    state = traffic_split.read(settings)
    watch = _ready_to_start(settings, state, watch_roles)
    if watch is None:
        return 1
    run = Rollout(settings, to, bake_seconds, reason, watch, poll)
    last_good = _resume(run, state)
    if last_good is None:
        return _stopped(run, state)
    plan = remaining_steps(state.weights, to, steps)
    if not plan:
        console.say(f"--> {to} already has {state.weights.share(to)}% of the traffic: nothing to apply")
        if state.status != "stable" or state.rollout:
            _mark_stable(settings, state)
        if console.json_mode:
            print_summary(run.rows)  # the resumed step, if any: a JSON reader always gets its document
        return 0
    console.say(f"--> {len(plan)} step(s) to {to}: {', '.join(str(s) for s in plan)} (primary/secondary)")
    for number, target in enumerate(plan, 1):
        if not run.step(state, f"{number}/{len(plan)}", last_good, target):
            return _stopped(run, state)
        last_good = target
    _mark_stable(settings, state)
    print_summary(run.rows)
    done = "rollout" if reason == "rollout" else f"{reason} traffic"
    console.say(f"{done} complete: {state.weights} (primary/secondary)")
    return 0


def run(settings: Settings, *, to: Role, steps: Sequence[int], bake_seconds: int) -> int:
    with locks.traffic_locked(settings, f"rollout to {to}"):
        return execute(settings, to=to, steps=steps, bake_seconds=bake_seconds)
