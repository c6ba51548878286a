"""The local table replication process (gap `dynamodb-global-replication`): start it beside the emulator, stop
exactly what we started. Pid, log and stats files are under .local/, named by the emulator's port."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from config.settings import LocalTarget
from ops.core.errors import ToolError
from ops.core.paths import LOCAL_DIR, ROOT, VENV_BIN
from ops.local import pidfile
from ops.local.table_replication import stats_file

START_TIMEOUT_SECONDS = 15


def pid_file(local: LocalTarget) -> Path:
    return LOCAL_DIR / f"replication-{local.port}.pid"


def log_file(local: LocalTarget) -> Path:
    return LOCAL_DIR / f"replication-{local.port}.log"


def running_pid(local: LocalTarget) -> int | None:
    return pidfile.running_pid(pid_file(local))


def up(local: LocalTarget, regions: tuple[str, str], buckets: tuple[str, str] | None = None) -> str:
    """Start the replicator between `regions` (and between `buckets`, the state homes of those regions in order)
    unless it runs; returns what happened."""
    pid = running_pid(local)
    if pid is not None:
        return f"table replication already running (pid {pid})"
    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    stats = stats_file(local)
    stats.unlink(missing_ok=True)
    command = [str(VENV_BIN / "python"), "-m", "ops.local.replication_server", "--endpoint", local.endpoint]
    command += ["--regions", *regions, "--stats", str(stats)]
    if buckets:
        command += ["--buckets", *buckets]
    with log_file(local).open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives the make/pytest process that started it
        )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline and process.poll() is None and not stats.exists():
        time.sleep(0.1)  # the first stats file: it has finished its first round
    if process.poll() is not None:
        raise ToolError(f"table replication exited with code {process.returncode}; see {log_file(local)}")
    if not stats.exists():
        process.terminate()
        raise ToolError(f"table replication did not start within {START_TIMEOUT_SECONDS}s; see {log_file(local)}")
    pid_file(local).write_text(str(process.pid))
    return f"table replication {' <-> '.join(regions)} started (pid {process.pid}, log {log_file(local)})"


def down(local: LocalTarget) -> str:
    pid = running_pid(local)
    if pid is None:
        return f"no table replication started by this project on port {local.port}"
    pidfile.stop(pid, pid_file(local))
    return f"table replication (pid {pid}) stopped"
