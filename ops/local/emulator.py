"""The local AWS emulator (moto server) on loopback: start, wait until it answers, stop exactly what we started."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from config.settings import LocalTarget
from ops.core.errors import ToolError
from ops.core.paths import LOCAL_DIR, ROOT, VENV_BIN
from ops.local import pidfile
from shared.local_target import emulator_environment

START_TIMEOUT_SECONDS = 30


def pid_file(local: LocalTarget) -> Path:
    return LOCAL_DIR / f"moto-{local.port}.pid"


def log_file(local: LocalTarget) -> Path:
    return LOCAL_DIR / f"moto-{local.port}.log"


def is_answering(local: LocalTarget, timeout: float = 3.0) -> bool:
    try:
        url = f"{local.endpoint}/moto-api/"  # local.host is validated to be a loopback address
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _running_pid(local: LocalTarget) -> int | None:
    return pidfile.running_pid(pid_file(local))


def _wait_until_answering(local: LocalTarget, alive: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not alive():
            return False
        if is_answering(local):
            return True
        time.sleep(0.2)
    return False


def up(local: LocalTarget) -> str:
    """Start the emulator unless it already answers; returns what happened."""
    pid = _running_pid(local)
    if pid is not None and _wait_until_answering(local, lambda: _running_pid(local) is not None):
        return f"emulator already answering on {local.endpoint} (pid {pid})"
    if is_answering(local):
        return f"emulator already answering on {local.endpoint} (not started by this project)"
    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    log = log_file(local).open("ab")
    process = subprocess.Popen(
        [str(VENV_BIN / "python"), "-m", "ops.local.emulator_server", "--host", local.host, "--port", str(local.port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **emulator_environment()},
        start_new_session=True,  # survives the make/pytest process that started it
    )
    if _wait_until_answering(local, lambda: process.poll() is None):
        pid_file(local).write_text(str(process.pid))
        return f"emulator started on {local.endpoint} (pid {process.pid}, log {log_file(local)})"
    if process.poll() is None:
        process.terminate()
        raise ToolError(
            f"emulator did not answer on {local.endpoint} within {START_TIMEOUT_SECONDS}s; see {log_file(local)}"
        )
    raise ToolError(f"emulator exited with code {process.returncode}; see {log_file(local)}")


def down(local: LocalTarget) -> str:
    pid = _running_pid(local)
    if pid is None:
        return f"no emulator started by this project on port {local.port}"
    pidfile.stop(pid, pid_file(local))
    return f"emulator (pid {pid}) stopped; everything it held is gone"
