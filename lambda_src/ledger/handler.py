"""Lambda entry point of ledger-admin (handler ``lambda_src.ledger.handler.handler``).

Events: ``{"action": "migrate"}``, ``{"action": "summary", "after": <payment id>?, "limit": <n>?}``,
``{"action": "status"}``; see ``ledger.admin``. A bad event raises AdminError (the invocation's error).
"""

from __future__ import annotations

from typing import Any

from . import admin, connection


def handler(event: Any, context: Any) -> dict[str, Any]:
    return admin.handle(event)


def reset_runtime() -> None:
    """Close the container's connection and forget settings and clients."""
    connection.reset()
