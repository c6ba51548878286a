"""The one timestamp format of everything ops records (deploy records, releases, splits, locks): UTC, to the second."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
