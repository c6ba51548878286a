"""The local AWS emulator (moto server) on loopback: start, wait until it answers, stop exactly what we started.

With `local.fault_injection`, moto listens on `local.emulator_port` (local.port + 3) and the fault proxy
(`ops.local.fault_proxy_server`) on local.port in front of it, so every client's endpoint stays the same; both are
started and stopped together, each with its own pid and log file under .local/.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
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


def proxy_pid_file(local: LocalTarget) -> Path:
    return LOCAL_DIR / f"fault-proxy-{local.port}.pid"


def proxy_log_file(local: LocalTarget) -> Path:
    return LOCAL_DIR / f"fault-proxy-{local.port}.log"


def _answers(base_url: str, timeout: float) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/moto-api/", timeout=timeout) as response:  # noqa: S310  # loopback
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def is_answering(local: LocalTarget, timeout: float = 3.0) -> bool:
    """The emulator answers at `local.endpoint` (through the fault proxy when there is one: unsigned requests
    always pass it)."""
    return _answers(local.endpoint, timeout)  # local.host is validated to be a loopback address


def _moto_url(local: LocalTarget) -> str:
    return f"http://{local.host}:{local.emulator_port}"


def _wait_until(answering: Callable[[], bool], alive: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not alive():
            return False
        if answering():
            return True
        time.sleep(0.2)
    return False


def _start(
    what: str, command: list[str], env: Mapping[str, str], files: tuple[Path, Path], answering: Callable[[], bool]
) -> int:
    """Start a background process (its own session: it outlives make/pytest) and wait until it answers; its pid."""
    pid_path, log_path = files
    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=dict(env),
            start_new_session=True,
        )  # fmt: skip
    if _wait_until(answering, lambda: process.poll() is None):
        pid_path.write_text(str(process.pid))
        return process.pid
    if process.poll() is None:
        process.terminate()
        raise ToolError(f"{what} did not answer within {START_TIMEOUT_SECONDS}s; see {log_path}")
    raise ToolError(f"{what} exited with code {process.returncode}; see {log_path}")


def _up_moto(local: LocalTarget) -> str:
    url = _moto_url(local)
    pid = pidfile.running_pid(pid_file(local))
    if pid is not None and _wait_until(
        lambda: _answers(url, 3.0), lambda: pidfile.running_pid(pid_file(local)) is not None
    ):
        return f"emulator already answering on {url} (pid {pid})"
    if _answers(url, 3.0):
        return f"emulator already answering on {url} (not started by this project)"
    command = [str(VENV_BIN / "python"), "-m", "ops.local.emulator_server", "--host", local.host]
    command += ["--port", str(local.emulator_port)]
    # MOTO_PORT: the port moto writes into the URLs it hands out (queue URLs, ...): the one clients call.
    env = {**os.environ, **emulator_environment(), "MOTO_PORT": str(local.port)}
    pid = _start(f"the emulator on {url}", command, env, (pid_file(local), log_file(local)), lambda: _answers(url, 3.0))
    return f"emulator started on {url} (pid {pid}, log {log_file(local)})"


def _up_proxy(local: LocalTarget) -> str:
    pid = pidfile.running_pid(proxy_pid_file(local))
    if pid is not None and is_answering(local):
        return f"fault proxy already answering on {local.endpoint} (pid {pid})"
    if is_answering(local):
        raise ToolError(
            f"port {local.port} already answers (not the fault proxy started by this project): the fault proxy "
            "needs it with local.fault_injection = true; stop what holds it or set another local.port"
        )
    command = [str(VENV_BIN / "python"), "-m", "ops.local.fault_proxy_server", "--host", local.host]
    command += ["--port", str(local.port), "--upstream-port", str(local.emulator_port)]
    files = (proxy_pid_file(local), proxy_log_file(local))
    pid = _start(f"the fault proxy on {local.endpoint}", command, os.environ, files, lambda: is_answering(local))
    return (
        f"fault proxy started on {local.endpoint} in front of the emulator on port {local.emulator_port} "
        f"(pid {pid}, log {proxy_log_file(local)})"
    )


def up(local: LocalTarget) -> str:
    """Start the emulator (and, with fault injection, the fault proxy in front of it) unless it already answers;
    returns what happened, one line per process."""
    lines = [_up_moto(local)]
    if local.fault_injection:
        lines.append(_up_proxy(local))
    return "\n".join(lines)


def _down(path: Path, what: str) -> str | None:
    pid = pidfile.running_pid(path)
    if pid is None:
        return None
    pidfile.stop(pid, path)
    return f"{what} (pid {pid}) stopped"


def down(local: LocalTarget) -> str:
    """Stop the fault proxy (if any) and the emulator started by this project; everything the emulator held is
    gone."""
    proxy = _down(proxy_pid_file(local), "fault proxy")  # whatever the setting says now: it may have changed
    moto = _down(pid_file(local), "emulator")
    lines = [proxy] if proxy else []
    none = f"no emulator started by this project on port {local.port}"
    lines.append(f"{moto}; everything it held is gone" if moto else none)
    return "\n".join(lines)
