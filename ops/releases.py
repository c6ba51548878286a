"""Per-stack releases and rollback: every successful apply keeps what it applied, any of it can be re-applied.

A release is `<env>/releases/<stack>/<n>/` in the state bucket: the synthesized `cdk.tf.json`, any
`*.auto.tfvars.json`, the `assets/` files and `release.json` (n, git revision, time, the state's lineage and
serial after the apply, the configuration sha256, and `rollback_of` when it was made by a rollback).

`rollback` materializes a release in a temporary directory, initializes it with the same backend (the
backend block is part of `cdk.tf.json`), shows the plan and applies exactly that plan to that one stack.
It refuses when a dependant stack reads an output the release does not produce. DNS stacks keep the
current traffic split (`ops.traffic`): a rollback changes their configuration, never the weights.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config.settings import Settings
from ops import graph, own_lock, state_store, traffic
from ops.aws_clients import client
from ops.paths import stack_dir
from ops.terraform import run_terraform
from ops.tool_env import tool_env

RELEASE_FILE = "release.json"
CONFIG_FILE = "cdk.tf.json"
PLAN_FILE = "rollback.tfplan"


@dataclass(frozen=True)
class Release:
    stack: str
    n: int
    revision: str
    time: str
    lineage: str
    serial: int
    config_sha256: str
    template_sha256: str
    rollback_of: int | None = None
    variables: dict[str, Any] | None = None  # the `*.auto.tfvars.json` values applied (DNS: the traffic weight)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Release:
        return cls(
            stack=data["stack"],
            n=int(data["n"]),
            revision=data.get("revision", "unknown"),
            time=data.get("time", ""),
            lineage=data.get("lineage", ""),
            serial=int(data.get("serial", -1)),
            config_sha256=data.get("config_sha256", ""),
            template_sha256=data.get("template_sha256", ""),
            rollback_of=data.get("rollback_of"),
            variables=data.get("variables"),
        )


class RollbackError(SystemExit):
    """A rollback that must not (or cannot) go ahead: one line saying why, exit 1."""

    def __init__(self, message: str) -> None:
        super().__init__(f"rollback refused: {message}")


def _s3(settings: Settings) -> Any:
    return client(settings, "s3", settings.state_region)


def prefix(settings: Settings, stack: str) -> str:
    return f"{settings.environment}/releases/{stack}/"


def release_files(directory: Path) -> list[Path]:
    """What a release keeps of a synthesized stack directory (paths relative to it)."""
    files = [Path(CONFIG_FILE), *sorted(p.relative_to(directory) for p in directory.glob("*.auto.tfvars.json"))]
    assets = directory / "assets"
    if assets.is_dir():
        files += sorted(p.relative_to(directory) for p in assets.rglob("*") if p.is_file())
    return files


def config_sha256(directory: Path) -> str:
    """`ops.state_store.config_sha256` of a stack directory anywhere (a unit test keeps the two identical)."""
    digest = hashlib.sha256((directory / CONFIG_FILE).read_bytes())
    for path in sorted(directory.glob("*.auto.tfvars.json")):
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    _add_assets(digest, directory)
    return digest.hexdigest()


def _add_assets(digest: Any, directory: Path) -> None:
    assets = directory / "assets"
    if assets.is_dir():
        for path in sorted(p for p in assets.rglob("*") if p.is_file()):
            digest.update(
                str(path.relative_to(directory)).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest()
            )


def variables(directory: Path) -> dict[str, Any]:
    """The variable values a stack directory applies (`*.auto.tfvars.json`, merged in Terraform's order)."""
    merged: dict[str, Any] = {}
    for path in sorted(directory.glob("*.auto.tfvars.json")):
        merged.update(json.loads(path.read_text()))
    return merged


def template_sha256(directory: Path) -> str:
    """The configuration without variable values (JSON + assets): what tells two releases' code apart."""
    digest = hashlib.sha256((directory / CONFIG_FILE).read_bytes())
    _add_assets(digest, directory)
    return digest.hexdigest()


def list_releases(settings: Settings, stack: str) -> list[Release]:
    s3 = _s3(settings)
    found: list[Release] = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=settings.state.bucket, Prefix=prefix(settings, stack)
    ):
        for item in page.get("Contents", []):
            if item["Key"].endswith(f"/{RELEASE_FILE}"):
                body = s3.get_object(Bucket=settings.state.bucket, Key=item["Key"])["Body"].read()
                found.append(Release.from_json(json.loads(body)))
    return sorted(found, key=lambda r: r.n)


