"""A consumer planned against its producers' *planned* outputs (terraform-cdk issue #2235), not their applied ones.

cdktf wires a consumer to a producer through `data.terraform_remote_state.cross-stack-reference-input-<producer>`,
which reads the producer's applied state: a plan of the consumer alone cannot see an output the producer's pending
change adds or alters. So the consumer is planned in a private copy of its directory (cdktf.out is never written:
skip-unchanged hashes it and other commands run there) with an override file that points that remote state at a
local state file holding the producer's outputs as its plan leaves them.

- Override files: Terraform loads `*_override.tf.json` after the other files and, within a block, replaces each
  argument the override sets (https://developer.hashicorp.com/terraform/language/files/override): `backend` and
  the whole `config` object are replaced; `workspace` stays.
- terraform_remote_state with `backend = "local"` reads `config.path`
  (https://developer.hashicorp.com/terraform/language/backend/local). Its `defaults` argument is not used: a
  default would plan the consumer against a made-up value where the real one is unknown until apply, so such a
  consumer is reported as waiting instead.
- The copy shares the original's `.terraform` through TF_DATA_DIR (the per-working-directory data: backend
  settings, providers; https://developer.hashicorp.com/terraform/cli/config/environment-variables), so it needs
  no `terraform init` and copies no provider binary.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from ops.build.fingerprint import CONFIG_FILE, TFVARS_GLOB
from ops.deploy.plan_json import PlanSummary
from ops.state.store import remote_state_name

OVERRIDE_FILE = "plan-report_override.tf.json"
LOCK_FILE = ".terraform.lock.hcl"
STATE_FORMAT_VERSION = 4
FALLBACK_TERRAFORM_VERSION = "1.0.0"  # a state file no newer than any Terraform 1.x reads it


def cty_type(value: Any) -> Any:
    """The type constraint a state file records beside an output value, in Terraform's JSON type syntax."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return ["tuple", [cty_type(v) for v in value]]
    if isinstance(value, dict):
        return ["object", {k: cty_type(v) for k, v in value.items()}]
    return "dynamic"


def planned_state(current: dict[str, Any] | None, plan: PlanSummary) -> dict[str, Any]:
    """A version-4 state file with no resources whose outputs are the producer's current ones overlaid with the
    known planned values (an output the plan deletes is left out; unknown ones keep their current value, and the
    caller does not plan a consumer that reads one)."""
    outputs: dict[str, Any] = dict((current or {}).get("outputs", {}))
    for name, output in plan.outputs.items():
        if output.actions == ["delete"]:
            outputs.pop(name, None)
        elif output.known and output.changes:
            item: dict[str, Any] = {"value": output.value, "type": cty_type(output.value)}
            if output.sensitive:
                item["sensitive"] = True
            outputs[name] = item
    return {
        "version": STATE_FORMAT_VERSION,
        "terraform_version": (current or {}).get("terraform_version", FALLBACK_TERRAFORM_VERSION),
        "serial": 1,
        "lineage": "plan-report",
        "outputs": outputs,
        "resources": [],
    }


def override_document(state_files: dict[str, Path]) -> dict[str, Any]:
    """The override file's content: each producer's remote state read from its planned state file."""
    return {
        "data": {
            "terraform_remote_state": {
                remote_state_name(producer): {"backend": "local", "config": {"path": str(path)}}
                for producer, path in sorted(state_files.items())
            }
        }
    }


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Only the owner reads it: planned outputs may be secrets."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)


def private_workdir(stack_dir: Path, scratch: Path, states: dict[str, dict[str, Any]]) -> Path:
    """A copy of `stack_dir` under `scratch` (a private directory) that reads each producer in `states` from a
    planned state file: the configuration, its variable values and lock file copied, the assets linked (Terraform
    only reads them), and the override file written. Run Terraform there with TF_DATA_DIR = the original's
    `.terraform`."""
    workdir = scratch / f"{stack_dir.name}.workdir"
    workdir.mkdir(mode=0o700)
    for path in [stack_dir / CONFIG_FILE, stack_dir / LOCK_FILE, *sorted(stack_dir.glob(TFVARS_GLOB))]:
        if path.is_file():
            shutil.copy2(path, workdir / path.name)
    assets = stack_dir / "assets"
    if assets.is_dir():
        (workdir / "assets").symlink_to(assets, target_is_directory=True)
    state_files: dict[str, Path] = {}
    for producer, state in states.items():
        state_files[producer] = workdir / f"{producer}.planned.tfstate"
        _write_private(state_files[producer], state)
    _write_private(workdir / OVERRIDE_FILE, override_document(state_files))
    return workdir
