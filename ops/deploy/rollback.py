"""Rollback: re-apply one stack's previous (or a chosen) release.

`rollback` materializes a release in a temporary directory, initializes it with the same backend (the
backend block is part of `cdk.tf.json`; pointed at the state copy in use), shows the plan and applies exactly that
plan to that one stack.
It refuses when a dependant stack reads an output the release does not produce. DNS stacks keep the
current traffic split (`ops.state.traffic_split`): a rollback changes their configuration, never the weights.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from config.settings import ROLES, Settings
from ops.build import graph
from ops.build.fingerprint import CONFIG_FILE
from ops.core.confirm import confirmed, validate_confirm
from ops.core.console import console
from ops.core.errors import RefusedError
from ops.core.paths import stack_dir
from ops.core.tool_env import tool_env
from ops.deploy.outputs import update_outputs
from ops.deploy.releases import RELEASE_FILE, Release, current_release, list_releases, new_release, prefix
from ops.state import bucket, serials, store, traffic_split
from ops.terraform import own_lock
from ops.terraform.runner import run_terraform

PLAN_FILE = "rollback.tfplan"


class RollbackError(RefusedError):
    """A rollback that must not (or cannot) go ahead: one line saying why, exit 1."""

    def __init__(self, message: str) -> None:
        super().__init__(f"rollback refused: {message}")


def choose(releases: list[Release], current: Release | None, wanted: int | None) -> Release:
    """The chosen release, or by default the newest one before the current whose configuration differs."""
    if not releases:
        raise RollbackError("no releases recorded for this stack yet")
    by_n = {r.n: r for r in releases}
    if wanted is not None:
        if wanted not in by_n:
            raise RollbackError(f"release {wanted} does not exist; known: {', '.join(str(n) for n in by_n)}")
        return by_n[wanted]
    reference = current or releases[-1]
    for candidate in reversed(releases):
        if candidate.n < reference.n and candidate.template_sha256 != reference.template_sha256:
            return candidate
    raise RollbackError(f"no release before {reference.n} has a different configuration to roll back to")


def missing_outputs(release_dir: Path, stack: str) -> list[tuple[str, str]]:
    """(dependant, output) pairs: outputs of `stack` the dependants' current configuration reads but the release
    does not produce."""
    produced = set(json.loads((release_dir / CONFIG_FILE).read_text()).get("output", {}))
    missing: list[tuple[str, str]] = []
    for dependant in graph.dependants(stack):
        path = stack_dir(dependant) / CONFIG_FILE
        if not path.exists():
            continue
        read = set(store.remote_output_reads(path.read_text(), stack))
        missing += [(dependant, name) for name in sorted(read - produced)]
    return missing


def unavailable_inputs(settings: Settings, release_dir: Path, stack: str) -> list[tuple[str, str]]:
    """(producer, output) pairs: what the release reads from the stacks it depends on that their state no
    longer holds (Terraform would fail the plan on them)."""
    text = (release_dir / CONFIG_FILE).read_text()
    missing: list[tuple[str, str]] = []
    for producer in graph.dependencies().get(stack, []):
        read = store.remote_output_reads(text, producer)
        if read:
            available = set((store.read_state(settings, producer) or {}).get("outputs", {}))
            missing += [(producer, name) for name in read if name not in available]
    return missing


def _by_stack(pairs: list[tuple[str, str]]) -> str:
    grouped: dict[str, list[str]] = {}
    for stack, name in pairs:
        grouped.setdefault(stack, []).append(name)
    return "; ".join(f"{stack}: {', '.join(names)}" for stack, names in grouped.items())


def materialize(settings: Settings, release: Release, directory: Path) -> None:
    base = f"{prefix(settings, release.stack)}{release.n}/"
    for key in bucket.keys(settings, base):
        relative = key[len(base) :]
        if relative == RELEASE_FILE:
            continue
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(bucket.get_bytes(settings, key) or b"")
    through_copy_in_use(settings, directory / CONFIG_FILE)


def through_copy_in_use(settings: Settings, config_file: Path) -> None:
    """A release keeps the backend of the state home it was applied through; it is rolled back through the copy in
    use now (`ops.state.home`): the backend and every remote-state read that name either home name that copy."""
    if not config_file.exists():
        return
    config = json.loads(config_file.read_text())
    blocks = [config.get("terraform", {}).get("backend", {}).get("s3", {})]
    blocks += [read.get("config", {}) for read in config.get("data", {}).get("terraform_remote_state", {}).values()]
    homes = {settings.state_bucket_of(role) for role in ROLES}
    moved = [b for b in blocks if b.get("bucket") in homes and b.get("bucket") != settings.state_bucket]
    for block in moved:
        block.update(bucket=settings.state_bucket, region=settings.state_region)
    if moved:
        config_file.write_text(json.dumps(config, indent=2))


_NOISE = re.compile(r": (Refreshing state\.\.\.|Reading\.\.\.|Read complete after)")


class _Echo:
    """Stream Terraform's output indented, without per-resource refresh lines or the outputs listing."""

    def __init__(self) -> None:
        self.quiet = False

    def __call__(self, line: str) -> None:
        self.quiet = self.quiet or line.strip() == "Outputs:"
        if not self.quiet and not _NOISE.search(line):
            console.say(f"    {line}", end="")


