"""A state lock left behind by the very Terraform run that took it.

When the answer to Terraform's lock PutItem is lost, its SDK retries the write,
the retry finds the lock the first attempt took, and Terraform reports the
state as locked by someone else. It waits out `-lock-timeout` on its own lock,
fails, and never releases it: every later run of that stack then fails too.

Such a lock is recognisable: it was created by this user on this host, for
this operation, after this run started, while no other command started through
`ops` on this machine was running Terraform on the stack (`terraform_run`
registers each one). Only such a lock is released, with a conditional delete
that cannot remove a lock someone took in the meantime.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from config.settings import Settings
from ops.core.paths import LOCAL_DIR
from ops.state import locks

LOCK_FAILURE = "Error acquiring the state lock"
RUNS_DIR = LOCAL_DIR / "terraform-runs"
OPERATION = {"plan": "OperationTypePlan", "apply": "OperationTypeApply"}


def terraform_who() -> str:
    """What Terraform records as `Who`: the account name of this uid, `@`, the host name."""
    return f"{pwd.getpwuid(os.getuid()).pw_name}@{socket.gethostname()}"


def parse_created(value: str) -> datetime:
    """Terraform writes RFC 3339 with nanoseconds; Python reads at most microseconds."""
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", value).replace("Z", "+00:00")
    return datetime.fromisoformat(trimmed)


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TerraformRun:
    """One Terraform command on a stack, registered on this machine while it runs."""

    stack: str
    marker: Path
    started: datetime

    def alone(self) -> bool:
        """No other command started through `ops` on this machine is running Terraform on the stack."""
        for other in self.marker.parent.iterdir():
            if other == self.marker:
                continue
            pid = int(other.name.split("-", 1)[0])
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                other.unlink(missing_ok=True)  # its process is gone
                continue
            except PermissionError:
                pass
            return False
        return True


@contextmanager
def terraform_run(settings: Settings, stack: str) -> Iterator[TerraformRun]:
    """Register a Terraform command on the stack's state for as long as it runs."""
    target = settings.local.endpoint if settings.is_local else f"aws:{settings.aws.profile}"
    name = hashlib.sha256(f"{target}|{locks.state_lock_id(settings, stack)}".encode()).hexdigest()[:24]
    directory = RUNS_DIR / f"{stack}-{name}"
    directory.mkdir(parents=True, exist_ok=True)
    marker = directory / f"{os.getpid()}-{uuid.uuid4().hex}"
    marker.touch()
    try:
        yield TerraformRun(stack, marker, now())
    finally:
        marker.unlink(missing_ok=True)


def release_if_orphaned(settings: Settings, run: TerraformRun, command: str) -> str | None:
    """Release the stack's lock if this run took it and lost track of it; returns the released lock's ID."""
    if not run.alone():
        return None
    lock = locks.state_lock(settings, run.stack)
    if lock is None:
        return None
    if lock.info.get("Who") != terraform_who() or lock.info.get("Operation") != OPERATION.get(command):
        return None
    if parse_created(lock.info.get("Created", "1970-01-01T00:00:00Z")) < run.started:
        return None
    return lock.field("ID") if locks.delete_if_unchanged(settings, lock) else None
