"""Which environments a change touches: the pull-request workflow plans only those."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath

from ops.core.errors import UsageError
from ops.core.paths import ROOT

ENVIRONMENTS_DIR = PurePosixPath("config/environments")


def environment_of(path: str) -> str | None:
    """The environment a path configures alone (`config/environments/<env>.toml`), else None."""
    pure = PurePosixPath(path)
    return pure.stem if pure.parent == ENVIRONMENTS_DIR and pure.suffix == ".toml" else None


# Markdown files directly in these directories are documentation: a change to them alone plans nothing.
DOCUMENTATION_DIRS = (PurePosixPath("."), PurePosixPath("docs"))


def is_documentation(path: str) -> bool:
    pure = PurePosixPath(path)
    return pure.suffix == ".md" and pure.parent in DOCUMENTATION_DIRS


def documentation_globs() -> list[str]:
    """The same files as `paths-ignore` patterns (the deploy workflow skips a push that changes only these)."""
    return [str(directory / "*.md") for directory in DOCUMENTATION_DIRS]


def affected(paths: Iterable[str], environments: Sequence[str]) -> list[str]:
    """Files only under config/environments/<env>.toml: those envs; only documentation: none; else all."""
    touched: set[str] = set()
    for path in paths:
        if is_documentation(path):
            continue
        env = environment_of(path)
        if env is None:
            return list(environments)  # code, stacks, the workflows themselves: any of it can change any plan
        touched.add(env)
    return [env for env in environments if env in touched]


def changed_paths(base: str) -> list[str]:
    """The files that differ between the merge base of `base` and HEAD (what the pull request changes)."""
    result = subprocess.run(
        ["git", "diff", "--name-only", f"{base}...HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["no output"])[0]
        raise UsageError(f"pipeline-affected: --base {base!r} is not a revision git can compare ({first}); fetch it")
    return [line for line in result.stdout.splitlines() if line]
