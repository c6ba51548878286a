"""Terraform in one synthesized stack directory: init when needed, plan, apply, destroy, outputs."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.settings import Settings
from ops.core import interrupt
from ops.core.aws_errors import explain_terraform
from ops.core.console import Console, console
from ops.core.errors import NotDeployedError
from ops.core.paths import stack_dir
from ops.core.tool_env import tool_env
from ops.terraform import own_lock

INIT_STAMP = ".terraform/payments-init.sha256"


class TerraformError(RuntimeError):
    """A failed Terraform command: its output's tail, or only `summary` when that says all (credentials, endpoint or
    state bucket: `ops.core.aws_errors`)."""

    def __init__(self, stack: str, command: str, output: str, summary: str | None = None) -> None:
        tail = "\n".join(output.strip().splitlines()[-25:])
        super().__init__(
            f"{stack}: terraform {command} failed: {summary}"
            if summary
            else f"{stack}: terraform {command} failed\n{tail}"
        )
        self.stack = stack
        self.output = output


@dataclass
class ChangeSummary:
    add: int = 0
    change: int = 0
    remove: int = 0
    diagnostics: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.add + self.change + self.remove


def run_terraform(
    directory: Path, env: dict[str, str], args: tuple[str, ...], stream: Callable[[str], None] | None = None
) -> tuple[int, str]:
    """Terraform in `directory`; every output line goes to `stream` as it comes. Returns exit code and output."""
    lines: list[str] = []
    with interrupt.child_process(
        ["terraform", *args],
        cwd=directory,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if stream is not None:
                stream(line)
        return process.wait(), "".join(lines)


class StackTerraform:
    def __init__(self, stack: str, settings: Settings, out: Console = console) -> None:
        self.stack = stack
        self.settings = settings
        self.out = out
        self.dir: Path = stack_dir(stack)
        self.env = tool_env(settings)
        if not (self.dir / "cdk.tf.json").exists():
            raise NotDeployedError(f"{stack}: no synthesized configuration in {self.dir}; run `make synth`")

    def _run(self, *args: str, stream: Callable[[str], None] | None = None) -> tuple[int, str]:
        return run_terraform(self.dir, self.env, args, stream)

    def _failed(self, command: str, output: str, detail: str | None = None) -> TerraformError:
        summary = explain_terraform(output, self.settings)
        return TerraformError(self.stack, command, detail or output, summary)

    def _config_fingerprint(self) -> str:
        config = json.loads((self.dir / "cdk.tf.json").read_text())
        relevant = {
            "terraform": config.get("terraform", {}),
            "remote": config.get("data", {}).get("terraform_remote_state"),
        }
        return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()

    def init(self) -> bool:
        """Run `terraform init` only when the backend or provider requirements changed; returns whether it ran."""
        stamp = self.dir / INIT_STAMP
        fingerprint = self._config_fingerprint()
        if stamp.exists() and stamp.read_text() == fingerprint:
            return False
        code, output = self._run("init", "-input=false", "-no-color", "-reconfigure")
        if code != 0:
            raise self._failed("init", output)
        stamp.write_text(fingerprint)
        return True

    def run_command(self, *args: str) -> tuple[int, str]:
        """Any other terraform command in the stack directory (initialized first)."""
        self.init()
        return self._run(*args)

    def _lock_timeout(self) -> str:
        return f"-lock-timeout={self.settings.state.lock_timeout_seconds}s"

    def _run_locking(self, command: str, run: Callable[[], tuple[int, str]]) -> tuple[int, str]:
        """Run a command that takes the state lock; once again if it failed on a lock it took itself."""
        with own_lock.terraform_run(self.settings, self.stack) as registered:
            code, output = run()
            if code == 1 and own_lock.LOCK_FAILURE in output:
                released = own_lock.release_if_orphaned(self.settings, registered, command)
                if released is not None:
                    self.out.say(
                        f"{self.stack}: released state lock {released}, which this {command} took itself and then "
                        "lost track of (an answer from the lock table went missing); running it again"
                    )
                    code, output = run()
            return code, output

    def apply(
        self, *, destroy: bool = False, on_event: Callable[[dict[str, Any]], None] | None = None
    ) -> ChangeSummary:
        self.init()
        args = ["apply", "-auto-approve", "-input=false", "-json", self._lock_timeout()]
        if destroy:
            args.append("-destroy")
        summary = ChangeSummary()

        def handle(line: str) -> None:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                return
            kind = event.get("type")
            if kind == "change_summary":
                changes = event.get("changes", {})
                summary.add, summary.change, summary.remove = (
                    changes.get("add", 0),
                    changes.get("change", 0),
                    changes.get("remove", 0),
                )
            elif kind == "diagnostic" and event.get("@level") == "error":
                diagnostic = event.get("diagnostic", {})
                summary.diagnostics.append(f"{diagnostic.get('summary', '')}: {diagnostic.get('detail', '')}".strip())
            if on_event is not None:
                on_event(event)

        def attempt() -> tuple[int, str]:
            summary.diagnostics.clear()
            return self._run(*args, stream=handle)

        code, output = self._run_locking("apply", attempt)
        if code != 0:
            detail = "\n".join(summary.diagnostics) or output
            raise self._failed("destroy" if destroy else "apply", output, detail)
        return summary

    def plan(
        self, *, stream: Callable[[str], None] | None = None, refresh_only: bool = False, lock: bool = True
    ) -> tuple[int, str]:
        """`terraform plan -detailed-exitcode`: 0 no changes, 2 changes; raises on 1. `lock=False`: a report that
        neither waits for nor blocks an apply, and needs no write access to the lock table (`-lock=false`)."""
        self.init()
        args = ["plan", "-input=false", "-detailed-exitcode"]
        args += [self._lock_timeout()] if lock else ["-lock=false"]
        if refresh_only:
            args.append("-refresh-only")
        if not lock:
            code, output = self._run(*args, stream=stream)
        else:
            code, output = self._run_locking("plan", lambda: self._run(*args, stream=stream))
        if code not in (0, 2):
            raise self._failed("plan", output)
        return code, output

    def plan_document(self, plan_file: Path, *, workdir: Path | None = None) -> dict[str, Any]:
        """A saved plan as `terraform show -json` describes it. The plan takes no state lock and writes no state
        (`-lock=false`): it is a report, safe beside a running apply. `workdir`: a private copy of the stack's
        directory (`ops.deploy.plan_inputs`), run with this directory's `.terraform` as TF_DATA_DIR."""
        self.init()
        directory = workdir or self.dir
        env = {**self.env, "TF_DATA_DIR": str(self.dir / ".terraform")} if workdir else self.env
        plan_args = ("plan", "-lock=false", "-input=false", "-no-color", f"-out={plan_file}")
        code, output = run_terraform(directory, env, plan_args)
        if code != 0:
            raise self._failed("plan", output)
        code, output = run_terraform(directory, env, ("show", "-json", "-no-color", str(plan_file)))
        document = next((line for line in output.splitlines() if line.startswith("{")), None)
        if code != 0 or document is None:
            raise self._failed("show", output)
        parsed: dict[str, Any] = json.loads(document)
        return parsed
