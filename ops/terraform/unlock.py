"""Stale state locks: one line naming the holder when an apply fails on a lock, and `make unlock` to release it."""

from __future__ import annotations

import re

from config.settings import Settings
from ops.core.confirm import confirmed
from ops.core.console import console
from ops.core.errors import RefusedError
from ops.state import locks
from ops.terraform.own_lock import LOCK_FAILURE
from ops.terraform.runner import StackTerraform, TerraformError

LOCK_ID = re.compile(r"^\s*ID:\s+(\S+)", re.M)
WHO = re.compile(r"^\s*Who:\s+(.+)$", re.M)
CREATED = re.compile(r"^\s*Created:\s+(.+)$", re.M)


def explain_lock_error(stack: str, error: TerraformError) -> str | None:
    """For a failed lock acquisition: one line naming the holder and the command that releases a stale lock."""
    if LOCK_FAILURE not in error.output:
        return None
    found, who, created = (pattern.search(error.output) for pattern in (LOCK_ID, WHO, CREATED))
    lock_id = found.group(1) if found else "<id>"
    return (
        f"{stack}: state is locked by {who.group(1) if who else '?'} since {created.group(1) if created else '?'} "
        f"(lock {lock_id}); if that run is gone, release it with: make unlock STACK={stack} LOCK_ID={lock_id}"
    )


def unlock(settings: Settings, stack: str, lock_id: str, confirm: str) -> int:
    holder = locks.state_lock(settings, stack)
    if holder is None:
        raise RefusedError(f"{stack}: no lock is held")
    if holder.field("ID") != lock_id:
        raise RefusedError(f"{stack}: the lock is {holder.field('ID')} (held by {holder.field('Who')}), not {lock_id}")
    console.say(
        f"{stack}: lock {holder.field('ID')} held by {holder.field('Who')} for {holder.field('Operation')} "
        f"since {holder.field('Created')}"
    )
    question = "Release it? Only do this when that run is no longer running."
    if not confirmed("unlock", confirm, question, what="release the lock"):
        return 1
    code, output = StackTerraform(stack, settings).run_command("force-unlock", "-force", lock_id)
    console.say(output.strip())
    return code
