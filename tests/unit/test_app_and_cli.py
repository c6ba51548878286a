"""The entry points refuse bad input with one line per problem, a non-zero exit and nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ops.build.synth import synth_app
from ops.core.paths import TF_CLI_CONFIG
from ops.core.tool_env import QUIET_TOOLING, TERRAFORM_GOGC, clean_environ, tool_env
from tests.conftest import AWS_ZONE
from tests.support import ROOT


def ops(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops", *args],
        cwd=ROOT,
        env=clean_environ(PAYMENTS_DOTENV="none", **env),
        text=True,
        capture_output=True,
        check=False,
        timeout=120,
    )


def test_invalid_configuration_stops_synth_before_anything_is_written(tmp_path: Path) -> None:
    outdir = tmp_path / "cdktf.out"
    result = synth_app(outdir, PAYMENTS_REGIONS_SECONDARY="us-east-1", PAYMENTS_NETWORK_AZ_COUNT="9")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [line for line in lines if line.startswith("config error: ")], "every line is a config error"
    assert [line.split()[2].split("=")[0] for line in lines] == ["network.az_count", "regions.secondary"]
    assert not outdir.exists()


def test_ops_check_config_reports_and_exits_2() -> None:
    result = ops("check-config", PAYMENTS_NETWORK_PRIMARY_CIDR="10.1.0.0/16")
    assert result.returncode == 2
    assert result.stderr.startswith("config error: network.secondary_cidr='10.1.0.0/16' overlaps")
    ok = ops("check-config")
    assert ok.returncode == 0
    assert "configuration ok" in ok.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("deploy", "tertiary"), "invalid choice: 'tertiary'"),
        (("destroy",), "the following arguments are required: region"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_cli_arguments_are_refused(args: tuple[str, ...], message: str) -> None:
    result = ops(*args)
    assert result.returncode == 2
    assert message in result.stderr


def test_make_diff_without_stack_explains_itself() -> None:
    result = subprocess.run(
        ["make", "-s", "-o", "install", "diff"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "STACK is required, e.g. make diff STACK=network-primary" in result.stdout


def test_unknown_stack_lists_the_valid_names(tmp_path: Path) -> None:
    result = ops(
        "apply",
        "network-tertiary",
        PAYMENTS_OUTDIR=str(tmp_path / "out"),
        PAYMENTS_TARGET="aws",
        PAYMENTS_AWS_ACCOUNT_ID="111122223333",
        PAYMENTS_DNS_ZONE_NAME=AWS_ZONE,
    )
    assert result.returncode != 0
    assert "unknown stack 'network-tertiary'; valid stacks: compute-primary, compute-secondary" in result.stderr


def test_destroying_prod_needs_explicit_confirmation_and_touches_nothing(tmp_path: Path) -> None:
    outdir = tmp_path / "out"
    result = ops("destroy", "primary", PAYMENTS_ENV="prod", PAYMENTS_OUTDIR=str(outdir), PAYMENTS_LOCAL_PORT="4999")
    assert result.returncode != 0
    assert "refusing to destroy prod stacks without confirmation; re-run with CONFIRM=prod" in result.stderr
    assert not outdir.exists()
    wrong = ops("destroy", "all", "--confirm", "dev", PAYMENTS_ENV="prod", PAYMENTS_OUTDIR=str(outdir))
    assert "refusing to destroy prod" in wrong.stderr


def test_an_activated_shell_gets_the_terraform_config_and_the_quiet_tooling() -> None:
    """What `make install` hooks into .venv/bin/activate, sourced by a real shell."""
    names = ["TF_CLI_CONFIG_FILE", *QUIET_TOOLING]
    script = 'eval "$(' + f"{sys.executable} -m ops shell-env" + ')"; ' + "; ".join(f'echo "${name}"' for name in names)
    env = {name: value for name, value in clean_environ().items() if name not in names}  # only the script sets them
    result = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(TF_CLI_CONFIG), *QUIET_TOOLING.values()]
    assert len(names) >= 4


def test_terraform_runs_with_less_garbage_collection_unless_the_caller_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOGC", raising=False)
    assert tool_env()["GOGC"] == TERRAFORM_GOGC == "400"
    monkeypatch.setenv("GOGC", "150")
    assert tool_env()["GOGC"] == "150"


def test_the_ops_cli_never_loads_cdktf_or_jsii() -> None:
    """Loading cdktf starts a Node.js runtime (~1 s, and its warnings): only synthesis, in its own process, may."""
    probe = "import sys, ops.cli.main; print(sorted(m for m in sys.modules if m.split('.')[0] in {'cdktf', 'jsii'}))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout
