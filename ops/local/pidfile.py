"""The pid files of the local target's background processes (the emulator, the table replication)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

STOP_WAIT_SECONDS = 5.0  # after SIGTERM, before SIGKILL


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


def _alive(pid: int) -> bool:
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child (a test started it): reap it
            return False
    except ChildProcessError:
        pass  # started by another process (make local-up): not ours to reap
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(pid: int, path: Path) -> None:
    """SIGTERM, up to STOP_WAIT_SECONDS for the process to go, then SIGKILL; the pid file is removed."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    while _alive(pid):
        if time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.1)
    path.unlink(missing_ok=True)
