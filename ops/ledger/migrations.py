"""`make db-migrate`: apply the ledger's versioned SQL migrations on the writer (also run by every deploy).

The migrations live with the function code (`lambda_src/ledger/migrations/`) and run inside the ledger-admin
function, which reaches the writer wherever it is (the global writer endpoint) under a PostgreSQL advisory lock:
two runners never apply at once, and a second run applies nothing.
"""

from __future__ import annotations

from typing import Any

from config.settings import ROLES, Role, Settings
from ops.core.errors import NotDeployedError
from ops.deploy.outputs import read_outputs
from ops.ledger import admin_function
from shared.stack_id import StackId


def deployed_roles(settings: Settings) -> list[Role]:
    """Regions whose compute stack (and so whose ledger-admin function) is deployed, primary first."""
    outputs = read_outputs(settings)
    return [role for role in ROLES if outputs.get(StackId("compute", role).name, {}).get(admin_function.OUTPUT)]


def describe(answer: dict[str, Any]) -> str:
    applied = answer.get("applied") or []
    last = answer.get("last") or "none"
    if applied:
        return f"ledger: applied {len(applied)} migration(s): {', '.join(map(str, applied))}; schema at {last}"
    return f"ledger: schema current at {last} (nothing to apply)"


def migrate(settings: Settings, roles: list[Role] | None = None) -> str:
    """Run the migrations through the first deployed region's function (any region's reaches the writer)."""
    candidates = roles if roles is not None else deployed_roles(settings)
    if not candidates:
        raise NotDeployedError("no compute stack is deployed (no ledger-admin function): run `make deploy` first")
    return describe(admin_function.invoke(settings, candidates[0], "migrate"))
