"""Deploy and destroy stacks in dependency order, with per-stack progress and a summary table."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.settings import Settings
from ops import emulator, graph
from ops.bootstrap import bootstrap_state
from ops.paths import outputs_dir
from ops.synth import synth
from ops.terraform import StackTerraform, TerraformError


@dataclass
class StackResult:
    stack: str
    result: str
    added: int = 0
    changed: int = 0
    destroyed: int = 0
    seconds: float = 0.0


def say(message: str) -> None:
    print(message, flush=True)


def prepare(settings: Settings, *, synthesize: bool = True) -> None:
    """Start and bootstrap the emulator when the target is local; synthesize when sources changed."""
    if settings.is_local:
        say(f"--> {emulator.up(settings.local)}")
        for line in bootstrap_state(settings):
            say(f"--> {line}")
    if synthesize:
        say("--> synthesizing" if synth(settings) else "--> synthesized output is current (no source change)")


def _progress(stack: str) -> Callable[[dict[str, Any]], None]:
    def on_event(event: dict[str, Any]) -> None:
        kind = event.get("type")
        hook = event.get("hook", {})
        if kind == "apply_complete":
            action = hook.get("action", "")
            symbol = {"create": "+", "update": "~", "delete": "-", "replace": "±"}.get(action, "*")
            address = hook.get("resource", {}).get("addr", "?")
            say(f"    {symbol} {address} ({hook.get('elapsed_seconds', 0)}s)")
        elif kind == "apply_errored":
            say(f"    ! {hook.get('resource', {}).get('addr', '?')} failed")

    return on_event


def run_stacks(settings: Settings, stacks: list[str], *, destroy: bool = False) -> list[StackResult]:
    results: list[StackResult] = []
    verb = "destroying" if destroy else "applying"
    for index, stack in enumerate(stacks, start=1):
        say(f"==> [{index}/{len(stacks)}] {stack}: {verb}")
        started = time.monotonic()
        try:
            summary = StackTerraform(stack, settings).apply(destroy=destroy, on_event=_progress(stack))
        except TerraformError as error:
            results.append(StackResult(stack, "FAILED", seconds=time.monotonic() - started))
            say(str(error))
            results += [StackResult(rest, "not run") for rest in stacks[index:]]
            break
        elapsed = time.monotonic() - started
        results.append(StackResult(stack, "ok", summary.add, summary.change, summary.remove, elapsed))
        say(f"    {stack}: {summary.add} added, {summary.change} changed, {summary.remove} destroyed in {elapsed:.1f}s")
        if not destroy:
            record_outputs(settings, stack)
    if destroy:
        forget_outputs(settings, [r.stack for r in results if r.result == "ok"])
    print_summary(results)
    return results


def print_summary(results: list[StackResult]) -> None:
    header = f"{'stack':<20} {'result':<8} {'added':>6} {'changed':>8} {'destroyed':>10} {'seconds':>8}"
    say("")
    say(header)
    say("-" * len(header))
    for r in results:
        say(f"{r.stack:<20} {r.result:<8} {r.added:>6} {r.changed:>8} {r.destroyed:>10} {r.seconds:>8.1f}")
    total = sum(r.seconds for r in results)
    say("-" * len(header))
    say(
        f"{'total':<20} {'':<8} {sum(r.added for r in results):>6} {sum(r.changed for r in results):>8} "
        f"{sum(r.destroyed for r in results):>10} {total:>8.1f}"
    )


def outputs_file(settings: Settings) -> Path:
    return outputs_dir() / f"{settings.environment}.json"


def _read_outputs(settings: Settings) -> dict[str, Any]:
    path = outputs_file(settings)
    return json.loads(path.read_text()) if path.exists() else {}


def _write_outputs(settings: Settings, data: dict[str, Any]) -> None:
    outputs_dir().mkdir(parents=True, exist_ok=True)
    path = outputs_file(settings)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(sorted(data.items())), indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def record_outputs(settings: Settings, stack: str) -> None:
    data = _read_outputs(settings)
    data[stack] = {
        k: v for k, v in StackTerraform(stack, settings).outputs().items() if not k.startswith("cross-stack-output-")
    }
    _write_outputs(settings, data)


def forget_outputs(settings: Settings, stacks: list[str]) -> None:
    data = _read_outputs(settings)
    for stack in stacks:
        data.pop(stack, None)
    _write_outputs(settings, data)


def refresh_outputs(settings: Settings) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for stack in graph.stacks_of(("primary", "secondary")):
        values = StackTerraform(stack, settings).outputs()
        if values:
            data[stack] = {k: v for k, v in values.items() if not k.startswith("cross-stack-output-")}
    _write_outputs(settings, data)
    return data


def check_destroy_allowed(settings: Settings, stacks: list[str], confirm: str) -> None:
    if settings.is_production and confirm != settings.environment:
        raise SystemExit(
            f"refusing to destroy {settings.environment} stacks without confirmation; "
            f"re-run with CONFIRM={settings.environment}"
        )
    leaving = set(stacks)
    for stack in stacks:
        blocking = [
            d for d in graph.dependants(stack) if d not in leaving and StackTerraform(d, settings).resource_count()
        ]
        if blocking:
            raise SystemExit(
                f"refusing to destroy {stack}: {', '.join(blocking)} still read its outputs; destroy them first"
            )


def exit_code(results: list[StackResult]) -> int:
    return 0 if all(r.result == "ok" for r in results) else 1
