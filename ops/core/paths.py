"""Where the project keeps its generated files."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
LOCAL_DIR = ROOT / ".local"  # emulator pid/log, Terraform CLI config, plugin cache
TF_CLI_CONFIG = LOCAL_DIR / "terraform.rc"


def outdir() -> Path:
    return Path(os.environ.get("PAYMENTS_OUTDIR", ROOT / "cdktf.out"))


def stack_dir(stack: str) -> Path:
    return outdir() / "stacks" / stack


def outputs_dir() -> Path:
    return Path(os.environ.get("PAYMENTS_OUTPUTS_DIR", ROOT / "outputs"))
