"""A private copy of the platform on its own emulator port, driven exactly as a user drives it (python -m ops)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from config import Settings, load_settings
from ops.core.paths import ROOT
from ops.core.ports import free_port  # noqa: F401  # re-exported: the tests take ports from the harness
from ops.core.tool_env import clean_environ


def ports_needed(fault_injection: bool = False) -> int:
    """Consecutive ports a private platform takes from its local.port: the emulator (or the fault proxy in front
    of it) and the two PostgreSQL instances, then moto itself on local.port + 3 with fault injection."""
    return 4 if fault_injection else 3


@dataclass
class Platform:
    workdir: Path
    port: int  # the first of ports_needed(fault_injection) free ports
    # keyword-only: subclasses add positional fields after `port`
    fault_injection: bool = field(default=False, kw_only=True)
    # Settings given as environment variables to every command from here on (`PAYMENTS_COMPUTE_RUNTIME=ec2`).
    settings_env: dict[str, str] = field(default_factory=dict, kw_only=True)

    @property
    def env(self) -> dict[str, str]:
        faults = {"PAYMENTS_LOCAL_FAULT_INJECTION": "true"} if self.fault_injection else {}
        return clean_environ(
            PAYMENTS_LOCAL_PORT=str(self.port),
            PAYMENTS_OUTDIR=str(self.workdir / "cdktf.out"),
            PAYMENTS_OUTPUTS_DIR=str(self.workdir / "outputs"),
            PAYMENTS_DOTENV="none",
            **faults,
            **self.settings_env,
        )

    @property
    def settings(self) -> Settings:
        return load_settings(environ=self.env)

    def ops(self, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess[str]:
        """Run `python -m ops ...`; output is echoed so a failing CI run shows what Terraform said."""
        result = subprocess.run(
            [sys.executable, "-m", "ops", *args],
            cwd=ROOT,
            env=self.env,
            text=True,
            capture_output=True,
            check=False,
            timeout=timeout,
        )
        command = " ".join(args)
        sys.stdout.write(f"\n$ python -m ops {command}  (exit {result.returncode})\n{result.stdout}{result.stderr}")
        return result

    def must(self, *args: str) -> str:
        result = self.ops(*args)
        assert result.returncode == 0, f"python -m ops {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def outputs(self) -> dict[str, Any]:
        path = self.workdir / "outputs" / f"{self.settings.environment}.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def output(self, stack: str, name: str) -> str:
        """One output's value as the user reveals it (`make output`): sensitive ones are masked in `outputs()`."""
        return self.must("output", stack, name).strip()

    def region(self, role: str) -> str:
        return self.settings.regions.of(role)  # type: ignore[arg-type]

    def client(self, service: str, role: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]  # the stubs type only literal service names
            service,
            region_name=self.region(role),
            endpoint_url=f"http://127.0.0.1:{self.port}",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
