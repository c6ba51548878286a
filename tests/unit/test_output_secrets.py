"""Sensitive outputs never reach the outputs file or `make outputs`; the file is owner-only from the start.

The state is one Terraform itself wrote, so the `sensitive` flag is read exactly as Terraform records it.
"""

from __future__ import annotations

import importlib
import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from config import load_settings
from config.settings import Settings
from ops.core.tool_env import clean_environ
from ops.deploy import engine, outputs
from ops.state import store
from tests.support import Synth

cli = importlib.import_module("ops.cli.main")  # the package exports main() under the same name
SECRET = "s3cr3t-api-key-value"
STACK = "compute-primary"


@pytest.fixture(scope="module")
def terraform_state(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What `terraform apply` records for one sensitive and one plain output (no provider needed)."""
    directory = tmp_path_factory.mktemp("tf")
    (directory / "main.tf").write_text(
        f'output "api_key_value" {{\n  value = "{SECRET}"\n  sensitive = true\n}}\n'
        'output "api_id" {\n  value = "abc123"\n}\n'
        'output "regions" {\n  value = ["us-east-1", "us-west-2"]\n}\n'
    )
    env = clean_environ(TF_DATA_DIR=str(directory / ".terraform"))
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        subprocess.run(["terraform", *args], cwd=directory, env=env, check=True, capture_output=True, timeout=120)
    state: dict[str, Any] = json.loads((directory / "terraform.tfstate").read_text())
    state["resources"] = [{"mode": "managed", "instances": [{}]}]  # counts as deployed
    return state


@pytest.fixture
def deployed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, terraform_state: dict[str, Any], local_dev: Synth
) -> Settings:
    monkeypatch.setenv("PAYMENTS_OUTPUTS_DIR", str(tmp_path / "outputs"))
    monkeypatch.setenv("PAYMENTS_OUTDIR", str(local_dev.outdir))  # the stacks' graph, without the checkout's synth
    monkeypatch.setattr(store, "read_state", lambda _s, stack: terraform_state if stack == STACK else None)
    monkeypatch.setattr(engine, "prepare", lambda settings, synthesize=True: settings)
    settings = load_settings(environ={"PAYMENTS_DOTENV": "none"})
    monkeypatch.setattr(cli, "load_settings", lambda: settings)
    return settings


def test_terraform_marks_the_secret_sensitive_and_the_outputs_mask_only_it(terraform_state: dict[str, Any]) -> None:
    assert terraform_state["outputs"]["api_key_value"]["sensitive"] is True
    assert store.outputs(terraform_state) == {
        "api_key_value": store.SENSITIVE,
        "api_id": "abc123",
        "regions": ["us-east-1", "us-west-2"],
    }


def test_the_outputs_file_holds_no_secret_and_only_its_owner_can_read_it(deployed: Settings) -> None:
    old_umask = os.umask(0)  # the most permissive umask: the mode must not depend on it
    try:
        data = outputs.refresh_outputs(deployed)
    finally:
        os.umask(old_umask)
    path = outputs.outputs_file(deployed)
    assert data == {STACK: {"api_id": "abc123", "api_key_value": "<sensitive>", "regions": ["us-east-1", "us-west-2"]}}
    assert SECRET not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temporary file left behind"


def test_the_file_is_never_readable_by_others_not_even_before_it_is_renamed(
    deployed: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    modes: list[int] = []
    real_replace = os.replace

    def replace(source: Any, target: Any) -> None:
        modes.append(stat.S_IMODE(os.stat(source).st_mode))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    outputs.update_outputs(deployed, {STACK: store.outputs(store.read_state(deployed, STACK))})
    assert modes == [0o600]


def test_a_world_readable_file_from_before_is_replaced_not_merged(deployed: Settings) -> None:
    path = outputs.outputs_file(deployed)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"compute-secondary": {"api_key_value": SECRET}}))
    path.chmod(0o644)
    outputs.update_outputs(deployed, {"network-primary": {"vpc_id": "vpc-1"}})
    assert json.loads(path.read_text()) == {"network-primary": {"vpc_id": "vpc-1"}}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_make_outputs_prints_no_secret_and_names_the_command_that_shows_it(
    deployed: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["outputs"]) == 0
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    assert json.loads(out)[STACK]["api_key_value"] == "<sensitive>"
    assert f"{STACK}.api_key_value is sensitive; to see its value: make output STACK={STACK} NAME=api_key_value" in err


def test_make_output_prints_the_one_value_asked_for_alone_on_stdout(
    deployed: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["output", STACK, "api_key_value"]) == 0
    out, _ = capsys.readouterr()
    assert out == SECRET + "\n"
    assert not outputs.outputs_file(deployed).exists(), "revealing writes nothing"
    assert cli.main(["output", STACK, "regions"]) == 0
    assert json.loads(capsys.readouterr().out) == ["us-east-1", "us-west-2"]


def test_make_output_refuses_an_unknown_output_or_stack_in_one_line(
    deployed: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["output", STACK, "api_key"]) == 2
    _, err = capsys.readouterr()
    assert err == f"{STACK} has no output 'api_key'; its outputs: api_id, api_key_value, regions\n"
    assert cli.main(["output", "dns-primary", "zone_id"]) == 1
    assert capsys.readouterr().err == "dns-primary is not deployed in dev; deploy it first\n"
