"""`outputs/<env>.json`: every deployed stack's outputs, merged as stacks are applied, refreshed from the state.

Sensitive outputs (Terraform's `sensitive` flag) appear only as `<sensitive>`; `reveal` reads one from the state on
purpose (`make output`). The file is owner-only (0600) from the moment it exists.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import threading
from pathlib import Path
from typing import Any

from config.settings import ROLES, Role, Settings
from ops.build import graph
from ops.core.errors import NotDeployedError, UsageError
from ops.core.paths import outputs_dir
from ops.state import store
from shared.stack_id import Layer, StackId

_lock = threading.Lock()


def outputs_file(settings: Settings) -> Path:
    return outputs_dir() / f"{settings.environment}.json"


def read_outputs(settings: Settings) -> dict[str, Any]:
    """outputs/<env>.json as written; empty when nothing was written yet."""
    path = outputs_file(settings)
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    return data


def _written_before_masking(path: Path) -> bool:
    """A file others may read was written before sensitive outputs were masked: it may hold a secret in clear."""
    return path.exists() and bool(stat.S_IMODE(path.stat().st_mode) & 0o077)


def write_private(path: Path, text: str) -> None:
    """Replace `path` atomically by a file only its owner can read: mkstemp creates it 0600 before anything is in it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def update_outputs(settings: Settings, changes: dict[str, dict[str, Any] | None]) -> None:
    """Merge per-stack outputs into outputs/<env>.json (None removes a stack); written atomically, mode 0600.
    A file from before masking is not merged but replaced: stacks it alone held are read from the state again when
    needed (`outputs_with`, `make outputs`)."""
    with _lock:
        path = outputs_file(settings)
        data = {} if _written_before_masking(path) else read_outputs(settings)
        for stack, values in changes.items():
            if values is None:
                data.pop(stack, None)
            else:
                data[stack] = values
        write_private(path, json.dumps(dict(sorted(data.items())), indent=2, sort_keys=True) + "\n")


def refresh_outputs(settings: Settings) -> dict[str, Any]:
    changes: dict[str, dict[str, Any] | None] = {}
    for stack in graph.stacks_of(ROLES):
        state = store.read_state(settings, stack)
        changes[stack] = store.outputs(state) if store.managed_resource_count(state) else None
    update_outputs(settings, changes)
    return read_outputs(settings)


def outputs_with(settings: Settings, stacks: list[str]) -> dict[str, Any]:
    """outputs/<env>.json, refreshed from the remote state first when it lacks one of `stacks`."""
    data = read_outputs(settings)
    if not all(data.get(stack) for stack in stacks):
        data = refresh_outputs(settings)
    return data


def layer_outputs(settings: Settings, layer: Layer, why: str) -> dict[Role, dict[str, Any]]:
    """Each region's outputs of `layer`; NotDeployedError naming what is missing (`why`: what needs both)."""
    stacks = {role: StackId(layer, role).name for role in ROLES}
    data = outputs_with(settings, list(stacks.values()))
    missing = [stack for stack in stacks.values() if not data.get(stack)]
    if missing:
        raise NotDeployedError(f"{', '.join(missing)} not deployed: {why}")
    return {role: data[stack] for role, stack in stacks.items()}


def reveal_command(stack: str, name: str) -> str:
    return f"make output STACK={stack} NAME={name}"


def sensitive_hints(data: dict[str, Any]) -> list[str]:
    """One line per masked output naming the command that shows its value."""
    return [
        f"{stack}.{name} is sensitive; to see its value: {reveal_command(stack, name)}"
        for stack, values in sorted(data.items())
        for name, value in sorted(values.items())
        if value == store.SENSITIVE
    ]


def reveal(settings: Settings, stack: str, name: str) -> Any:
    """One output's value as the remote state holds it, sensitive or not: only for a caller that asked for it."""
    state = store.read_state(settings, stack)
    if not store.managed_resource_count(state):
        raise NotDeployedError(f"{stack} is not deployed in {settings.environment}; deploy it first")
    found = store.output_value(state, name)
    if found is None:
        known = ", ".join(sorted(store.outputs(state))) or "none"
        raise UsageError(f"{stack} has no output {name!r}; its outputs: {known}")
    return found[1]
