"""Apply and destroy stacks in dependency order, concurrently where the graph allows, with a summary table.

A stack is skipped as unchanged only when both hold: its synthesized
configuration (JSON and assets) is byte-identical to what its last successful
apply applied, and its remote state is still the (lineage, serial) that apply
left. Anything else plans and applies normally; `force` applies everything.

Before a stack is planned (or destroyed), every registered `before_stack` hook runs (not for a stack skipped as
unchanged, which plans nothing, so a no-op deploy makes no extra calls): a layer above this one (the CLI)
registers what must exist outside Terraform first (the API key secret's value and replica, `ops.keys`), so this
layer imports none of it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config.settings import Settings
from ops.build import graph
from ops.build.fingerprint import config_sha256
from ops.build.synth import synth
from ops.core import interrupt
from ops.core.aws_access import verify_access
from ops.core.clock import utc_now
from ops.core.console import Console, console
from ops.core.errors import OpsError, RefusedError, UsageError
from ops.core.paths import stack_dir
from ops.core.revision import git_revision
from ops.deploy import releases, schedule, stand_in
from ops.deploy.outputs import update_outputs
from ops.local import target as local_target
from ops.state import home, locks, serials, store, traffic_split
from ops.state.bootstrap import bootstrap_state
from ops.terraform.runner import StackTerraform, TerraformError
from ops.terraform.unlock import explain_lock_error

DEFAULT_PARALLELISM = 2  # sized for a 2-core machine: each apply runs a provider process per region

# (settings, stack, destroy) -> lines to show; raises OpsError to fail the stack before Terraform runs.
BeforeStack = Callable[[Settings, str, bool], list[str]]
_before_stack: list[BeforeStack] = []


def register_before_stack(hook: BeforeStack) -> None:
    """Run `hook` before each stack's plan/apply or destroy (registering the same hook twice runs it once)."""
    if hook not in _before_stack:
        _before_stack.append(hook)


def _run_before_stack(settings: Settings, stack: str, *, destroy: bool, out: Console) -> str | None:
    """Every hook for `stack`; the error's one line when one refuses."""
    try:
        for hook in _before_stack:
            for line in hook(settings, stack, destroy):
                out.say(f"    [{stack}] {line}")
    except OpsError as error:
        return str(error)
    return None


@dataclass
class StackResult:
    stack: str
    result: str
    added: int = 0
    changed: int = 0
    destroyed: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.result in {"ok", "unchanged"}


def parallelism() -> int:
    value = os.environ.get("PAYMENTS_PARALLELISM", str(DEFAULT_PARALLELISM))
    if not value.isdigit() or int(value) < 1:
        raise UsageError(f"PAYMENTS_PARALLELISM={value!r} must be a whole number >= 1, e.g. 2")
    return int(value)


def prepare(settings: Settings, *, synthesize: bool = True, converge: bool = True) -> Settings:
    """Start the emulator when the target is local; choose the state copy this command uses (`ops.state.home`; the
    returned settings carry it); bootstrap the local state home, or on aws check the credentials, the account and the
    state bucket before anything else; synthesize (the backend names the chosen copy) when sources changed.
    `converge=False` starts and bootstraps nothing (a region is lost: the local target stays as the outage left it,
    and no region is sent a request)."""
    if converge and settings.is_local:
        for line in local_target.up(settings):
            console.say(f"--> {line}")
    settings = home.select(settings)
    if not converge:
        pass
    elif settings.is_local and settings.state.home == "primary":  # a primary that does not answer cannot be converged
        for line in bootstrap_state(settings):
            console.say(f"--> {line}")
    elif not settings.is_local:
        verify_access(settings)
    if synthesize:
        console.say("--> synthesizing" if synth(settings) else "--> synthesized output is current (no source change)")
    return settings


def _progress(stack: str, out: Console) -> Callable[[dict[str, Any]], None]:
    symbols = {"create": "+", "update": "~", "delete": "-", "replace": "±"}

    def on_event(event: dict[str, Any]) -> None:
        hook = event.get("hook", {})
        action = hook.get("action", "")
        address = hook.get("resource", {}).get("addr", "?")
        if event.get("type") == "apply_complete" and action in symbols:
            out.say(f"    [{stack}] {symbols[action]} {address} ({hook.get('elapsed_seconds', 0)}s)")
        elif event.get("type") == "apply_errored":
            out.say(f"    [{stack}] ! {address} failed")

    return on_event


