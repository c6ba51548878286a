"""The migration runbook (seed 004): every section from the facts and the live values, and every command it shows
is one the tooling really runs.

Drift: each `make ...` command of the runbook (rendered with and without live values) is turned into the ops command
line its recipe runs (`make -n -o install`: printed, never run, and `install`, which may run npm ci, never remade),
and that line is parsed by the CLI's own parser (`ops.cli.main.parser`); a rollout's values go through the rollout's
own argument checks too. Every variable a command sets must change the ops command line (a variable the recipe
ignores is a silent no-op for the operator).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from functools import cache

import pytest

from config import load_settings
from config.settings import ROLES, Settings
from harness.platform import free_port
from ops.cli.main import parser
from ops.core.aws_clients import client
from ops.traffic import rollout
from ops.traffic import runbook as live_runbook
from shared import runbook
from shared.runbook import ENGINES, LIVE_HINT, PHASES, Facts, Live
from shared.write_home import parameter_name
from tests.support import ROOT, Synth, put_alarm
from tests.unit.private_emulator import private_emulator

MIN_COMMANDS = 10  # count guard: the runbook names at least this many commands


def settings_for(**overrides: str) -> Settings:
    return load_settings(environ={"PAYMENTS_DOTENV": "none", **overrides})


LOCAL = settings_for()
AWS = settings_for(
    PAYMENTS_TARGET="aws", PAYMENTS_AWS_ACCOUNT_ID="111122223333", PAYMENTS_DNS_ZONE_NAME="payments.acme-payments.com"
)
FACTS = Facts.of(LOCAL)
FAKE_LIVE = Live(
    read_at="2026-12-02T18:00:00+00:00",
    replication_lag="42 ms (the highest of the last 5 minutes, payments-dev-secondary-aurora)",
    alarms={
        "payments-dev-primary-region-unhealthy": "OK",
        "payments-dev-secondary-region-unhealthy": "ALARM",
        "payments-dev-secondary-aurora-replication-lag": "unknown (no alarm in eu-west-1)",
    },
    capacity={
        "primary": "cluster payments-dev-primary-aurora is available; health check hc-1 healthy (3 of 3 checkers)",
        "secondary": "cluster payments-dev-secondary-aurora is available; health check hc-2 healthy (2 of 3 checkers)",
    },
    split="75/25, status in_progress",
    write_home="primary (us-east-1)",
)


def section(markdown: str, heading: str) -> str:
    """The text under `heading` up to the next heading of the same or a higher level."""
    level = heading.split(" ", maxsplit=1)[0]
    start = markdown.index(heading + "\n")
    rest = markdown[start + len(heading) :]
    ends = [m.start() for m in re.finditer(rf"^#{{1,{len(level)}}} ", rest, re.MULTILINE)]
    return rest[: ends[0]] if ends else rest


def commands(markdown: str) -> list[str]:
    """Every make command: each `make ...` line of a code block (its `# note` removed) and each inline `make ...`."""
    found: list[str] = []
    fenced = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced and line.startswith("make "):
            found.append(line.split("  #", 1)[0].strip())
        elif not fenced:
            found += re.findall(r"`(make [^`]+)`", line)
    return list(dict.fromkeys(found))


# -- the renderer ----------------------------------------------------------------------------------------------


def test_sections_in_order() -> None:
    text = runbook.render(FACTS, FAKE_LIVE)
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings[0] == "# Migration runbook: payments dev, us-east-1 -> eu-west-1"
    assert [h for h in headings if h.startswith("## ")] == [
        "## 1. Pre-migration checklist",
        "## 2. The four phases",
        "## 3. During each bake: what to watch",
        "## 4. Rollback at any phase",
        "## 5. Database failover and failback",
        "## 6. Afterwards",
    ]
    assert [h for h in headings if h.startswith("### ")] == [
        "### Phase 1: 25% to the secondary (75/25 primary/secondary)",
        "### Phase 2: 50% to the secondary (50/50 primary/secondary)",
        "### Phase 3: 75% to the secondary (25/75 primary/secondary)",
        "### Phase 4: 100% to the secondary (0/100 primary/secondary)",
        "### All four phases in one run",
    ]


def checklist_rows(text: str) -> dict[str, tuple[str, str]]:
    rows = [line for line in section(text, "## 1. Pre-migration checklist").splitlines() if line.startswith("| ")]
    cells = [[c.strip() for c in row.strip("|").split(" | ")] for row in rows[1:]]
    return {check: (expected, now) for check, expected, now in cells}


def test_checklist_shows_each_live_value_in_its_row() -> None:
    rows = checklist_rows(runbook.render(FACTS, FAKE_LIVE))
    assert rows["replication lag (eu-west-1)"] == ("below 1000 ms", FAKE_LIVE.replication_lag)
    for name, state in FAKE_LIVE.alarms.items():
        region = "us-east-1" if "-primary-" in name else "eu-west-1"
        assert rows[f"alarm {name} ({region})"] == ("OK", state)
    assert rows["healthy capacity, primary (us-east-1)"][1] == FAKE_LIVE.capacity["primary"]
    assert rows["healthy capacity, secondary (eu-west-1)"][1] == FAKE_LIVE.capacity["secondary"]
    assert rows["traffic split (primary/secondary)"][1] == "75/25, status in_progress"
    assert rows["write home"] == ("primary", "primary (us-east-1)")
    assert len(rows) == 8


def test_live_rendering_says_when_it_was_read() -> None:
    text = runbook.render(FACTS, FAKE_LIVE)
    assert "Live values read at 2026-12-02T18:00:00+00:00 (`make runbook`)." in text
    assert LIVE_HINT not in text


def test_synth_time_rendering_points_at_make_runbook_for_every_value() -> None:
    text = runbook.render(FACTS)
    rows = checklist_rows(text)
    assert len(rows) == 8
    assert {now for _, now in rows.values()} == {LIVE_HINT}
    assert f"Rendered at synth: {LIVE_HINT}." in text
    assert "Live values read at" not in text


def test_facts_name_the_platforms_resources() -> None:
    header = section(runbook.render(FACTS), "# Migration runbook: payments dev, us-east-1 -> eu-west-1")
    assert "| rollout engine (Step Functions) | payments-dev-primary-rollout (dns-primary, us-east-1) |" in header
    assert "api.payments-dev.example.internal (stacks dns-primary, dns-secondary)" in header
    assert "payments-dev-primary-payments (us-east-1), payments-dev-secondary-payments (eu-west-1)" in header


@pytest.mark.parametrize(("number", "share"), list(enumerate(PHASES, 1)))
def test_each_phase_has_one_command_per_engine(number: int, share: int) -> None:
    split = f"{100 - share}/{share}"
    text = section(runbook.render(FACTS), f"### Phase {number}: {share}% to the secondary ({split} primary/secondary)")
    hold = " HOLD=yes" if share < 100 else ""
    assert commands(text) == [
        f"make rollout ENGINE={engine} TO=secondary STEPS={share} BAKE=300{hold}" for engine in ENGINES
    ]


def test_both_engines_for_the_whole_rollout_and_the_way_back() -> None:
    found = commands(runbook.render(FACTS))
    for engine in ("stepfunctions", "local"):
        assert f"make rollout ENGINE={engine} TO=secondary STEPS=25,50,75,100 BAKE=300" in found
        assert f"make rollout ENGINE={engine} TO=primary STEPS=100 BAKE=0" in found


def test_watch_rollback_and_database_sections() -> None:
    text = runbook.render(FACTS)
    watch = section(text, "## 3. During each bake: what to watch")
    assert "| primary (us-east-1) | payments-dev-primary-payments | local target: no console |" in watch
    for name, region in FACTS.alarms():
        assert f"| {name} | {region} |" in watch
    assert {"make rollout-status", "make runbook"} <= set(commands(watch))
    assert "make rollout-abort" in commands(section(text, "## 4. Rollback at any phase"))
    database = commands(section(text, "## 5. Database failover and failback"))
    assert {"make failover", "make failback", "make failover UNPLANNED=yes", "make rejoin"} <= set(database)
    assert "make diff STACK=dns-primary REFRESH=1" in commands(section(text, "## 6. Afterwards"))


def test_aws_target_links_each_dashboard_in_its_region() -> None:
    watch = section(runbook.render(Facts.of(AWS)), "## 3. During each bake: what to watch")
    for role in ROLES:
        region, name = AWS.regions.of(role), f"payments-dev-{role}-payments"
        assert (
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={name}" in watch
        )


def test_no_terraform_interpolation_in_the_output_text() -> None:
    """The synth-time rendering is a Terraform output's value: `${` or `%{` would be read as a template."""
    for facts in (FACTS, Facts.of(AWS)):
        text = runbook.render(facts)
        assert "${" not in text
        assert "%{" not in text


