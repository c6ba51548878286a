"""The payment server's stand-in of a region on the local target (gap `ec2-user-data`): start, stop, status.

With `compute.runtime = "ec2"` the emulator launches instances but never runs their user data, so this process
serves what they would: `python -m lambda_src.payment_server` on 127.0.0.1 (a free port), with the environment the
deployed launch template's user data writes (read back with `environment_from_user_data`) plus the emulator's
endpoint and fake credentials, as the in-process functions get them. A new launch template version (a new
artifact or setting: what would start an instance refresh on AWS) restarts it. Pid, log, port and the template
version it runs are under .local/, named by the emulator's port and the region.
"""

from __future__ import annotations

import base64
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from config.settings import LocalTarget, Settings
from ops.core.aws_clients import client
from ops.core.errors import ToolError
from ops.core.paths import LOCAL_DIR, ROOT, VENV_BIN
from ops.core.ports import free_port
from ops.local import pidfile
from ops.local.aws_environment import emulator_access, inherited
from shared.local_target import LOOPBACK
from shared.processor_runtime import HEALTH_PATH, environment_from_user_data

SERVER_MODULE = "lambda_src.payment_server"
DEFAULT_COMMAND = (str(VENV_BIN / "python"), "-m", SERVER_MODULE)
START_TIMEOUT_SECONDS = 30
HEALTH_TIMEOUT_SECONDS = 2.0
# The server's settings that say where it listens (read by lambda_src.payment_server; on an instance the defaults).
BIND_VARIABLE = "PROCESSOR_BIND"
PORT_VARIABLE = "PROCESSOR_PORT"


@dataclass(frozen=True)
class Files:
    pid: Path
    log: Path
    port: Path
    template: Path  # `<launch template id>:<version>` the running process was started from


def files(local: LocalTarget, region: str) -> Files:
    stem = LOCAL_DIR / f"processor-{local.port}-{region}"
    return Files(*(stem.with_suffix(f".{kind}") for kind in ("pid", "log", "port", "template")))


@dataclass(frozen=True)
class TemplateVersion:
    template_id: str
    version: int
    user_data: str  # decoded

    @property
    def label(self) -> str:
        return f"{self.template_id}:{self.version}"


def latest_version(settings: Settings, region: str, template_id: str) -> TemplateVersion:
    """The launch template's latest version (the one compute's Auto Scaling group pins) and its decoded user data."""
    found = client(settings, "ec2", region).describe_launch_template_versions(
        LaunchTemplateId=template_id, Versions=["$Latest"]
    )["LaunchTemplateVersions"]
    if not found:
        raise ToolError(f"launch template {template_id} ({region}) has no version: redeploy compute")
    data = found[0].get("LaunchTemplateData", {})
    if not data.get("UserData"):
        raise ToolError(f"launch template {template_id} ({region}) has no user data: redeploy compute")
    return TemplateVersion(template_id, int(found[0]["VersionNumber"]), base64.b64decode(data["UserData"]).decode())


def environment(settings: Settings, region: str, template: TemplateVersion, port: int) -> dict[str, str]:
    """What the stand-in runs with: the user data's environment file, then the emulator's access, then where to
    listen (each later part wins)."""
    return {
        **inherited(os.environ),
        **environment_from_user_data(template.user_data),
        **emulator_access(settings, region),
        BIND_VARIABLE: LOOPBACK,
        PORT_VARIABLE: str(port),
    }


def running_port(local: LocalTarget, region: str) -> int | None:
    """The port of the region's running stand-in; None when none runs."""
    paths = files(local, region)
    if pidfile.running_pid(paths.pid) is None or not paths.port.exists():
        return None
    return int(paths.port.read_text().strip())


def _healthy(port: int) -> bool:
    try:
        url = f"http://{LOOPBACK}:{port}{HEALTH_PATH}"
        with urllib.request.urlopen(url, timeout=HEALTH_TIMEOUT_SECONDS) as response:  # loopback only
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start(settings: Settings, region: str, template_id: str, *, command: Sequence[str] | None = None) -> str:
    """Start the region's stand-in (`command`, default DEFAULT_COMMAND) from the launch template's latest version
    unless it already runs that version (another version: stopped and started again); returns what happened. Waits
    until `HEALTH_PATH` answers 200."""
    paths = files(settings.local, region)
    template = latest_version(settings, region, template_id)
    pid = pidfile.running_pid(paths.pid)
    if pid is not None:
        running = paths.template.read_text().strip() if paths.template.exists() else "?"
        if running == template.label:
            return f"payment server stand-in ({region}) already runs {template.label} (pid {pid})"
        pidfile.stop(pid, paths.pid)
    port = free_port()
    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    log_fd = os.open(paths.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(log_fd, "ab") as log:
        process = subprocess.Popen(  # our interpreter and module, or a test's
            list(command or DEFAULT_COMMAND),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environment(settings, region, template, port),
            start_new_session=True,  # outlives the deploy that started it, as the emulator does
        )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while process.poll() is None and not _healthy(port):
        if time.monotonic() >= deadline:
            pidfile.stop(process.pid, paths.pid)
            raise ToolError(
                f"payment server stand-in ({region}) did not answer {HEALTH_PATH} within {START_TIMEOUT_SECONDS}s; "
                f"see {paths.log}"
            )
        time.sleep(0.1)
    if process.poll() is not None:
        raise ToolError(f"payment server stand-in ({region}) exited with code {process.returncode}; see {paths.log}")
    paths.pid.write_text(str(process.pid))
    paths.port.write_text(str(port))
    paths.template.write_text(template.label)
    verb = "restarted" if pid is not None else "started"
    return f"payment server stand-in ({region}) {verb} on {LOOPBACK}:{port} from {template.label} (pid {process.pid})"


def stop(local: LocalTarget, region: str) -> str | None:
    """Stop the region's stand-in; None when none ran."""
    paths = files(local, region)
    pid = pidfile.running_pid(paths.pid)
    paths.port.unlink(missing_ok=True)
    paths.template.unlink(missing_ok=True)
    if pid is None:
        return None
    pidfile.stop(pid, paths.pid)
    return f"payment server stand-in ({region}, pid {pid}) stopped"


def status(local: LocalTarget, region: str) -> str:
    paths = files(local, region)
    pid, port = pidfile.running_pid(paths.pid), running_port(local, region)
    if pid is None or port is None:
        return f"payment server stand-in ({region}): not running"
    template = paths.template.read_text().strip() if paths.template.exists() else "?"
    health = "healthy" if _healthy(port) else f"not answering {HEALTH_PATH}"
    return f"payment server stand-in ({region}): pid {pid} on {LOOPBACK}:{port}, {template}, {health}; log {paths.log}"


def down(local: LocalTarget, regions: Sequence[str]) -> list[str]:
    """Stop every region's stand-in; one line per process stopped."""
    return [line for region in dict.fromkeys(regions) if (line := stop(local, region))]
