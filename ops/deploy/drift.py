"""Drift: what changed outside Terraform, for every deployed stack, concurrently.

A stack has drifted when a refreshing plan of the configuration it was last applied with would change
something: Terraform would put back what someone changed by hand. A bare refresh-only plan is not the
test, because it also lists read-back normalizations that no plan acts on (a null `tags` read back as
`{}`, an EIP's association filled in after its NAT gateway was created), so every stack would look
drifted right after a clean deploy. A stack whose source changed since its last apply is reported as
`undeployed` (`make diff` shows that change), not as drift. The plans take no state lock (a report: it neither
waits for a running apply nor holds one up, and the pipeline's read-only plan role may run it).
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from config.settings import ROLES, Settings
from ops.build import graph
from ops.core.console import console
from ops.deploy.engine import configuration_applied, parallelism
from ops.state import store
from ops.terraform.runner import StackTerraform, TerraformError

PLANNED_OBJECT = re.compile(r"^\s+# (\S+) (?:will be|must be)", re.M)


@dataclass
class DriftResult:
    stack: str
    status: str  # "clean" | "drifted" | "undeployed" | "error"
    objects: list[str]
    seconds: float


def _check(settings: Settings, stack: str) -> DriftResult:
    started = time.monotonic()
    record = store.read_record(settings, stack)
    if record is not None and not configuration_applied(record, stack):
        return DriftResult(stack, "undeployed", [f"source changed since its last apply: make diff STACK={stack}"], 0.0)
    try:
        code, output = StackTerraform(stack, settings).plan(lock=False)
    except TerraformError as error:
        return DriftResult(stack, "error", [str(error).splitlines()[0]], time.monotonic() - started)
    clean = re.sub(r"\x1b\[[0-9;]*m", "", output)
    objects = PLANNED_OBJECT.findall(clean)
    return DriftResult(stack, "drifted" if code == 2 else "clean", objects, time.monotonic() - started)


def report(settings: Settings, *, as_json: bool = False) -> int:
    """Exit code 0 clean, 2 drifted, 1 when a plan failed; a table (or, `as_json`, a document) per stack."""
    deployed = [s for s in graph.stacks_of(ROLES) if store.managed_resource_count(store.read_state(settings, s))]
    results: list[DriftResult] = []
    if not deployed:
        console.say("nothing is deployed: no stack has resources in its state")
    else:
        console.say(f"--> refreshing plans of {len(deployed)} stacks, {parallelism()} at a time")
        with ThreadPoolExecutor(max_workers=parallelism()) as pool:
            results = list(pool.map(lambda s: _check(settings, s), deployed))
    code = 1 if any(r.status == "error" for r in results) else 2 if any(r.status == "drifted" for r in results) else 0
    if as_json:
        console.json({"stacks": [asdict(r) for r in results], "exit_code": code})
    elif results:
        console.say(f"\n{'stack':<20} {'status':<10} {'seconds':>8}  changed outside Terraform")
        for r in results:
            console.say(f"{r.stack:<20} {r.status:<10} {r.seconds:>8.1f}  {', '.join(r.objects) or '-'}")
    return code