UNCHANGED_DIFF = (
    "{stack}: no changes. Its configuration, its state and the outputs it reads are exactly what its last apply "
    "left, so `make deploy` would skip it.\nChanges made outside Terraform were not looked for: "
    "`make diff STACK={stack} REFRESH=1` plans against the live resources, `make drift` checks every stack."
)


def configuration_applied(record: store.DeployRecord | None, stack: str) -> bool:
    """The synthesized configuration is the one the stack's last successful apply applied."""
    return record is not None and record.config_sha256 == config_sha256(stack_dir(stack))


def is_unchanged(settings: Settings, stack: str) -> bool:
    """Provably nothing to apply: the same configuration, the state the last apply left, and the same
    outputs of the stacks it reads (a dependency's new output would change this stack's plan)."""
    record = store.read_record(settings, stack)
    if record is None or not configuration_applied(record, stack):
        return False
    version = store.state_version(store.read_state(settings, stack))
    if version != store.StateVersion(record.lineage, record.serial):
        return False
    return record.inputs_sha256 == _inputs_sha256(settings, stack)


def _inputs_sha256(settings: Settings, stack: str) -> str:
    return store.inputs_sha256(settings, stack, graph.dependencies().get(stack, []))


def _after_apply(settings: Settings, stack: str, out: Console) -> dict[str, Any]:
    """Record the apply, journal its serial, publish its outputs; the outputs."""
    state = store.read_state(settings, stack)
    version = store.state_version(state)
    if version is not None:
        store.write_record(
            settings,
            store.DeployRecord(
                stack=stack,
                config_sha256=config_sha256(stack_dir(stack)),
                lineage=version.lineage,
                serial=version.serial,
                applied_at=utc_now(),
                revision=git_revision(),
                inputs_sha256=_inputs_sha256(settings, stack),
            ),
        )
        releases.record(settings, stack, version, out)
        _journal(settings, stack, version, out)
    outputs: dict[str, Any] = store.outputs(state)
    update_outputs(settings, {stack: outputs})
    return outputs


def _stand_in_follows(settings: Settings, stack: str, outputs: dict[str, Any] | None, out: Console) -> bool:
    """The local target's payment server stand-in follows compute's outputs (`ops.deploy.stand_in`; None: as the
    outputs file holds them); False (said why) when it could not: the stack is applied, but the local target does
    not serve it."""
    try:
        for line in stand_in.after_apply(settings, stack, outputs):
            out.say(f"    [{stack}] {line}")
    except (OpsError, BotoCoreError, ClientError) as error:
        out.say(f"==> {stack}: {error}")
        return False
    return True


def _journal(settings: Settings, stack: str, version: store.StateVersion | None, out: Console) -> None:
    """The serial just applied goes into the journal (`ops.state.serials`) and the state's digest to the other
    home's copy; a failure to write them is a warning: the apply itself succeeded."""
    if version is None:
        return
    try:
        serials.write(settings, stack, version)
        locks.mirror_digest(settings, stack)
    except (BotoCoreError, ClientError) as error:
        out.say(f"    warning: {stack}: state serial {version.serial} not journaled ({error})")


