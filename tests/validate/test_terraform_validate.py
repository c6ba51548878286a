"""`terraform validate` passes for every synthesized stack of both targets (no emulator, no backend)."""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ops.core.tool_env import clean_environ
from ops.terraform.cli_config import write_cli_config
from tests.support import STACKS, Synth


def validate(stack_dir: Path, workdir: Path) -> tuple[str, int, str]:
    target = workdir / stack_dir.name
    target.mkdir(parents=True)
    shutil.copy(stack_dir / "cdk.tf.json", target / "cdk.tf.json")
    for asset in ("assets",):
        if (stack_dir / asset).exists():
            shutil.copytree(stack_dir / asset, target / asset)
    env = clean_environ(TF_CLI_CONFIG_FILE=str(write_cli_config()), TF_IN_AUTOMATION="1")
    output = ""
    for args in (["init", "-backend=false", "-input=false", "-no-color"], ["validate", "-no-color"]):
        result = subprocess.run(
            ["terraform", *args], cwd=target, env=env, capture_output=True, text=True, check=False, timeout=600
        )
        output += result.stdout + result.stderr
        if result.returncode != 0:
            return stack_dir.name, result.returncode, output
    return stack_dir.name, 0, output


@pytest.mark.parametrize("synth_name", ["local_dev", "aws_prod"])
def test_every_stack_validates(request: pytest.FixtureRequest, synth_name: str, tmp_path: Path) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda s: validate(synth.outdir / "stacks" / s, tmp_path), STACKS))
    failures = {stack: output[-2000:] for stack, code, output in results if code != 0}
    assert failures == {}
    assert len(results) >= 8, f"validated only {len(results)} of the eight stacks"
    assert all("The configuration is valid" in output for _, _, output in results)
