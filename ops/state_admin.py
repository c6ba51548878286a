"""Operator repairs of remote state: who holds a lock, releasing a stale one, restoring an earlier version.

Both repairs change shared state, so both ask for confirmation (or CONFIRM=yes).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass
from typing import Any

from config.settings import Settings
from ops.aws_clients import client
from ops.terraform import StackTerraform, TerraformError
from shared.naming import state_key

LOCK_ID = re.compile(r"^\s*ID:\s+(\S+)", re.M)


@dataclass(frozen=True)
class LockHolder:
    lock_id: str
    who: str
    operation: str
    created: str


def lock_holder(settings: Settings, stack: str) -> LockHolder | None:
    """The lock item Terraform keeps in the lock table for this stack's state, if any."""
    item = (
        client(settings, "dynamodb", settings.state_region)
        .get_item(
            TableName=settings.state.lock_table,
            Key={"LockID": {"S": f"{settings.state.bucket}/{state_key(settings, stack)}"}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    if not item or "Info" not in item:
        return None
    info = json.loads(item["Info"]["S"])
    return LockHolder(info.get("ID", "?"), info.get("Who", "?"), info.get("Operation", "?"), info.get("Created", "?"))


def explain_lock_error(stack: str, error: TerraformError) -> str | None:
    """For a failed lock acquisition: one line naming the holder and the command that releases a stale lock."""
    if "Error acquiring the state lock" not in error.output:
        return None
    found = LOCK_ID.search(error.output)
    lock_id = found.group(1) if found else "<id>"
    who = re.search(r"^\s*Who:\s+(.+)$", error.output, re.M)
    created = re.search(r"^\s*Created:\s+(.+)$", error.output, re.M)
    return (
        f"{stack}: state is locked by {who.group(1) if who else '?'} since {created.group(1) if created else '?'} "
        f"(lock {lock_id}); if that run is gone, release it with: make unlock STACK={stack} LOCK_ID={lock_id}"
    )


def _confirmed(prompt: str, confirm: str) -> bool:
    if confirm == "yes":
        return True
    if not sys.stdin.isatty():
        print(f"{prompt} -- refusing without a terminal; re-run with CONFIRM=yes", file=sys.stderr)
        return False
    return input(f"{prompt} [y/N] ").strip().lower() in {"y", "yes"}


def unlock(settings: Settings, stack: str, lock_id: str, confirm: str) -> int:
    holder = lock_holder(settings, stack)
    if holder is None:
        print(f"{stack}: no lock is held", file=sys.stderr)
        return 1
    if holder.lock_id != lock_id:
        print(f"{stack}: the lock is {holder.lock_id} (held by {holder.who}), not {lock_id}", file=sys.stderr)
        return 1
    print(f"{stack}: lock {holder.lock_id} held by {holder.who} for {holder.operation} since {holder.created}")
    if not _confirmed("Release it? Only do this when that run is no longer running.", confirm):
        return 1
    terraform = StackTerraform(stack, settings)
    code, output = terraform.run_command("force-unlock", "-force", lock_id)
    print(output.strip())
    return code


@dataclass(frozen=True)
class StateVersionInfo:
    version_id: str
    modified: str
    size: int
    serial: int | None
    latest: bool


def state_versions(settings: Settings, stack: str) -> list[StateVersionInfo]:
    s3 = client(settings, "s3", settings.state_region)
    key = state_key(settings, stack)
    listing = s3.list_object_versions(Bucket=settings.state.bucket, Prefix=key)
    versions = [v for v in listing.get("Versions", []) if v["Key"] == key]
    found = []
    for v in sorted(versions, key=lambda v: v["LastModified"], reverse=True):
        body = s3.get_object(Bucket=settings.state.bucket, Key=key, VersionId=v["VersionId"])["Body"].read()
        serial = json.loads(body).get("serial") if body else None
        found.append(StateVersionInfo(v["VersionId"], v["LastModified"].isoformat(), v["Size"], serial, v["IsLatest"]))
    return found


def write_state(settings: Settings, stack: str, state: dict[str, Any]) -> None:
    """Write a stack's state the way Terraform's S3 backend does: the object, then its digest in the lock table
    (Terraform refuses to read state whose digest does not match)."""
    key = state_key(settings, stack)
    body = (json.dumps(state, indent=2) + "\n").encode()
    client(settings, "s3", settings.state_region).put_object(
        Bucket=settings.state.bucket, Key=key, Body=body, ContentType="application/json"
    )
    client(settings, "dynamodb", settings.state_region).put_item(
        TableName=settings.state.lock_table,
        Item={
            "LockID": {"S": f"{settings.state.bucket}/{key}-md5"},
            "Digest": {"S": hashlib.md5(body, usedforsecurity=False).hexdigest()},
        },
    )


def restore(settings: Settings, stack: str, version_id: str, confirm: str) -> int:
    """Make an earlier state version current again (as a new version), keeping the lock table's digest in step."""
    versions = {v.version_id: v for v in state_versions(settings, stack)}
    if version_id not in versions:
        listed = ", ".join(versions) or "none"
        print(f"{stack}: no state version {version_id!r}; versions: {listed}", file=sys.stderr)
        return 1
    if lock_holder(settings, stack) is not None:
        print(f"{stack}: state is locked; wait for the running apply or release a stale lock first", file=sys.stderr)
        return 1
    chosen = versions[version_id]
    if not _confirmed(f"Restore {stack} state version {version_id} (serial {chosen.serial})?", confirm):
        return 1
    s3 = client(settings, "s3", settings.state_region)
    key = state_key(settings, stack)
    body: bytes = s3.get_object(Bucket=settings.state.bucket, Key=key, VersionId=version_id)["Body"].read()
    state: dict[str, Any] = json.loads(body)
    current_serial = max((v.serial or 0) for v in versions.values())
    state["serial"] = current_serial + 1  # Terraform refuses to go backwards in serial for the same lineage
    write_state(settings, stack, state)
    print(f"{stack}: restored state version {version_id} as serial {state['serial']}; run `make diff STACK={stack}`")
    return 0