def _run_one(settings: Settings, stack: str, *, destroy: bool, force: bool, out: Console) -> StackResult:
    traffic_split.write_stack_tfvars(settings, stack)
    started = time.monotonic()
    if not destroy and not force and is_unchanged(settings, stack):
        out.say(f"==> {stack}: unchanged since its last apply (configuration, state serial and inputs match); skipped")
        # a stand-in that stopped meanwhile is started again: a deploy leaves the local target serving
        serving = _stand_in_follows(settings, stack, None, out)
        return StackResult(stack, "unchanged" if serving else "FAILED", seconds=time.monotonic() - started)
    try:
        serials.check_current(settings, stack)  # a replica copy behind the journal would re-create what exists
    except serials.StaleStateError as error:
        out.say(f"==> {error}")
        return StackResult(stack, "FAILED", seconds=time.monotonic() - started)
    refused = _run_before_stack(settings, stack, destroy=destroy, out=out)  # a skipped stack plans nothing
    if refused is not None:
        out.say(f"==> {stack}: {refused}")
        return StackResult(stack, "FAILED", seconds=time.monotonic() - started)
    out.say(f"==> {stack}: {'destroying' if destroy else 'applying'}")
    for line in stand_in.before_destroy(settings, stack) if destroy else []:
        out.say(f"    [{stack}] {line}")
    try:
        summary = StackTerraform(stack, settings, out).apply(destroy=destroy, on_event=_progress(stack, out))
    except interrupt.Interrupted:
        return StackResult(stack, "not run", seconds=time.monotonic() - started)
    except TerraformError as error:
        out.say(str(error))
        lock_line = explain_lock_error(stack, error)
        if lock_line:
            out.say(lock_line)
        result = "stopped" if interrupt.received() is not None else "FAILED"
        return StackResult(stack, result, seconds=time.monotonic() - started)
    if destroy:
        store.delete_record(settings, stack)
        _journal(settings, stack, store.state_version(store.read_state(settings, stack)), out)
        update_outputs(settings, {stack: None})
    serving = destroy or _stand_in_follows(settings, stack, _after_apply(settings, stack, out), out)
    elapsed = time.monotonic() - started
    out.say(f"    {stack}: {summary.add} added, {summary.change} changed, {summary.remove} destroyed in {elapsed:.1f}s")
    return StackResult(stack, "ok" if serving else "FAILED", summary.add, summary.change, summary.remove, elapsed)


def run_stacks(
    settings: Settings,
    stacks: list[str],
    *,
    destroy: bool = False,
    force: bool = False,
    workers: int | None = None,
    out: Console = console,
) -> list[StackResult]:
    """Run stacks as soon as what they wait for has succeeded (dependencies; dependants when destroying).
    Progress and the summary go to `out` (a buffered console runs the engine quietly)."""
    selected = set(stacks)
    deps = graph.dependencies()
    waits_for = {
        s: {d for d in deps[s] if d in selected} if not destroy else {x for x in selected if s in deps[x]}
        for s in stacks
    }

    def decide(stack: str, results: dict[str, StackResult]) -> StackResult | None:
        stopped = interrupt.received() is not None
        if stopped or any(w in results and not results[w].ok for w in waits_for[stack]):
            return StackResult(stack, "not run")
        return None

    work = partial(_run_one, settings, destroy=destroy, force=force, out=out)
    results = schedule.in_graph_order(stacks, waits_for, work, workers=workers or parallelism(), decide=decide)
    ordered = [results[s] for s in stacks]
    print_summary(ordered, out)
    return ordered


def print_summary(results: list[StackResult], out: Console = console) -> None:
    header = f"{'stack':<20} {'result':<9} {'added':>6} {'changed':>8} {'destroyed':>10} {'seconds':>8}"
    rule = "-" * len(header)
    lines = ["", header, rule]
    lines += [
        f"{r.stack:<20} {r.result:<9} {r.added:>6} {r.changed:>8} {r.destroyed:>10} {r.seconds:>8.1f}" for r in results
    ]
    totals = (sum(r.added for r in results), sum(r.changed for r in results), sum(r.destroyed for r in results))
    lines += [rule, f"{'total':<20} {'':<9} {totals[0]:>6} {totals[1]:>8} {totals[2]:>10} {'':>8}"]
    out.say("\n".join(lines))


def check_destroy_confirmed(settings: Settings, confirm: str) -> None:
    if settings.is_production and confirm != settings.environment:
        raise RefusedError(
            f"refusing to destroy {settings.environment} stacks without confirmation; "
            f"re-run with CONFIRM={settings.environment}"
        )


def check_no_dependants_left(settings: Settings, stacks: list[str]) -> None:
    leaving = set(stacks)
    for stack in stacks:
        blocking = [
            d
            for d in graph.dependants(stack)
            if d not in leaving and store.managed_resource_count(store.read_state(settings, d))
        ]
        if blocking:
            raise RefusedError(
                f"refusing to destroy {stack}: {', '.join(blocking)} still read its outputs; destroy them first"
            )


def exit_code(results: list[StackResult]) -> int:
    return 0 if all(r.ok for r in results) else 1


def summary_json(results: list[StackResult]) -> dict[str, Any]:
    """The summary table as data (`--json`)."""
    return {"stacks": [asdict(r) for r in results], "ok": all(r.ok for r in results)}
