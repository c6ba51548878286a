"""Keep the local target's payment server stand-ins (gap `ec2-user-data`, `ops.local.processor`) in step with
compute: after compute-<role> is applied (or found unchanged) with the ec2 runtime, the region's stand-in runs
the launch template's latest version; with the lambda runtime, or before compute is destroyed, none runs.

Compute's outputs say which runtime is deployed: `runtime`, and `launch_template_id` in ec2.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from config.settings import ROLES, Settings
from ops.core.errors import UsageError
from ops.deploy.outputs import read_outputs
from ops.local import processor
from shared.local_target import runs_processor_stand_in
from shared.processor_runtime import RUNTIMES
from shared.stack_id import StackId

RUNTIME_OUTPUT = "runtime"
LAUNCH_TEMPLATE_OUTPUT = "launch_template_id"
EC2 = RUNTIMES[1]


def _compute_region(settings: Settings, stack: str) -> str | None:
    """The region of a compute stack when the local target runs stand-ins; None for any other stack or target."""
    stack_id = StackId.parse(stack)
    if stack_id.layer != "compute" or not runs_processor_stand_in(settings):
        return None
    return settings.regions.of(stack_id.role)


def after_apply(settings: Settings, stack: str, outputs: Mapping[str, Any] | None) -> list[str]:
    """Start, restart or stop the region's stand-in as compute's outputs say (None: as the outputs file holds them);
    one line per thing done."""
    region = _compute_region(settings, stack)
    if region is None:
        return []
    if outputs is None:
        outputs = read_outputs(settings).get(stack) or {}
    if outputs.get(RUNTIME_OUTPUT) == EC2 and outputs.get(LAUNCH_TEMPLATE_OUTPUT):
        return [processor.start(settings, region, str(outputs[LAUNCH_TEMPLATE_OUTPUT]))]
    stopped = processor.stop(settings.local, region)  # the runtime went back to lambda
    return [stopped] if stopped else []


def before_destroy(settings: Settings, stack: str) -> list[str]:
    """Stop the region's stand-in before its compute goes."""
    region = _compute_region(settings, stack)
    stopped = processor.stop(settings.local, region) if region else None
    return [stopped] if stopped else []


ACTIONS = ("status", "start", "stop")


def command(settings: Settings, action: str) -> list[str]:
    """`python -m ops stand-in <action>`: each region's stand-in's status, or start it as compute's outputs say
    (what a deploy does), or stop it."""
    if action not in ACTIONS:
        raise UsageError(f"stand-in: action {action!r} is invalid: use one of {', '.join(ACTIONS)}")
    if not runs_processor_stand_in(settings):
        raise UsageError("stand-in: only the local target has stand-ins (gap ec2-user-data); on aws instances serve")
    lines: list[str] = []
    for role in ROLES:
        region = settings.regions.of(role)
        if action == "status":
            lines.append(processor.status(settings.local, region))
        elif action == "stop":
            lines.append(processor.stop(settings.local, region) or f"payment server stand-in ({region}): not running")
        else:
            stack = StackId("compute", role).name
            lines += after_apply(settings, stack, None) or [f"{stack} is not deployed with runtime ec2: no stand-in"]
    return lines