def test_unknown_keeps_the_first_line_of_the_reason() -> None:
    assert runbook.unknown(RuntimeError("no route\nmore")) == "unknown (no route)"
    assert runbook.unknown(KeyError()) == "unknown (KeyError)"


def test_dns_primary_exports_the_synth_time_rendering(local_dev: Synth) -> None:
    output = local_dev.outputs("dns-primary")["migration_runbook"]
    assert output["value"] == runbook.synth_time(LOCAL)
    assert "migration_runbook" not in local_dev.outputs("dns-secondary")


# -- the live values -------------------------------------------------------------------------------------------


def test_a_value_that_cannot_be_read_is_unknown_not_fatal() -> None:
    def broken() -> str:
        raise ConnectionError("region down")

    assert live_runbook.read_or_unknown(broken) == "unknown (region down)"


@pytest.fixture(scope="module")
def emulated() -> Iterator[Settings]:
    """A private emulator holding the alarms, both write-home views and a persisted split; nothing deployed."""
    with private_emulator() as settings:
        facts = Facts.of(settings)
        for name, region in facts.alarms():
            put_alarm(client(settings, "cloudwatch", region), name)
        firing = facts.region_unhealthy_alarms["secondary"]
        client(settings, "cloudwatch", settings.regions.secondary).set_alarm_state(
            AlarmName=firing, StateValue="ALARM", StateReason="test"
        )
        for role in ROLES:
            client(settings, "ssm", settings.regions.of(role)).put_parameter(
                Name=parameter_name(settings, role), Value="primary", Type="String"
            )
        s3 = client(settings, "s3", settings.regions.primary)
        s3.create_bucket(Bucket=settings.state_bucket)
        split = {"weights": {"primary": 75, "secondary": 25}, "status": "in_progress"}
        s3.put_object(
            Bucket=settings.state_bucket, Key=f"{settings.environment}/traffic/split.json", Body=json.dumps(split)
        )
        yield settings


