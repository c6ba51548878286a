"""Dependency checks: each returns "ok" or "error" and logs the reason (never returned to the caller)."""

from __future__ import annotations

from collections.abc import Callable

from .config import Settings
from .runtime import client, get_logger

OK = "ok"
ERROR = "error"
_USABLE_TABLE_STATES = frozenset({"ACTIVE", "UPDATING"})


def check_table(settings: Settings) -> str:
    """DescribeTable: the table exists and accepts reads and writes."""
    response = client("dynamodb", settings.region).describe_table(TableName=settings.table_name)
    status = response.get("Table", {}).get("TableStatus")
    if status not in _USABLE_TABLE_STATES:
        get_logger().error("table not usable", extra={"check": "table", "table_status": status})
        return ERROR
    return OK


def check_bucket(settings: Settings) -> str:
    """HeadBucket: the bucket exists and this role may list it."""
    client("s3", settings.region).head_bucket(Bucket=settings.audit_bucket)
    return OK


CHECKS: dict[str, Callable[[Settings], str]] = {"table": check_table, "bucket": check_bucket}


def run_checks(settings: Settings | None) -> dict[str, str]:
    """Every check's result; with no usable settings every check is an error."""
    log = get_logger()
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        if settings is None:
            results[name] = ERROR
            continue
        try:
            results[name] = check(settings)
        except Exception:
            log.exception("health check failed", extra={"check": name})
            results[name] = ERROR
    return results
