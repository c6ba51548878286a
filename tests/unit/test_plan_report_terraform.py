"""The plan report over real Terraform plans, cheaply: three stacks of Terraform's built-in provider only
(`terraform_data`, `terraform_remote_state`: nothing to download, no emulator), wired as cdktf wires stacks
(`data.terraform_remote_state.cross-stack-reference-input-<producer>`), each with a local backend.

The producer's change makes one output known at plan time (a literal) and one known only after apply
(`terraform_data.output` after its `input` changes): the consumer of the first is planned against the planned
value and its `triggers_replace` flags a replacement; the consumer of the second waits.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from config import load_settings
from ops.core.tool_env import tool_env
from ops.deploy.plan_inputs import OVERRIDE_FILE
from ops.deploy.plan_report import StackReport, collect, real_sources
from ops.terraform.runner import StackTerraform, run_terraform

pytestmark = pytest.mark.skipif(shutil.which("terraform") is None, reason="needs the terraform CLI")

REMOTE = "data.terraform_remote_state.cross-stack-reference-input-net.outputs"
GRAPH = {"net": [], "app": ["net"], "late": ["net"]}


def stack_config(state_dir: Path, stack: str, body: dict[str, Any]) -> dict[str, Any]:
    remote = {
        "cross-stack-reference-input-net": {
            "backend": "local",
            "config": {"path": str(state_dir / "net.tfstate")},
            "workspace": "${terraform.workspace}",
        }
    }
    return {
        "terraform": {"backend": {"local": {"path": str(state_dir / f"{stack}.tfstate")}}},
        **({"data": {"terraform_remote_state": remote}} if stack != "net" else {}),
        **body,
    }


def net_body(version: str) -> dict[str, Any]:
    return {
        "resource": {"terraform_data": {"thing": {"input": version}}},
        "output": {"label": {"value": version}, "thing_out": {"value": "${terraform_data.thing.output}"}},
    }


BODIES: dict[str, dict[str, Any]] = {
    "app": {
        "resource": {
            "terraform_data": {"user": {"input": f"${{{REMOTE}.label}}", "triggers_replace": [f"${{{REMOTE}.label}}"]}}
        }
    },
    "late": {"resource": {"terraform_data": {"user": {"input": f"${{{REMOTE}.thing_out}}"}}}},
}


def deploy_three(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The three stacks applied with net at v1; then net's configuration changed to v2 (not applied)."""
    monkeypatch.setenv("PAYMENTS_OUTDIR", str(tmp_path / "cdktf.out"))
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    settings = load_settings(environ={"PAYMENTS_DOTENV": "none"})
    for stack in ("net", "app", "late"):
        directory = tmp_path / "cdktf.out" / "stacks" / stack
        directory.mkdir(parents=True)
        body = net_body("v1") if stack == "net" else BODIES[stack]
        (directory / "cdk.tf.json").write_text(json.dumps(stack_config(state_dir, stack, body)))
        StackTerraform(stack, settings).init()  # as the report's plans would: the same init stamp
        code, output = run_terraform(directory, tool_env(), ("apply", "-auto-approve", "-input=false", "-no-color"))
        assert code == 0, output
    net = tmp_path / "cdktf.out" / "stacks" / "net"
    (net / "cdk.tf.json").write_text(json.dumps(stack_config(state_dir, "net", net_body("v2"))))
    return tmp_path


def report(deployed: Path) -> dict[str, StackReport]:
    settings = load_settings(environ={"PAYMENTS_DOTENV": "none"})
    state_dir = deployed / "state"
    sources = dataclasses.replace(
        real_sources(settings, lambda _settings, _stack: None),
        unchanged=lambda stack: stack != "net",  # app and late: what skip-unchanged proves after their apply
        current_state=lambda stack: json.loads((state_dir / f"{stack}.tfstate").read_text()),
    )
    return {r.stack: r for r in collect(["net", "app", "late"], GRAPH, sources, workers=2)}


def test_real_plans_consumer_against_planned_output_and_waits_on_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployed = deploy_three(tmp_path, monkeypatch)
    state_dir = deployed / "state"
    states_before = {p.name: p.read_bytes() for p in state_dir.iterdir()}
    stacks_dir = deployed / "cdktf.out" / "stacks"
    files_before = sorted(str(p.relative_to(stacks_dir)) for p in stacks_dir.rglob("*"))

    reports = report(deployed)

    assert {s: r.status for s, r in reports.items()} == {"net": "changes", "app": "changes", "late": "waits"}
    assert (reports["net"].change, reports["net"].outputs) == (1, ["label", "thing_out"])
    assert reports["app"].replace == ["terraform_data.user"]  # planned against label = "v2"
    assert (reports["app"].add, reports["app"].destroy) == (1, 1)
    assert reports["late"].waits_on == {"net": ["thing_out"]}
    # plans only: no state written, no lock left, nothing added to the synthesized directories
    assert {p.name: p.read_bytes() for p in state_dir.iterdir()} == states_before
    assert sorted(str(p.relative_to(stacks_dir)) for p in stacks_dir.rglob("*")) == files_before
    assert not list(stacks_dir.rglob(OVERRIDE_FILE))