def test_live_values_read_from_the_platform(emulated: Settings) -> None:
    facts = Facts.of(emulated)
    live = live_runbook.gather(emulated, facts)
    firing = facts.region_unhealthy_alarms["secondary"]
    assert set(live.alarms) == {name for name, _ in facts.alarms()}
    assert live.alarms[firing] == "ALARM"
    assert {state for name, state in live.alarms.items() if name != firing} <= {"OK", "INSUFFICIENT_DATA"}
    assert live.write_home == "primary (us-east-1)"
    assert live.split == "75/25, status in_progress"
    for role in ROLES:  # nothing deployed: no cluster, no health check
        assert live.capacity[role].startswith("unknown (")
    rows = checklist_rows(runbook.render(facts, live))
    assert rows["write home"][1] == "primary (us-east-1)"


def test_an_alarm_that_does_not_exist_is_unknown(emulated: Settings) -> None:
    state = live_runbook.alarm_state(emulated, emulated.regions.primary, "payments-dev-primary-no-such-alarm")
    assert state == "unknown (no alarm payments-dev-primary-no-such-alarm in us-east-1)"


def test_the_command_renders_with_every_value_unknown_and_exits_0() -> None:
    """Nothing answers on the chosen port: every live value is unknown, the runbook is printed all the same."""
    environ = {**os.environ, "PAYMENTS_DOTENV": "none", "PAYMENTS_LOCAL_PORT": str(free_port())}
    result = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-m", "ops", "runbook"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = checklist_rows(result.stdout)
    assert len(rows) == 8
    assert rows["write home"][1].startswith("unknown (")
    assert result.stdout.startswith("# Migration runbook: payments dev")


# -- drift: every command the runbook shows is one the tooling runs ---------------------------------------------


def renderings() -> dict[str, str]:
    return {"synth": runbook.render(FACTS), "live": runbook.render(FACTS, FAKE_LIVE)}


MAKE_ENV = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "LC_ALL": "C"}


