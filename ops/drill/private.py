"""`make drill`: the drill on a private deployment of its own, so no outage ever touches the operator's.

A fresh local target on free loopback ports (the fault proxy, the emulator behind it and the two PostgreSQL
instances), both regions deployed exactly as `make deploy-primary deploy-secondary` would, the drill run against it
(`python -m ops drill` in that environment), then everything stopped and removed, pass or fail. Each step runs as
its own `python -m ops` process with the private environment; their output is the drill's.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ops.core.console import console
from ops.core.paths import ROOT
from ops.core.ports import free_port
from ops.core.tool_env import clean_environ

PORTS = 4  # the fault proxy (local.port), both PostgreSQL instances (+1, +2) and the emulator behind the proxy (+3)
DEPLOY_TIMEOUT_SECONDS = 3600


def environment(workdir: Path, port: int) -> dict[str, str]:
    return clean_environ(
        PAYMENTS_LOCAL_PORT=str(port),
        PAYMENTS_LOCAL_FAULT_INJECTION="true",
        PAYMENTS_OUTDIR=str(workdir / "cdktf.out"),
        PAYMENTS_OUTPUTS_DIR=str(workdir / "outputs"),
        PAYMENTS_DOTENV="none",
    )


def _ops(env: dict[str, str], *args: str) -> int:
    console.say(f"==> python -m ops {' '.join(args)}")
    began = time.monotonic()
    code = subprocess.run(  # our own interpreter and module, fixed arguments
        [sys.executable, "-m", "ops", *args], cwd=ROOT, env=env, check=False, timeout=DEPLOY_TIMEOUT_SECONDS
    ).returncode
    console.say(f"==> python -m ops {' '.join(args)}: exit {code} in {time.monotonic() - began:.0f}s")
    return code


def run(drill_args: list[str]) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="payments-drill-"))
    env = environment(workdir, free_port(PORTS))
    console.say(f"drill: a private deployment on 127.0.0.1:{env['PAYMENTS_LOCAL_PORT']} (files in {workdir})")
    try:
        for step in (("local-up",), ("deploy", "primary"), ("deploy", "secondary"), ("drill", *drill_args)):
            code = _ops(env, *step)
            if code != 0:
                return code
        return 0
    finally:
        _ops(env, "local-down")
        shutil.rmtree(workdir, ignore_errors=True)
