"""Per-stack releases: every successful apply keeps what it applied, so any of it can be re-applied (`rollback`).

A release is `<env>/releases/<stack>/<n>/` in the state bucket: the synthesized `cdk.tf.json`, any
`*.auto.tfvars.json`, the `assets/` files and `release.json` (n, git revision, time, the state's lineage and
serial after the apply, the configuration sha256, and `rollback_of` when it was made by a rollback).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config.settings import Settings
from ops.build.fingerprint import config_sha256, stack_files, template_sha256, variables
from ops.core.clock import utc_now
from ops.core.console import Console, console
from ops.core.paths import stack_dir
from ops.core.revision import git_revision
from ops.state import bucket, store

RELEASE_FILE = "release.json"


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


def prefix(settings: Settings, stack: str) -> str:
    return f"{settings.environment}/releases/{stack}/"


def list_releases(settings: Settings, stack: str) -> list[Release]:
    found = [
        Release.from_json(bucket.get_json(settings, key))
        for key in bucket.keys(settings, prefix(settings, stack))
        if key.endswith(f"/{RELEASE_FILE}")
    ]
    return sorted(found, key=lambda r: r.n)


def _upload(settings: Settings, stack: str, n: int, directory: Path, meta: dict[str, Any]) -> None:
    base = f"{prefix(settings, stack)}{n}/"
    for relative in stack_files(directory):
        bucket.put_bytes(settings, base + relative.as_posix(), (directory / relative).read_bytes())
    # release.json last: a release without it is incomplete and never listed.
    bucket.put_json(settings, base + RELEASE_FILE, meta, trailing_newline=True)


def new_release(
    settings: Settings,
    stack: str,
    version: store.StateVersion,
    directory: Path,
    *,
    rollback_of: int | None = None,
) -> Release:
    """Keep what `directory` holds as the stack's next release (its apply left the state at `version`)."""
    existing = list_releases(settings, stack)
    release = Release(
        stack=stack,
        n=(existing[-1].n + 1) if existing else 1,
        revision=git_revision(),
        time=utc_now(),
        lineage=version.lineage,
        serial=version.serial,
        config_sha256=config_sha256(directory),
        template_sha256=template_sha256(directory),
        rollback_of=rollback_of,
        variables=variables(directory),
    )
    _upload(settings, stack, release.n, directory, asdict(release))
    return release


def record(
    settings: Settings, stack: str, version: store.StateVersion | None, out: Console = console
) -> Release | None:
    """The deploy hook: keep what was just applied to `stack` as its next release (never fails the deploy)."""
    if version is None:
        return None
    try:
        return new_release(settings, stack, version, stack_dir(stack))
    except (BotoCoreError, ClientError, OSError, ValueError) as error:
        out.say(f"    warning: {stack}: release not recorded ({error}); it cannot be rolled back to")
        return None


def current_release(settings: Settings, stack: str, releases: list[Release]) -> Release | None:
    """The release whose apply left the stack's state as it is now (None when the state moved since)."""
    version = store.state_version(store.read_state(settings, stack))
    if version is None:
        return None
    matching = [r for r in releases if (r.lineage, r.serial) == (version.lineage, version.serial)]
    return matching[-1] if matching else None


def _note(release: Release) -> str:
    notes = [f"rollback of {release.rollback_of}"] if release.rollback_of else []
    notes += [f"{name}={value}" for name, value in sorted((release.variables or {}).items())]
    return ", ".join(notes)


def print_releases(settings: Settings, stack: str, *, as_json: bool = False) -> int:
    releases = list_releases(settings, stack)
    current = current_release(settings, stack, releases)
    if as_json:
        console.json(
            {"stack": stack, "current": current.n if current else None, "releases": [asdict(r) for r in releases]}
        )
        return 0
    if not releases:
        console.say(f"{stack}: no releases recorded yet (every successful apply records one)")
        return 0
    console.say(f"{'':<2}{'n':>4}  {'time':<26}{'revision':<18}{'serial':>7}  {'config':<13}note")
    for r in releases:
        marker = "*" if current is not None and r.n == current.n else ""
        config = r.template_sha256[:12]
        console.say(f"{marker:<2}{r.n:>4}  {r.time:<26}{r.revision:<18}{r.serial:>7}  {config:<13}{_note(r)}")
    if current is None:
        console.say(f"(no release matches {stack}'s state now: it was changed after the newest release)")
    else:
        console.say(f"* = current: release {current.n} left the state as it is now")
    return 0