@cache
def ops_argv(target: str, variables: tuple[str, ...]) -> tuple[str, ...] | None:
    """The ops command line `make <target> <variables>` runs (None: make has no such target or refuses)."""
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", "-o", "install", target, *variables],
        cwd=ROOT,
        env=MAKE_ENV,  # no make variable leaks in from the environment running the tests
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        return None
    lines = [line.split(" -m ops ", 1)[1] for line in result.stdout.splitlines() if " -m ops " in line]
    assert len(lines) == 1, f"make {target}: expected one ops command line, found {result.stdout!r}"
    return tuple(shlex.split(lines[0]))


def problems(command: str) -> list[str]:
    """What is wrong with one runbook command (empty: its recipe runs an ops command line the CLI accepts)."""
    _, target, *variables = shlex.split(command)
    assert all(re.fullmatch(r"[A-Z_]+=\S*", v) for v in variables), f"{command}: only VAR=value may follow the target"
    argv = ops_argv(target, tuple(variables))
    if argv is None:
        return [f"{command}: the Makefile has no target {target!r}"]
    try:
        args = parser().parse_args(list(argv))
    except SystemExit:
        return [f"{command}: `python -m ops {shlex.join(argv)}` does not parse"]
    found = []
    if args.command == "rollout":
        try:
            rollout.parse_to(args.to)
            rollout.parse_steps(args.steps, hold=rollout.parse_hold(args.hold))
            rollout.parse_bake(args.bake)
        except rollout.ArgumentError as error:
            found.append(f"{command}: {error}")
    for variable in variables:
        without = tuple(v for v in variables if v != variable)
        if ops_argv(target, without) == argv:
            found.append(f"{command}: {variable} changes nothing in `python -m ops {shlex.join(argv)}`")
    return found


@pytest.mark.parametrize("rendering", ["synth", "live"])
def test_every_runbook_command_runs_an_ops_command_the_cli_accepts(rendering: str) -> None:
    found = commands(renderings()[rendering])
    assert len(found) >= MIN_COMMANDS, f"count guard: expected at least {MIN_COMMANDS} commands, found {found}"
    checked = list(dict.fromkeys(found))
    assert any(c.startswith("make rollout ") for c in checked), "count guard: no rollout command was checked"
    failed = [problem for command in checked for problem in problems(command)]
    assert not failed, "\n".join(failed)


def test_the_drift_check_catches_a_broken_command() -> None:
    """The check itself: an unknown target, a value the CLI refuses and a variable the recipe ignores all fail."""
    assert problems("make no-such-target") == ["make no-such-target: the Makefile has no target 'no-such-target'"]
    assert problems("make rollout TO=secondary STEPS=25 BAKE=300")[0].startswith(
        "make rollout TO=secondary STEPS=25 BAKE=300: rollout: STEPS='25' is invalid"
    )
    assert problems("make failover NOPE=1") == [
        "make failover NOPE=1: NOPE=1 changes nothing in `python -m ops failover --bake '' --unplanned ''`"
    ]
    assert problems("make diff STACK=dns-primary REFRESH=1") == []


def test_the_documented_session_is_what_the_renderer_writes() -> None:
    """docs/runbook.md shows a `make runbook` session: its headings and commands are lines of the rendering."""
    document = (ROOT / "docs" / "runbook.md").read_text()
    session = document.split("$ make runbook\n", 1)[1].split("\n````", 1)[0]
    rendered = set(runbook.render(FACTS, FAKE_LIVE).splitlines())
    shown = [line for line in session.splitlines() if line.startswith(("#", "make ", "| fact", "| check"))]
    assert len(shown) >= 10, f"count guard: {shown}"
    assert [line for line in shown if line not in rendered] == []


def test_the_names_it_watches_are_the_ones_the_stacks_create(local_dev: Synth) -> None:
    """Alarms and dashboards are named, not read from a stack: each must be a resource of its compute stack."""
    for name, region in FACTS.alarms():
        role = "primary" if region == LOCAL.regions.primary else "secondary"
        alarms = local_dev.resources(f"compute-{role}", "aws_cloudwatch_metric_alarm")
        assert name in {alarm["alarm_name"] for alarm in alarms.values()}, name
    for role in ROLES:
        dashboard = local_dev.resource(f"compute-{role}", "aws_cloudwatch_dashboard")
        assert dashboard["dashboard_name"] == FACTS.dashboards[role]
