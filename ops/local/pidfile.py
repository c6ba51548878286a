"""The pid files of the local target's background processes (the emulator, the table replication)."""

from __future__ import annotations

import os
from pathlib import Path


def running_pid(path: Path) -> int | None:
    """The pid recorded in `path` if that process still runs; a stale or unreadable file is removed."""
    if not path.exists():
        return None
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError, PermissionError):
        path.unlink(missing_ok=True)
        return None
    return pid