def _upload(settings: Settings, stack: str, n: int, directory: Path, meta: dict[str, Any]) -> None:
    s3 = _s3(settings)
    base = f"{prefix(settings, stack)}{n}/"
    for relative in release_files(directory):
        s3.put_object(
            Bucket=settings.state.bucket, Key=base + relative.as_posix(), Body=(directory / relative).read_bytes()
        )
    # release.json last: a release without it is incomplete and never listed.
    s3.put_object(
        Bucket=settings.state.bucket,
        Key=base + RELEASE_FILE,
        Body=(json.dumps(meta, indent=2) + "\n").encode(),
        ContentType="application/json",
    )


def _new_release(
    settings: Settings,
    stack: str,
    version: state_store.StateVersion,
    directory: Path,
    *,
    config_sha256: str,
    rollback_of: int | None = None,
) -> Release:
    from ops.deploy import _git_revision  # late: ops.deploy imports this module

    existing = list_releases(settings, stack)
    release = Release(
        stack=stack,
        n=(existing[-1].n + 1) if existing else 1,
        revision=_git_revision(),
        time=traffic.now(),
        lineage=version.lineage,
        serial=version.serial,
        config_sha256=config_sha256,
        template_sha256=template_sha256(directory),
        rollback_of=rollback_of,
        variables=variables(directory),
    )
    _upload(settings, stack, release.n, directory, asdict(release))
    return release


def record(settings: Settings, stack: str, version: state_store.StateVersion | None) -> Release | None:
    """The deploy hook: keep what was just applied to `stack` as its next release (never fails the deploy)."""
    if version is None:
        return None
    try:
        return _new_release(settings, stack, version, stack_dir(stack), config_sha256=state_store.config_sha256(stack))
    except (BotoCoreError, ClientError, OSError, ValueError) as error:
        print(f"    warning: {stack}: release not recorded ({error}); it cannot be rolled back to", flush=True)
        return None


def current_release(settings: Settings, stack: str, releases: list[Release]) -> Release | None:
    """The release whose apply left the stack's state as it is now (None when the state moved since)."""
    version = state_store.state_version(state_store.read_state(settings, stack))
    if version is None:
        return None
    matching = [r for r in releases if (r.lineage, r.serial) == (version.lineage, version.serial)]
    return matching[-1] if matching else None


def print_releases(settings: Settings, stack: str) -> int:
    releases = list_releases(settings, stack)
    if not releases:
        print(f"{stack}: no releases recorded yet (every successful apply records one)")
        return 0
    current = current_release(settings, stack, releases)
    print(f"{'':<2}{'n':>4}  {'time':<26}{'revision':<18}{'serial':>7}  {'config':<13}note")
    for r in releases:
        marker = "*" if current is not None and r.n == current.n else ""
        notes = [f"rollback of {r.rollback_of}"] if r.rollback_of else []
        notes += [f"{name}={value}" for name, value in sorted((r.variables or {}).items())]
        note = ", ".join(notes)
        print(f"{marker:<2}{r.n:>4}  {r.time:<26}{r.revision:<18}{r.serial:>7}  {r.template_sha256[:12]:<13}{note}")
    if current is None:
        print(f"(no release matches {stack}'s state now: it was changed after the newest release)")
    else:
        print(f"* = current: release {current.n} left the state as it is now")
    return 0


# -- rollback ---------------------------------------------------------------------------------------------------


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
        read = set(state_store.remote_output_reads(path.read_text(), stack))
        missing += [(dependant, name) for name in sorted(read - produced)]
    return missing


def unavailable_inputs(settings: Settings, release_dir: Path, stack: str) -> list[tuple[str, str]]:
    """(producer, output) pairs: what the release reads from the stacks it depends on that their state no
    longer holds (Terraform would fail the plan on them)."""
    text = (release_dir / CONFIG_FILE).read_text()
    missing: list[tuple[str, str]] = []
    for producer in graph.dependencies().get(stack, []):
        read = state_store.remote_output_reads(text, producer)
        if read:
            available = set((state_store.read_state(settings, producer) or {}).get("outputs", {}))
            missing += [(producer, name) for name in read if name not in available]
    return missing


def _by_stack(pairs: list[tuple[str, str]]) -> str:
    grouped: dict[str, list[str]] = {}
    for stack, name in pairs:
        grouped.setdefault(stack, []).append(name)
    return "; ".join(f"{stack}: {', '.join(names)}" for stack, names in grouped.items())


