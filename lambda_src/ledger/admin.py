"""Ledger administration: apply migrations, summarize the ledger, report the server's state.

The ``ledger-admin`` function (handler ``lambda_src.ledger.admin.handler``) takes ``{"action": "migrate"}``,
``{"action": "summary", "after": <payment id>?, "limit": <n>?}`` or ``{"action": "status"}``; a bad event
raises AdminError (the invocation's error). It connects as the master user (LEDGER_ADMIN_SECRET_ARN) to the
writer found like the application's (``ledger.connection``). Underneath are functions of a
``pg8000.native`` connection that ops calls in-process against the local instances:

    migrate(conn, writer_role)              -> {"applied": [versions applied now], "last": last version | None}
    summary(conn, after=None, limit=...)    -> counts, payment ids (a page; truncated, next_after), last
                                               migration, in_recovery
    status(conn)                            -> in_recovery, last migration, server version, database
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import pg8000.native

from . import connection
from . import migrate as migrations
from .config import ConfigError, load_settings
from .connection import client, connector, find_writer

# Payment ids per summary page: one Lambda response stays far below its 6 MB limit (an id is 36 bytes).
PAYMENT_IDS_PAGE = 10_000

UNBALANCED = """
SELECT count(*) FROM payments p
WHERE p.amount IS DISTINCT FROM
      (SELECT sum(e.amount) FROM ledger_entries e WHERE e.payment_id = p.payment_id AND e.direction = 'debit')
   OR p.amount IS DISTINCT FROM
      (SELECT sum(e.amount) FROM ledger_entries e WHERE e.payment_id = p.payment_id AND e.direction = 'credit')
"""


class AdminError(ValueError):
    """The request cannot be served as asked (unknown action, bad parameter)."""


def _last_migration(conn: Any) -> dict[str, Any] | None:
    last = migrations.last_applied(conn)
    return last.as_dict() if last else None


def _in_recovery(conn: Any) -> bool:
    return bool(conn.run("SELECT pg_is_in_recovery()")[0][0])


def migrate(conn: Any, writer_role: str) -> dict[str, Any]:
    """Apply pending migrations (``ledger.migrate.apply``): the versions applied now and the last applied one."""
    done = migrations.apply(conn, writer_role=writer_role)
    last = migrations.last_applied(conn)
    return {"applied": [row.version for row in done], "last": last.version if last else None}


def summary(conn: Any, *, after: str | None = None, limit: int = PAYMENT_IDS_PAGE) -> dict[str, Any]:
    """Counts over the whole ledger, and one page of payment ids (sorted, those after ``after``).

    ``truncated`` says more ids follow; ``next_after`` is then the cursor of the next page (None on the last):
    page through for reconciliation.
    Before the first migration the counts are 0 and ``last_migration`` is None.
    """
    if not 1 <= limit <= PAYMENT_IDS_PAGE:
        raise AdminError(f"limit must be from 1 to {PAYMENT_IDS_PAGE}")
    result: dict[str, Any] = {"last_migration": _last_migration(conn), "in_recovery": _in_recovery(conn)}
    if conn.run("SELECT to_regclass('payments') IS NULL")[0][0]:
        return {**result, "payments": 0, "entries": 0, "unbalanced": 0, "duplicates": 0, "payment_ids": [],
                "truncated": False, "next_after": None}  # fmt: skip
    payments, distinct = conn.run("SELECT count(*), count(DISTINCT payment_id) FROM payments")[0]
    ids = [
        row[0]
        for row in conn.run(
            "SELECT payment_id FROM payments WHERE payment_id > :after ORDER BY payment_id LIMIT :limit",
            after=after or "",
            limit=limit + 1,
        )
    ]
    return {
        **result,
        "payments": int(payments),
        "entries": int(conn.run("SELECT count(*) FROM ledger_entries")[0][0]),
        "unbalanced": int(conn.run(UNBALANCED)[0][0]),
        "duplicates": int(payments) - int(distinct),  # 0 by construction: payment_id is the primary key
        "payment_ids": ids[:limit],
        "truncated": len(ids) > limit,
        "next_after": ids[limit - 1] if len(ids) > limit else None,
    }


def status(conn: Any) -> dict[str, Any]:
    """Where this connection landed: recovery state, last migration, server version and database."""
    version, database = conn.run("SELECT current_setting('server_version'), current_database()")[0]
    return {
        "in_recovery": _in_recovery(conn),
        "last_migration": _last_migration(conn),
        "server_version": version,
        "database": database,
    }


def _master_credentials(region: str) -> tuple[str, str]:
    arn = os.environ.get("LEDGER_ADMIN_SECRET_ARN", "").strip()
    if not arn:
        raise ConfigError("LEDGER_ADMIN_SECRET_ARN is not set")
    secret = json.loads(client("secretsmanager", region).get_secret_value(SecretId=arn)["SecretString"])
    if not isinstance(secret, Mapping) or not secret.get("username") or not secret.get("password"):
        raise ConfigError("LEDGER_ADMIN_SECRET_ARN must name a secret holding username and password")
    return str(secret["username"]), str(secret["password"])


def _admin_connection() -> tuple[pg8000.native.Connection, str]:
    settings = load_settings()
    credentials = _master_credentials(settings.region)
    conn, _, _ = find_writer(settings.writer_hosts, connector(settings, credentials))
    return conn, settings.user


def _page_limit(event: Mapping[str, Any]) -> int:
    limit = event.get("limit", PAYMENT_IDS_PAGE)
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise AdminError(f"limit must be a whole number from 1 to {PAYMENT_IDS_PAGE}")
    return limit


def handle(event: Any) -> dict[str, Any]:
    """Serve one admin event; the connection is opened for it and closed after (admin calls are rare)."""
    action = event.get("action") if isinstance(event, Mapping) else None
    if action not in ("migrate", "summary", "status"):
        raise AdminError(f"unknown action {str(action)[:32]!r}: use migrate, summary or status")
    after = event.get("after")
    if after is not None and not isinstance(after, str):
        raise AdminError("after must be a payment id (the next_after of the previous page)")
    limit = _page_limit(event)
    conn, writer_role = _admin_connection()
    try:
        if action == "migrate":
            return migrate(conn, writer_role)
        if action == "summary":
            return summary(conn, after=after, limit=limit)
        return status(conn)
    finally:
        conn.close()


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point of ledger-admin (invoked directly by operators and ops, no route)."""
    return handle(event)


def reset_runtime() -> None:
    """Forget settings and boto3 clients (the next invocation re-reads the environment)."""
    connection.reset()
