"""The lock table: Terraform's state locks (who holds one, its key) and the traffic lock of an environment.

Terraform keeps one item per locked state, `LockID` = `<bucket>/<state key>`, whose `Info` is a JSON
document (ID, Who, Operation, Created, ...). Traffic changes take an item of their own in the same table.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from config.settings import Settings, other_role
from ops.core.aws_clients import client
from ops.core.clock import utc_now
from ops.core.console import console
from ops.core.errors import RefusedError
from shared.naming import state_key
from shared.rollout_engine import traffic_lock_id

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def dynamodb(settings: Settings) -> DynamoDBClient:
    return cast("DynamoDBClient", client(settings, "dynamodb", settings.state_region))


def state_lock_id(settings: Settings, stack: str) -> str:
    """The `LockID` of a stack's state lock (with `-md5` appended: the item holding the state's digest). Terraform
    derives it from the backend's bucket, so it names the copy in use (`settings.state_bucket`)."""
    return f"{settings.state_bucket}/{state_key(settings, stack)}"


def mirror_digest(settings: Settings, stack: str) -> None:
    """Give the other home's copy of a stack's state the digest Terraform just wrote for the copy in use.

    Terraform keeps the MD5 of the state it wrote under `<bucket>/<key>-md5` and refuses to read a state that does
    not match it. Replication copies the state's bytes unchanged, so once it has caught up the other copy has the
    same digest; without this, that home's item would keep the digest of whatever was last written through it.
    """
    table = dynamodb(settings)
    key = state_key(settings, stack)
    digest_id = {"LockID": {"S": f"{settings.state_bucket}/{key}-md5"}}
    item = table.get_item(TableName=settings.state.lock_table, Key=digest_id, ConsistentRead=True).get("Item")
    if item and "Digest" in item:
        other = settings.state_bucket_of(other_role(settings.state.home))
        table.put_item(
            TableName=settings.state.lock_table, Item={"LockID": {"S": f"{other}/{key}-md5"}, "Digest": item["Digest"]}
        )


@dataclass(frozen=True)
class Lock:
    """A lock item as stored: `raw` is its `Info` text (what a conditional delete compares), `info` parsed."""

    lock_id: str
    raw: str
    info: dict[str, Any]

    def field(self, name: str) -> str:
        return str(self.info.get(name, "?"))


def read_lock(settings: Settings, lock_id: str) -> Lock | None:
    """The lock item with this `LockID`, read consistently; None when nothing holds it."""
    item = (
        dynamodb(settings)
        .get_item(TableName=settings.state.lock_table, Key={"LockID": {"S": lock_id}}, ConsistentRead=True)
        .get("Item")
    )
    if not item or "Info" not in item:
        return None
    raw = item["Info"].get("S", "{}")
    return Lock(lock_id, raw, json.loads(raw))


def state_lock(settings: Settings, stack: str) -> Lock | None:
    return read_lock(settings, state_lock_id(settings, stack))


def delete_if_unchanged(settings: Settings, lock: Lock) -> bool:
    """Delete the lock only if its item is still exactly `lock` (nobody took it in the meantime)."""
    table = dynamodb(settings)
    try:
        table.delete_item(
            TableName=settings.state.lock_table,
            Key={"LockID": {"S": lock.lock_id}},
            ConditionExpression="Info = :info",
            ExpressionAttributeValues={":info": {"S": lock.raw}},
        )
    except table.exceptions.ConditionalCheckFailedException:
        return False
    return True


# -- the traffic lock ------------------------------------------------------------------------------------------


class TrafficLockedError(RefusedError):
    """Another traffic change holds the environment's traffic lock."""


def _holder_is_dead(settings: Settings, info: dict[str, Any]) -> bool:
    """A process on this host that is gone, or a rollout execution (the state machine's) no longer running."""
    if info.get("execution"):
        try:
            found = client(settings, "stepfunctions", settings.regions.primary).describe_execution(
                executionArn=info["execution"]
            )
        except ClientError:
            return False
        return bool(found["status"] != "RUNNING")
    if info.get("host") != socket.gethostname():
        return False
    try:
        os.kill(int(info.get("pid", 0)), 0)
    except (ProcessLookupError, ValueError):
        return True
    except PermissionError:
        return False
    return False


def _holder(info: dict[str, Any]) -> str:
    if info.get("execution"):
        return f"execution {str(info['execution']).rsplit(':', 1)[-1]}"
    return f"pid {info.get('pid', '?')} on {info.get('host', '?')}"


@contextmanager
def traffic_locked(settings: Settings, purpose: str) -> Iterator[None]:
    """Hold the environment's traffic lock (a conditional item in the Terraform lock table) for a change;
    a lock left by a process that died on this host is taken over."""
    table = dynamodb(settings)
    lock_id = traffic_lock_id(settings)
    key = {"LockID": {"S": lock_id}}
    info = {
        "purpose": purpose,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "since": utc_now(),
    }
    item = {**key, "Info": {"S": json.dumps(info)}}
    try:
        table.put_item(
            TableName=settings.state.lock_table, Item=item, ConditionExpression="attribute_not_exists(LockID)"
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        holder = read_lock(settings, lock_id)
        held = holder.info if holder is not None else {}
        if not _holder_is_dead(settings, held):
            raise TrafficLockedError(
                f"another traffic change holds the lock: {held.get('purpose', '?')} since {held.get('since', '?')} "
                f"({_holder(held)}); if it is gone, delete the item "
                f"LockID={lock_id} from the table {settings.state.lock_table}"
            ) from None
        console.say(f"--> taking over the traffic lock of {_holder(held)}, which is no longer running")
        table.put_item(TableName=settings.state.lock_table, Item=item)
    try:
        yield
    finally:
        table.delete_item(TableName=settings.state.lock_table, Key=key)