def _check_release(settings: Settings, directory: Path, stack: str, target: Release) -> None:
    """Refuse a release whose outputs or inputs no longer fit the stacks around it."""
    missing = missing_outputs(directory, stack)
    if missing:
        raise RollbackError(
            f"release {target.n} of {stack} does not produce outputs its dependants read: {_by_stack(missing)}"
        )
    unavailable = unavailable_inputs(settings, directory, stack)
    if unavailable:
        raise RollbackError(
            f"release {target.n} of {stack} reads outputs its dependencies no longer have: {_by_stack(unavailable)}"
        )
    if traffic_split.dns_role(stack) is not None:
        split = traffic_split.read(settings).weights
        traffic_split.write_tfvars(stack, split, directory)
        console.say(f"--> traffic: keeping the current split {split} (primary/secondary), not the release's")


class _ReleaseTerraform:
    """Terraform in a materialized release directory, against the stack's own backend and lock."""

    def __init__(self, settings: Settings, stack: str, directory: Path) -> None:
        self.settings, self.stack, self.directory = settings, stack, directory
        self.lock = f"-lock-timeout={settings.state.lock_timeout_seconds}s"

    def run(self, *args: str, stream: Callable[[str], None] | None = None) -> tuple[int, str]:
        return run_terraform(self.directory, tool_env(self.settings), args, stream)

    def locked(self, command: str, *args: str) -> int:
        """A command that takes the state lock (registered as this machine's run on the stack), echoed."""
        with own_lock.terraform_run(self.settings, self.stack):
            code, _ = self.run(command, self.lock, *args, stream=_Echo())
        return code


def rollback(settings: Settings, stack: str, *, wanted: int | None, confirm: str) -> int:
    validate_confirm("rollback", confirm, "apply")
    serials.check_current(settings, stack)  # a stale replica copy would roll back from the wrong state
    releases = list_releases(settings, stack)
    current = current_release(settings, stack, releases)
    target = choose(releases, current, wanted)
    if current is not None and target.template_sha256 == current.template_sha256:
        console.say(
            f"{stack}: release {target.n} has the configuration of the current release {current.n}; nothing to do"
        )
        return 0
    now_text = f"release {current.n}" if current else "a state changed after the newest release"
    console.say(f"--> {stack}: rolling back from {now_text} to release {target.n} ({target.time}, {target.revision})")
    with tempfile.TemporaryDirectory(prefix=f"rollback-{stack}-") as tmp:
        directory = Path(tmp)
        materialize(settings, target, directory)
        _check_release(settings, directory, stack, target)
        code = _plan_and_apply(_ReleaseTerraform(settings, stack, directory), target, confirm)
        if code is not None:
            return code
        _record_rollback(settings, stack, directory, target)
    console.say(
        f"{stack} rolled back to release {target.n}. The next `make deploy` applies the current source again: "
        "revert or fix the source first."
    )
    return 0


def _plan_and_apply(terraform: _ReleaseTerraform, target: Release, confirm: str) -> int | None:
    """Init, plan and (once confirmed) apply the release; an exit code when it ends early, None once applied."""
    settings, stack = terraform.settings, terraform.stack
    console.say(f"--> terraform init (backend {settings.state_bucket}/{settings.environment}/{stack}.tfstate)")
    code, output = terraform.run("init", "-input=false", "-no-color")
    if code != 0:
        console.say(output, end="")
        raise RollbackError(f"terraform init of release {target.n} failed")
    console.say(f"--> plan of release {target.n}:")
    code = terraform.locked("plan", "-input=false", "-no-color", "-detailed-exitcode", f"-out={PLAN_FILE}")
    if code == 1:
        raise RollbackError(f"terraform plan of release {target.n} failed (see above)")
    if code == 0:
        console.say(f"{stack}: already matches release {target.n}; nothing to apply")
        return 0
    question = f"Apply this plan to {stack} (roll back to release {target.n})?"
    no_terminal = "rollback refused: no terminal to ask for confirmation; re-run with CONFIRM=yes to apply this plan"
    if not confirmed("rollback", confirm, question, what="apply", no_terminal=no_terminal):
        console.say("not applied")
        return 1
    console.say(f"--> applying release {target.n} to {stack}")
    if terraform.locked("apply", "-input=false", "-no-color", PLAN_FILE) != 0:
        raise RollbackError(
            f"terraform apply of release {target.n} failed (see above); {stack} may be partly rolled back"
        )
    return None


def _record_rollback(settings: Settings, stack: str, directory: Path, target: Release) -> None:
    state = store.read_state(settings, stack)
    version = store.state_version(state)
    update_outputs(settings, {stack: store.outputs(state)})
    if version is not None:
        serials.write(settings, stack, version)
        new = new_release(settings, stack, version, directory, rollback_of=target.n)
        console.say(f"--> recorded release {new.n} of {stack} (rollback of {target.n}; state serial {version.serial})")
