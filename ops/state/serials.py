"""The state-serial journal: what each stack's last apply left, kept in the lock table so that either home knows.

After every successful apply (or destroy) the engine writes the state's (lineage, serial) to the item
`LockID = <env>/state-serials/<stack>` of the lock table in use; the lock table is a global table, so the other
home's copy of the journal follows within seconds, while the state object itself follows with S3 replication.
Before it applies or destroys a stack the engine refuses a state copy whose serial is behind the journal's (same
lineage): Terraform would plan against an old state and create again what already exists.
"""

from __future__ import annotations

from config.settings import Settings
from ops.core.clock import utc_now
from ops.core.errors import RefusedError
from ops.state import locks, store


class StaleStateError(RefusedError):
    """The state copy in use is behind the serial an earlier apply left (replication has not caught up)."""


def journal_id(settings: Settings, stack: str) -> str:
    # No bucket in the id (unlike Terraform's lock ids): both homes must find the same journal item.
    return f"{settings.environment}/state-serials/{stack}"


def write(settings: Settings, stack: str, version: store.StateVersion) -> None:
    locks.dynamodb(settings).put_item(
        TableName=settings.state.lock_table,
        Item={
            "LockID": {"S": journal_id(settings, stack)},
            "Lineage": {"S": version.lineage},
            "Serial": {"N": str(version.serial)},
            "Bucket": {"S": settings.state_bucket},
            "At": {"S": utc_now()},
        },
    )


def read(settings: Settings, stack: str) -> store.StateVersion | None:
    """The (lineage, serial) the stack's last apply left, as the lock table in use holds it; None if never recorded."""
    item = (
        locks.dynamodb(settings)
        .get_item(
            TableName=settings.state.lock_table, Key={"LockID": {"S": journal_id(settings, stack)}}, ConsistentRead=True
        )
        .get("Item")
    )
    if not item or "Serial" not in item:
        return None
    return store.StateVersion(item.get("Lineage", {}).get("S", ""), int(item["Serial"]["N"]))


def is_stale(copy: store.StateVersion | None, journal: store.StateVersion | None) -> bool:
    """The copy is behind the journal: missing, or the same lineage at a lower serial (another lineage is a state
    made again from nothing, which the journal does not describe)."""
    if journal is None:
        return False
    if copy is None:
        return True
    return copy.lineage == journal.lineage and copy.serial < journal.serial


def stale_line(settings: Settings, stack: str, copy: store.StateVersion | None, journal: store.StateVersion) -> str:
    where = f"the state copy in {settings.state_region} ({settings.state_bucket})"
    held = "has no state" if copy is None else f"is serial {copy.serial}"
    return (
        f"{stack}: {where} {held} but serial {journal.serial} was applied (journal): the copy is stale; "
        f"wait for replication and run again (`make state-status` shows both copies)"
    )


def check_current(settings: Settings, stack: str) -> None:
    """Refuse (StaleStateError, one line) when the copy in use is behind the journal."""
    journal = read(settings, stack)
    copy = store.state_version(store.read_state(settings, stack))
    if journal is not None and is_stale(copy, journal):
        raise StaleStateError(stale_line(settings, stack, copy, journal))
