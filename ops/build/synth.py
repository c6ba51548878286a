"""Synth once per change: a content hash of everything that shapes the output decides whether to re-run app.py."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from config.loader import read_overrides
from config.settings import Settings
from ops.core.errors import ToolError
from ops.core.paths import ROOT, VENV_BIN, outdir
from ops.core.tool_env import clean_environ, tool_env

HASH_FILE = ".source-sha256"
SOURCE_DIRS = ("stacks", "shared", "config", "lambda_src")
SOURCE_FILES = ("app.py", "cdktf.json", "requirements.txt", "package-lock.json")
IGNORED_PARTS = {"__pycache__", ".pytest_cache"}


def _source_files() -> list[Path]:
    files = [ROOT / name for name in SOURCE_FILES if (ROOT / name).exists()]
    for directory in SOURCE_DIRS:
        files += [p for p in sorted((ROOT / directory).rglob("*")) if p.is_file() and not IGNORED_PARTS & set(p.parts)]
    return sorted(files)


def source_hash(settings: Settings) -> str:
    digest = hashlib.sha256()
    for path in _source_files():
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    # The effective configuration covers the selected environment, `.env` and the process environment.
    overrides = read_overrides(ROOT / ".env", {})
    digest.update(json.dumps({"settings": repr(settings), "dotenv": overrides}, sort_keys=True).encode())
    return digest.hexdigest()


def is_current(settings: Settings) -> bool:
    stamp = outdir() / HASH_FILE
    return (outdir() / "manifest.json").exists() and stamp.exists() and stamp.read_text() == source_hash(settings)


def synth(settings: Settings, *, force: bool = False) -> bool:
    """Synthesize all stacks unless the output is current; returns whether app.py ran."""
    if not force and is_current(settings):
        return False
    env = tool_env(settings)
    outdir().parent.mkdir(parents=True, exist_ok=True)  # cdktf creates only the last level
    env["CDKTF_OUTDIR"] = str(outdir())
    result = subprocess.run(
        [str(VENV_BIN / "python"), "app.py"], check=False, cwd=ROOT, env=env, text=True, capture_output=True
    )
    if result.returncode != 0:
        raise ToolError(result.stderr.rstrip("\n"), result.returncode)
    (outdir() / HASH_FILE).write_text(source_hash(settings))
    return True


def synth_app(outdir: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run app.py into `outdir` with exactly these PAYMENTS_* settings: never the caller's shell settings or `.env`
    (what the security scan, the docs and the tests synthesize)."""
    outdir.parent.mkdir(parents=True, exist_ok=True)  # cdktf creates only the last level
    env = clean_environ(CDKTF_OUTDIR=str(outdir), PAYMENTS_DOTENV="none", **settings)
    return subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, text=True, capture_output=True, check=False, timeout=300
    )


def manifest() -> dict[str, dict[str, object]]:
    path = outdir() / "manifest.json"
    stacks: dict[str, dict[str, object]] = json.loads(path.read_text())["stacks"]
    return stacks
