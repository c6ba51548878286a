"""The migration runbook (seed 004): markdown from what is known at synth, plus live values when ops read them.

One text, two places: dns-primary exports it as its `migration_runbook` output (rendered at synth, no live values:
each says how to get them) and `make runbook` prints it with the values read from the deployed platform
(`ops.traffic.runbook`). Every command it shows is a `make` command; `tests/unit/test_runbook.py` maps each one to
the ops command line it runs and parses that with the CLI's own parser, so the runbook cannot drift from the tooling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from config.settings import ROLES, Role, Settings
from shared import monitoring_names, rollout_engine
from shared.api_names import entry_name
from shared.rollout_engine import Engine
from shared.stack_id import StackId

# The engine that runs in AWS first: on the real day it is the one to use.
ENGINES: tuple[Engine, ...] = tuple(sorted(rollout_engine.ENGINES, key=lambda engine: engine != "stepfunctions"))
PHASES = (25, 50, 75, 100)
BAKE_SECONDS = 300
LIVE_HINT = "run `make runbook` for live values"
EXPECTED_ALARM_STATE = "OK"


def unknown(why: object) -> str:
    """A value that could not be read, with the first line of the reason (shown as it is, never fatal)."""
    reason = str(why).strip().splitlines()[0] if str(why).strip() else type(why).__name__
    return f"unknown ({reason[:200]})"


@dataclass(frozen=True)
class Facts:
    """What the runbook knows without asking the platform: names and settings."""

    project: str
    environment: str
    target: str
    regions: Mapping[Role, str]
    entry_name: str
    state_machine: str
    state_machine_stack: str
    dns_stacks: tuple[str, ...]
    region_unhealthy_alarms: Mapping[Role, str]
    replication_lag_alarm: str
    replication_lag_threshold_ms: int
    dashboards: Mapping[Role, str]
    watched: tuple[tuple[str, str], ...]  # (alarm name, its region), as `monitoring_names.watched_alarms` lists them

    @classmethod
    def of(cls, settings: Settings) -> Facts:
        return cls(
            project=settings.project,
            environment=settings.environment,
            target=settings.target,
            regions={role: settings.regions.of(role) for role in ROLES},
            entry_name=entry_name(settings.dns),
            state_machine=rollout_engine.state_machine_name(settings),
            state_machine_stack=StackId("dns", "primary").name,
            dns_stacks=tuple(StackId("dns", role).name for role in ROLES),
            region_unhealthy_alarms={role: monitoring_names.region_unhealthy_alarm(settings, role) for role in ROLES},
            replication_lag_alarm=monitoring_names.replication_lag_alarm(settings),
            replication_lag_threshold_ms=settings.data.replication_lag_alarm_ms,
            dashboards={role: monitoring_names.dashboard_name(settings, role) for role in ROLES},
            watched=tuple(
                (name, settings.regions.of(role))
                for role in ROLES
                for name, _ in monitoring_names.watched_alarms(settings, role)
            ),
        )

    def alarms(self) -> list[tuple[str, str]]:
        """(alarm name, its region): the alarms a migration watches (the rollout engine's), region by region."""
        return list(self.watched)

    def dashboard_url(self, role: Role) -> str | None:
        """The CloudWatch console's page of a region's dashboard (the aws target only)."""
        if self.target != "aws":
            return None
        region = self.regions[role]
        return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={self.dashboards[role]}"


@dataclass(frozen=True)
class Live:
    """Values read from the deployed platform, each already worded (or `unknown(...)` when it could not be read)."""

    read_at: str
    replication_lag: str
    alarms: Mapping[str, str]  # alarm name -> state (OK, ALARM, INSUFFICIENT_DATA) or unknown (...)
    capacity: Mapping[Role, str]  # the region's cluster and health check
    split: str
    write_home: str

    @classmethod
    def not_read(cls, facts: Facts) -> Live:
        """What the synth-time rendering shows in place of each value."""
        return cls(
            read_at="",
            replication_lag=LIVE_HINT,
            alarms={name: LIVE_HINT for name, _ in facts.alarms()},
            capacity=dict.fromkeys(ROLES, LIVE_HINT),
            split=LIVE_HINT,
            write_home=LIVE_HINT,
        )


def synth_time(settings: Settings) -> str:
    """dns-primary's `migration_runbook` output: the runbook without live values."""
    return render(Facts.of(settings))


def render(facts: Facts, live: Live | None = None) -> str:
    sections = (
        _header(facts, live),
        _checklist(facts, live or Live.not_read(facts)),
        _phases(facts),
        _watch(facts),
        _rollback(facts),
        _database(facts),
        _afterwards(facts),
    )
    return "\n\n".join(sections) + "\n"


# -- pieces --------------------------------------------------------------------------------------------------------


def _cmd(command: str, note: str = "") -> tuple[str, str]:
    return command, note


def _code(commands: Sequence[tuple[str, str]]) -> str:
    width = max(len(command) for command, _ in commands)
    lines = [f"{command:<{width}}  # {note}" if note else command for command, note in commands]
    return "```\n" + "\n".join(line.rstrip() for line in lines) + "\n```"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _split_of(share: int) -> str:
    """The split (primary/secondary) with `share` percent in the secondary."""
    return f"{100 - share}/{share}"


def _rollout(engine: str, to: Role, steps: str, bake: int, *, hold: bool = False) -> str:
    return f"make rollout ENGINE={engine} TO={to} STEPS={steps} BAKE={bake}" + (" HOLD=yes" if hold else "")


# -- sections ------------------------------------------------------------------------------------------------------


def _header(facts: Facts, live: Live | None) -> str:
    primary, secondary = facts.regions["primary"], facts.regions["secondary"]
    source = f"Live values read at {live.read_at} (`make runbook`)." if live else f"Rendered at synth: {LIVE_HINT}."
    rows = [
        ("environment", f"{facts.environment} ({facts.project}, target {facts.target})"),
        ("regions", f"primary {primary}, secondary {secondary}"),
        ("API name (weighted records)", f"{facts.entry_name} (stacks {', '.join(facts.dns_stacks)})"),
        ("rollout engine (Step Functions)", f"{facts.state_machine} ({facts.state_machine_stack}, {primary})"),
        ("dashboards", ", ".join(f"{facts.dashboards[role]} ({facts.regions[role]})" for role in ROLES)),
        ("alarms watched", ", ".join(f"{name} ({region})" for name, region in facts.alarms())),
    ]
    return "\n\n".join(
        (
            f"# Migration runbook: {facts.project} {facts.environment}, {primary} -> {secondary}",
            source,
            f"Moves the traffic of `{facts.entry_name}` from the primary region ({primary}) to the secondary "
            f"({secondary}) in four phases ({' -> '.join(f'{p}%' for p in PHASES)}), each baked and watched; the "
            "database and the write home move separately, with `make failover`.",
            _table(("fact", "value"), rows),
        )
    )


def _checklist(facts: Facts, live: Live) -> str:
    rows = [
        (
            f"replication lag ({facts.regions['secondary']})",
            f"below {facts.replication_lag_threshold_ms} ms",
            live.replication_lag,
        ),
        *(
            (f"alarm {name} ({region})", EXPECTED_ALARM_STATE, live.alarms.get(name, unknown("not read")))
            for name, region in facts.alarms()
        ),
        *(
            (
                f"healthy capacity, {role} ({facts.regions[role]})",
                "cluster available, health check healthy",
                live.capacity.get(role, unknown("not read")),
            )
            for role in ROLES
        ),
        ("traffic split (primary/secondary)", "100/0, status stable (or the phase you resume from)", live.split),
        ("write home", "primary", live.write_home),
    ]
    commands = [
        _cmd("make runbook", "these values again, read now"),
        _cmd("make db-status", "the writer in the primary, the standby streaming, its lag"),
        _cmd("make write-home", "both regions name the primary"),
        _cmd("make state-status", "every stack's state current in both homes"),
        *(_cmd(f"make diff STACK={stack} REFRESH=1", "nothing but the split may differ") for stack in facts.dns_stacks),
        _cmd("make rollout-status", "no rollout running"),
    ]
    return "\n\n".join(
        (
            "## 1. Pre-migration checklist",
            _table(("check", "expected", "now"), rows),
            "Go on only when every row is as expected. The checks, one command each:",
            _code(commands),
            "A rollout refuses to start while a DNS stack has a change other than the split, or while a watched "
            "alarm is in ALARM; the Step Functions engine also checks the primary cluster, the write home and the "
            "alarms itself and snapshots the primary cluster before its first step.",
        )
    )


def _phases(facts: Facts) -> str:
    parts = [
        "## 2. The four phases",
        f"Each phase is one command; run it with either engine. `ENGINE=stepfunctions` starts the state machine "
        f"{facts.state_machine} in {facts.regions['primary']} (it runs on without this terminal; Ctrl-C detaches), "
        "`ENGINE=local` runs the same steps from this machine. `HOLD=yes` keeps the split at the phase until you "
        f"start the next one; each phase bakes {BAKE_SECONDS} s and reverts by itself when a watched alarm fires.",
    ]
    for number, share in enumerate(PHASES, 1):
        last = share == 100
        parts.append(f"### Phase {number}: {share}% to the secondary ({_split_of(share)} primary/secondary)")
        parts.append(
            _code([_cmd(_rollout(engine, "secondary", str(share), BAKE_SECONDS, hold=not last)) for engine in ENGINES])
        )
        parts.append(
            "Go on when the bake ended `ok`, every alarm is OK and the dashboards show errors and latency as before."
            if not last
            else "Done when the bake ended `ok`: the secondary serves all traffic; writes still go to the write home."
        )
    steps = ",".join(str(p) for p in PHASES)
    parts.append("### All four phases in one run")
    parts.append("Each step baked, no pause between them:")
    parts.append(_code([_cmd(_rollout(engine, "secondary", steps, BAKE_SECONDS)) for engine in ENGINES]))
    return "\n\n".join(parts)


def _watch(facts: Facts) -> str:
    rows = []
    for role in ROLES:
        url = facts.dashboard_url(role)
        rows.append((f"{role} ({facts.regions[role]})", facts.dashboards[role], url or "local target: no console"))
    fires = {
        **dict.fromkeys(
            facts.region_unhealthy_alarms.values(),
            "the bake reverts the step (Step Functions: the execution fails with AlarmFired)",
        ),
        facts.replication_lag_alarm: "the secondary's region-unhealthy fires with it; no rollout starts while it does",
    }
    alarms = [(name, region, fires[name]) for name, region in facts.alarms()]
    return "\n\n".join(
        (
            "## 3. During each bake: what to watch",
            _table(("region", "dashboard", "console"), rows),
            _table(("alarm", "region", "when it fires"), alarms),
            _code(
                [
                    _cmd("make rollout-status", "the execution's step, its bake, the split"),
                    _cmd("make runbook", "alarm states, lag, capacity and split, read now"),
                    _cmd("make db-status", "replication lag of the standby"),
                    _cmd("make write-home", "each region's view of the write home"),
                ]
            ),
        )
    )


def _rollback(facts: Facts) -> str:
    back = [_cmd(_rollout(engine, "primary", "100", 0), f"{engine} engine") for engine in ENGINES]
    return "\n\n".join(
        (
            "## 4. Rollback at any phase",
            "A watched alarm firing during a bake reverts to the last good split by itself. To stop a Step "
            "Functions rollout yourself (it stops the execution, restores the last good split, releases the lock):",
            _code([_cmd("make rollout-abort", "asks first; YES=1 does not")]),
            "To take all traffic back to the primary from any phase, or after phase 4:",
            _code(back),
            f"Traffic phases move neither the database nor the write home, so nothing else needs undoing; "
            f"`make diff STACK={facts.state_machine_stack} REFRESH=1` shows that the records carry the split.",
        )
    )


def _database(facts: Facts) -> str:
    primary, secondary = facts.regions["primary"], facts.regions["secondary"]
    return "\n\n".join(
        (
            "## 5. Database failover and failback",
            f"After phase 4 the writer is still in the primary ({primary}): the secondary redirects writes there. "
            f"To move the writer and the write home to the secondary ({secondary}), and back:",
            _code(
                [
                    _cmd("make failover", "fence, Aurora switchover, write home and all traffic to the secondary"),
                    _cmd("make db-status", "the writer is in the secondary"),
                    _cmd("make write-home", "both regions name the secondary"),
                    _cmd("make failback", "the same steps back to the primary"),
                ]
            ),
            "Only when the primary region is lost (may lose the writes it had not replicated, about a second):",
            _code(
                [
                    _cmd("make failover UNPLANNED=yes", "runs from the secondary alone"),
                    _cmd("make rejoin", "once the lost region answers: it follows the survivor"),
                ]
            ),
        )
    )


def _afterwards(facts: Facts) -> str:
    return "\n\n".join(
        (
            "## 6. Afterwards",
            _code(
                [
                    *(
                        _cmd(f"make diff STACK={stack} REFRESH=1", "no change: the records match")
                        for stack in facts.dns_stacks
                    ),
                    _cmd("make drift", "nothing changed outside Terraform"),
                ]
            ),
        )
    )
