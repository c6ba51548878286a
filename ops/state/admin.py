"""Operator repairs of remote state: listing its stored versions and restoring an earlier one (asks first)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from config.settings import Settings
from ops.core.confirm import confirmed
from ops.core.console import console
from ops.core.errors import RefusedError
from ops.state import bucket, locks
from shared.naming import state_key


@dataclass(frozen=True)
class StateVersionInfo:
    version_id: str
    modified: str
    size: int
    serial: int | None
    latest: bool


def state_versions(settings: Settings, stack: str) -> list[StateVersionInfo]:
    key = state_key(settings, stack)
    listing = bucket.s3(settings).list_object_versions(Bucket=settings.state_bucket, Prefix=key)
    versions = [v for v in listing.get("Versions", []) if v.get("Key") == key]
    found = []
    for v in sorted(versions, key=lambda v: v["LastModified"], reverse=True):
        body = bucket.get_bytes(settings, key, v["VersionId"])
        serial = json.loads(body).get("serial") if body else None
        found.append(StateVersionInfo(v["VersionId"], v["LastModified"].isoformat(), v["Size"], serial, v["IsLatest"]))
    return found


def write_state(settings: Settings, stack: str, state: dict[str, Any]) -> None:
    """Write a stack's state the way Terraform's S3 backend does: the object, then its digest in the lock table
    (Terraform refuses to read state whose digest does not match)."""
    body = (json.dumps(state, indent=2) + "\n").encode()
    bucket.put_bytes(settings, state_key(settings, stack), body, "application/json")
    locks.dynamodb(settings).put_item(
        TableName=settings.state.lock_table,
        Item={
            "LockID": {"S": f"{locks.state_lock_id(settings, stack)}-md5"},
            "Digest": {"S": hashlib.md5(body, usedforsecurity=False).hexdigest()},
        },
    )
    locks.mirror_digest(settings, stack)  # the other home's copy gets these bytes by replication


def restore(settings: Settings, stack: str, version_id: str, confirm: str) -> int:
    """Make an earlier state version current again (as a new version), keeping the lock table's digest in step."""
    versions = {v.version_id: v for v in state_versions(settings, stack)}
    if version_id not in versions:
        raise RefusedError(f"{stack}: no state version {version_id!r}; versions: {', '.join(versions) or 'none'}")
    if locks.state_lock(settings, stack) is not None:
        raise RefusedError(f"{stack}: state is locked; wait for the running apply or release a stale lock first")
    question = f"Restore {stack} state version {version_id} (serial {versions[version_id].serial})?"
    if not confirmed("state-restore", confirm, question, what="restore"):
        return 1
    body = bucket.get_bytes(settings, state_key(settings, stack), version_id) or b"{}"
    state: dict[str, Any] = json.loads(body)
    current_serial = max((v.serial or 0) for v in versions.values())
    state["serial"] = current_serial + 1  # Terraform refuses to go backwards in serial for the same lineage
    write_state(settings, stack, state)
    console.say(
        f"{stack}: restored state version {version_id} as serial {state['serial']}; run `make diff STACK={stack}`"
    )
    return 0
