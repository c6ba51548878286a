"""`make plan-report`: what applying the current configuration would do to every stack, for a reviewer.

Stacks are taken in graph order and planned with bounded concurrency, a consumer only after its producers. A stack
the skip-unchanged machinery proves unchanged (`engine.is_unchanged`) is listed `unchanged` without a plan, unless
a producer's plan changes an output it reads: then it is planned against that producer's planned outputs
(`ops.deploy.plan_inputs`, terraform-cdk #2235). When an output it reads is unknown until the producer is applied,
it is not planned: `waits`, naming the producer and the outputs; a consumer of a stack that waits (or whose plan
failed) and reads it waits too. Plans take no state lock and write no state.

Statuses: unchanged | changes | no-changes | waits | error. Exit code 1 only when a plan failed; the report is
written either way.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config.settings import Settings
from ops.core.console import Console, console
from ops.core.errors import OpsError
from ops.core.paths import stack_dir
from ops.deploy import engine, schedule
from ops.deploy.plan_inputs import planned_state, private_workdir
from ops.deploy.plan_json import PlanFormatError, PlanSummary, parse
from ops.state import store, traffic_split
from ops.terraform.runner import StackTerraform, TerraformError

TERRAFORM_ERROR_LINE = re.compile(r"^(?:│ )?Error: .*$", re.M)


@dataclass
class StackReport:
    """One row of the report (no output values: they may be secrets)."""

    stack: str
    status: str
    add: int = 0
    change: int = 0
    destroy: int = 0
    replace: list[str] = field(default_factory=list)
    destroyed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)  # outputs the plan changes (names only)
    drift: list[dict[str, Any]] = field(default_factory=list)  # {address, action, attributes}
    waits_on: dict[str, list[str]] = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class Sources:
    """What the report reads and runs; `real_sources` for the platform, synthetic ones in unit tests."""

    # (stack, scratch dir, {producer: planned state}) -> `terraform show -json` of the stack's plan
    plan: Callable[[str, Path, dict[str, dict[str, Any]]], dict[str, Any]]
    unchanged: Callable[[str], bool]
    current_state: Callable[[str], dict[str, Any] | None]
    reads: Callable[[str, str], list[str]]  # (consumer, producer) -> the producer's outputs the consumer reads


def real_sources(settings: Settings, check: Callable[[Settings, str], None]) -> Sources:
    """The platform's: plans by `StackTerraform.plan_document`; `check` refuses a stack that cannot be planned yet
    (e.g. the API key a compute stack reads does not exist) with a one-line OpsError."""

    def prepared(stack: str) -> None:
        traffic_split.write_stack_tfvars(settings, stack)  # a DNS stack plans with the persisted split, as deploys do

    def plan(stack: str, scratch: Path, states: dict[str, dict[str, Any]]) -> dict[str, Any]:
        prepared(stack)
        check(settings, stack)
        terraform = StackTerraform(stack, settings, Console.buffered())
        terraform.init()  # before the copy: a first init writes the lock file the copy needs
        workdir = private_workdir(stack_dir(stack), scratch, states) if states else None
        return terraform.plan_document(scratch / f"{stack}.tfplan", workdir=workdir)

    def unchanged(stack: str) -> bool:
        prepared(stack)
        return engine.is_unchanged(settings, stack)

    def reads(consumer: str, producer: str) -> list[str]:
        return store.remote_output_reads((stack_dir(consumer) / "cdk.tf.json").read_text(), producer)

    return Sources(plan, unchanged, lambda stack: store.read_state(settings, stack), reads)


def error_line(error: Exception) -> str:
    """The first line of the error; for Terraform, with the first `Error:` line of its output."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if isinstance(error, TerraformError):
        found = TERRAFORM_ERROR_LINE.search(error.output)
        if found and found.group(0) not in first:
            return f"{first}: {found.group(0).removeprefix('│ ').strip()}"
    return first


