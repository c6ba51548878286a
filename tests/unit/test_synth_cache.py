"""Synth once per change: the content hash reuses cdktf.out when nothing changed and re-synths when anything did."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config import load_settings
from ops.build import synth as synth_module
from ops.core.tool_env import clean_environ
from tests.support import ROOT


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "project"
    copy.mkdir()
    for name in synth_module.SOURCE_FILES:
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, copy / name)
    for directory in synth_module.SOURCE_DIRS:
        shutil.copytree(ROOT / directory, copy / directory, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(synth_module, "ROOT", copy)
    return copy


def test_hash_is_stable_and_sees_every_kind_of_change(project_copy: Path) -> None:
    settings = load_settings(environ={"PAYMENTS_DOTENV": "none"})
    baseline = synth_module.source_hash(settings)
    assert synth_module.source_hash(settings) == baseline

    (project_copy / "lambda_src" / "payment_processor" / "handler.py").write_text("# changed\n", encoding="utf-8")
    after_lambda = synth_module.source_hash(settings)
    assert after_lambda != baseline

    (project_copy / ".env").write_text("PAYMENTS_COMPUTE_LAMBDA_P99_LATENCY_MS=1100\n")
    after_dotenv = synth_module.source_hash(settings)
    assert after_dotenv != after_lambda

    other = load_settings(environ={"PAYMENTS_DOTENV": "none", "PAYMENTS_ENV": "prod"})
    assert synth_module.source_hash(other) != after_dotenv

    (project_copy / "requirements.txt").write_text("cdktf==0.0.0\n")
    assert synth_module.source_hash(settings) != after_dotenv


def run_synth(outdir: Path, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "ops", "synth"],
        cwd=ROOT,
        env=clean_environ(PAYMENTS_DOTENV="none", PAYMENTS_OUTDIR=str(outdir), **env),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return result.stdout.strip()


def test_ops_synth_reuses_output_until_something_changes(tmp_path: Path) -> None:
    outdir = tmp_path / "cdktf.out"
    assert run_synth(outdir) == "synthesized all stacks"
    manifest_mtime = (outdir / "manifest.json").stat().st_mtime_ns
    assert run_synth(outdir) == "synthesized output is current (no source change)"
    assert (outdir / "manifest.json").stat().st_mtime_ns == manifest_mtime
    assert run_synth(outdir, PAYMENTS_COMPUTE_LAMBDA_P99_LATENCY_MS="1200") == "synthesized all stacks"
