"""Drift: refresh-only plans of every deployed stack, run concurrently; what changed outside Terraform."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from config.settings import Settings
from ops import graph, state_store
from ops.deploy import parallelism, say
from ops.terraform import StackTerraform, TerraformError

CHANGED_OBJECT = re.compile(r"^\s+# (\S+) has (?:been )?(?:changed|deleted)", re.M)


@dataclass
class DriftResult:
    stack: str
    status: str  # "clean" | "drifted" | "error"
    objects: list[str]
    seconds: float


def _check(settings: Settings, stack: str) -> DriftResult:
    started = time.monotonic()
    try:
        code, output = StackTerraform(stack, settings).plan(refresh_only=True)
    except TerraformError as error:
        return DriftResult(stack, "error", [str(error).splitlines()[0]], time.monotonic() - started)
    clean = re.sub(r"\x1b\[[0-9;]*m", "", output)
    objects = CHANGED_OBJECT.findall(clean)
    return DriftResult(stack, "drifted" if code == 2 else "clean", objects, time.monotonic() - started)


def report(settings: Settings) -> int:
    deployed = [
        s
        for s in graph.stacks_of(("primary", "secondary"))
        if state_store.managed_resource_count(state_store.read_state(settings, s))
    ]
    if not deployed:
        say("nothing is deployed: no stack has resources in its state")
        return 0
    say(f"--> refresh-only plans of {len(deployed)} stacks, {parallelism()} at a time")
    with ThreadPoolExecutor(max_workers=parallelism()) as pool:
        results = list(pool.map(lambda s: _check(settings, s), deployed))
    say(f"\n{'stack':<20} {'status':<8} {'seconds':>8}  changed outside Terraform")
    for r in results:
        say(f"{r.stack:<20} {r.status:<8} {r.seconds:>8.1f}  {', '.join(r.objects) or '-'}")
    if any(r.status == "error" for r in results):
        return 1
    return 2 if any(r.status == "drifted" for r in results) else 0