def materialize(settings: Settings, release: Release, directory: Path) -> None:
    s3 = _s3(settings)
    base = f"{prefix(settings, release.stack)}{release.n}/"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.state.bucket, Prefix=base):
        for item in page.get("Contents", []):
            relative = item["Key"][len(base) :]
            if relative == RELEASE_FILE:
                continue
            target = directory / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=settings.state.bucket, Key=item["Key"])["Body"].read())


def _terraform(
    settings: Settings, directory: Path, *args: str, stream: Callable[[str], None] | None = None
) -> tuple[int, str]:
    return run_terraform(directory, tool_env(settings), args, stream)


_NOISE = re.compile(r": (Refreshing state\.\.\.|Reading\.\.\.|Read complete after)")


class _Echo:
    """Stream Terraform's output indented, without per-resource refresh lines or the outputs listing."""

    def __init__(self) -> None:
        self.quiet = False

    def __call__(self, line: str) -> None:
        self.quiet = self.quiet or line.strip() == "Outputs:"
        if not self.quiet and not _NOISE.search(line):
            print(f"    {line}", end="", flush=True)


def _confirmed(stack: str, release: Release, confirm: str) -> bool:
    if confirm == "yes":
        return True
    if not sys.stdin.isatty():
        raise RollbackError("no terminal to ask for confirmation; re-run with CONFIRM=yes to apply this plan")
    answer = input(f"Apply this plan to {stack} (roll back to release {release.n})? [y/N] ")
    return answer.strip().lower() in {"y", "yes"}


def validate_confirm(confirm: str) -> None:
    if confirm not in {"", "yes"}:
        raise SystemExit(f"rollback: CONFIRM={confirm!r} is invalid: use CONFIRM=yes to apply without a prompt")


def rollback(settings: Settings, stack: str, *, wanted: int | None, confirm: str) -> int:
    validate_confirm(confirm)
    releases = list_releases(settings, stack)
    current = current_release(settings, stack, releases)
    target = choose(releases, current, wanted)
    if current is not None and target.template_sha256 == current.template_sha256:
        print(f"{stack}: release {target.n} has the configuration of the current release {current.n}; nothing to do")
        return 0
    now_text = f"release {current.n}" if current else "a state changed after the newest release"
    print(f"--> {stack}: rolling back from {now_text} to release {target.n} ({target.time}, {target.revision})")

    with tempfile.TemporaryDirectory(prefix=f"rollback-{stack}-") as tmp:
        directory = Path(tmp)
        materialize(settings, target, directory)
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
        if traffic.dns_role(stack) is not None:
            split = traffic.read(settings).weights
            traffic.write_tfvars(stack, split, directory)
            print(f"--> traffic: keeping the current split {split} (primary/secondary), not the release's")
        print(f"--> terraform init (backend {settings.state.bucket}/{settings.environment}/{stack}.tfstate)")
        code, output = _terraform(settings, directory, "init", "-input=false", "-no-color")
        if code != 0:
            print(output, end="")
            raise RollbackError(f"terraform init of release {target.n} failed")
        lock = f"-lock-timeout={settings.state.lock_timeout_seconds}s"
        print(f"--> plan of release {target.n}:")
        with own_lock.terraform_run(settings, stack):
            code, output = _terraform(
                settings,
                directory,
                "plan",
                "-input=false",
                "-no-color",
                "-detailed-exitcode",
                lock,
                f"-out={PLAN_FILE}",
                stream=_Echo(),
            )
        if code == 1:
            raise RollbackError(f"terraform plan of release {target.n} failed (see above)")
        if code == 0:
            print(f"{stack}: already matches release {target.n}; nothing to apply")
            return 0
        if not _confirmed(stack, target, confirm):
            print("not applied")
            return 1
        print(f"--> applying release {target.n} to {stack}")
        with own_lock.terraform_run(settings, stack):
            code, output = _terraform(
                settings, directory, "apply", "-input=false", "-no-color", lock, PLAN_FILE, stream=_Echo()
            )
        if code != 0:
            raise RollbackError(
                f"terraform apply of release {target.n} failed (see above); {stack} may be partly rolled back"
            )
        state = state_store.read_state(settings, stack)
        version = state_store.state_version(state)
        from ops.deploy import update_outputs  # late: ops.deploy imports this module

        update_outputs(settings, {stack: state_store.outputs(state)})
        if version is not None:
            new = _new_release(
                settings, stack, version, directory, config_sha256=config_sha256(directory), rollback_of=target.n
            )
            print(f"--> recorded release {new.n} of {stack} (rollback of {target.n}; state serial {version.serial})")
    print(
        f"{stack} rolled back to release {target.n}. The next `make deploy` applies the current source again: "
        "revert or fix the source first."
    )
    return 0
