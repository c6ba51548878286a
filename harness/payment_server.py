"""The payment processor's HTTP adapter as a real process on 127.0.0.1 (`python -m lambda_src.payment_server`), for
the tests and `make bench-load TARGET=http`. Its environment is only what it is given (an instance's is only its
environment file), plus PATH; its JSON log lines go to `log`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness.platform import free_port
from ops.core.paths import ROOT

SERVER_MODULE = "lambda_src.payment_server"
START_SECONDS = 30.0
STOP_SECONDS = 40.0  # more than the server's drain (30 s)


@dataclass(frozen=True)
class RunningServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> int:
        """SIGTERM, as systemd stops the unit; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(STOP_SECONDS)


def _wait_until_listening(server: RunningServer) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log.read_text()[-2000:]
            raise RuntimeError(f"the payment server exited {server.process.returncode}: {tail}")
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the payment server did not listen on {server.port} within {START_SECONDS:.0f} s")


@contextmanager
def running_server(environment: Mapping[str, str], log: Path) -> Iterator[RunningServer]:
    """The server listening on a free loopback port; stopped (SIGTERM) afterwards if still running."""
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        **environment,
        "PROCESSOR_BIND": "127.0.0.1",
        "PROCESSOR_PORT": str(port),
        "PYTHONDONTWRITEBYTECODE": "1",  # lambda_src is packaged as it is: no __pycache__ in it
    }
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", SERVER_MODULE], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = RunningServer(process, port, log)
    try:
        _wait_until_listening(server)
        yield server
    finally:
        if process.poll() is None:
            server.stop()
