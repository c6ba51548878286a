"""The source revision a deploy or release was made from."""

from __future__ import annotations

import subprocess

from ops.core.paths import ROOT


def git_revision() -> str:
    """`abc1234`, `abc1234+dirty` with uncommitted changes, `unknown` outside a git checkout."""
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=False)
    revision = result.stdout.strip() or "unknown"
    return f"{revision}+dirty" if dirty.stdout.strip() else revision