def _from_plan(stack: str, plan: PlanSummary, seconds: float) -> StackReport:
    return StackReport(
        stack=stack,
        status="changes" if plan.has_changes else "no-changes",
        add=plan.add,
        change=plan.change,
        destroy=plan.destroy,
        replace=plan.replaced,
        destroyed=plan.destroyed,
        changed=plan.changed,
        created=plan.created,
        outputs=plan.changed_outputs,
        drift=[{"address": d.address, "action": d.action, "attributes": d.attributes} for d in plan.drift],
        seconds=seconds,
    )


class _Run:
    """One report: the reports and parsed plans of the stacks done so far."""

    def __init__(self, sources: Sources, dependencies: dict[str, list[str]], scratch: Path, out: Console) -> None:
        self.sources = sources
        self.dependencies = dependencies
        self.scratch = scratch
        self.out = out
        self.reports: dict[str, StackReport] = {}
        self.plans: dict[str, PlanSummary] = {}

    def inputs(self, stack: str) -> tuple[dict[str, list[str]], dict[str, dict[str, Any]]]:
        """(what it waits on, the planned states of the producers whose planned outputs it reads)."""
        waits_on: dict[str, list[str]] = {}
        states: dict[str, dict[str, Any]] = {}
        for producer in self.dependencies.get(stack, []):
            read = self.sources.reads(stack, producer)
            if not read or producer not in self.reports:  # a producer outside the report is taken as applied
                continue
            if self.reports[producer].status in ("waits", "error"):
                waits_on[producer] = read
                continue
            plan = self.plans.get(producer)
            if plan is None:
                continue
            unknown = [name for name in read if name in plan.unknown_outputs]
            if unknown:
                waits_on[producer] = unknown
            elif any(name in plan.changed_outputs for name in read):
                states[producer] = planned_state(self.sources.current_state(producer), plan)
        return waits_on, states

    def record(self, stack: str, outcome: tuple[StackReport, PlanSummary | None]) -> None:
        self.reports[stack], plan = outcome
        if plan is not None:
            self.plans[stack] = plan

    def one(self, stack: str) -> tuple[StackReport, PlanSummary | None]:
        started = time.monotonic()
        try:
            waits_on, states = self.inputs(stack)
            if waits_on:
                names = "; ".join(f"{p}: {', '.join(o)}" for p, o in waits_on.items())
                self.out.say(f"==> {stack}: waits (unknown until applied: {names})")
                return StackReport(stack, "waits", waits_on=waits_on), None
            if not states and self.sources.unchanged(stack):
                self.out.say(f"==> {stack}: unchanged since its last apply; not planned")
                return StackReport(stack, "unchanged", seconds=time.monotonic() - started), None
            against = f" against the planned outputs of {', '.join(sorted(states))}" if states else ""
            self.out.say(f"==> {stack}: planning{against}")
            plan = parse(self.sources.plan(stack, self.scratch, states))
        except (OpsError, TerraformError, PlanFormatError, BotoCoreError, ClientError, OSError) as error:
            self.out.say(f"==> {stack}: error: {error_line(error)}")
            return StackReport(stack, "error", error=error_line(error), seconds=time.monotonic() - started), None
        report = _from_plan(stack, plan, time.monotonic() - started)
        self.out.say(f"==> {stack}: {report.status} (+{report.add} ~{report.change} -{report.destroy})")
        return report, plan


def collect(
    stacks: list[str],
    dependencies: dict[str, list[str]],
    sources: Sources,
    *,
    workers: int,
    out: Console = console,
) -> list[StackReport]:
    """A report per stack, in the order of `stacks` (graph order), each decided once its producers are."""
    with tempfile.TemporaryDirectory(prefix="plan-report-") as scratch:  # mode 0700: plans hold secrets
        run = _Run(sources, dependencies, Path(scratch), out)
        selected = set(stacks)
        waits_for = {stack: {p for p in dependencies.get(stack, []) if p in selected} for stack in stacks}
        schedule.in_graph_order(stacks, waits_for, run.one, workers=workers, on_done=run.record)
        return [run.reports[s] for s in stacks]


def exit_code(reports: list[StackReport]) -> int:
    return 1 if any(r.status == "error" for r in reports) else 0
