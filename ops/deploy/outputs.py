"""`outputs/<env>.json`: every deployed stack's outputs, merged as stacks are applied, refreshed from the state."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from config.settings import ROLES, Settings
from ops.build import graph
from ops.core.paths import outputs_dir
from ops.state import store

_lock = threading.Lock()


def outputs_file(settings: Settings) -> Path:
    return outputs_dir() / f"{settings.environment}.json"


def read_outputs(settings: Settings) -> dict[str, Any]:
    """outputs/<env>.json as written; empty when nothing was written yet."""
    path = outputs_file(settings)
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    return data


def update_outputs(settings: Settings, changes: dict[str, dict[str, Any] | None]) -> None:
    """Merge per-stack outputs into outputs/<env>.json (None removes a stack); written atomically."""
    with _lock:
        data = read_outputs(settings)
        for stack, values in changes.items():
            if values is None:
                data.pop(stack, None)
            else:
                data[stack] = values
        path = outputs_file(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(dict(sorted(data.items())), indent=2, sort_keys=True) + "\n")
        tmp.replace(path)


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
