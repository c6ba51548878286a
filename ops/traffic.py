"""The traffic split between the regions: persisted in the state bucket, handed to the DNS stacks as tfvars.

`<env>/traffic/split.json` holds the split the DNS stacks should carry (`weights`), whether a change is
under way (`status`: stable | in_progress | reverted), the rollout under way if any, and the history of
every change. Before any plan or apply of a DNS stack, `write_stack_tfvars` writes that stack's weight
into `traffic.auto.tfvars.json` beside its `cdk.tf.json`, where Terraform (and `npx cdktf`, which runs
Terraform in the same directory) loads it automatically. A deploy therefore always keeps the current split.

Traffic changes (rollouts, failovers) take a lock item in the Terraform lock table, so two of them never
interleave; a lock left by a process that died on this host is taken over.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from botocore.exceptions import ClientError

from config.settings import ROLES, Role, Settings
from ops.aws_clients import client
from ops.paths import stack_dir
from shared.traffic import TRAFFIC_WEIGHT_VARIABLE

TFVARS_FILE = "traffic.auto.tfvars.json"
DNS_LAYER = "dns"
Status = Literal["stable", "in_progress", "reverted"]
HISTORY_LIMIT = 200  # newest entries kept in split.json


@dataclass(frozen=True)
class Split:
    """Percent of the API's traffic per region role; the two add up to 100."""

    primary: int
    secondary: int

    def __post_init__(self) -> None:
        if not (0 <= self.primary <= 100 and self.primary + self.secondary == 100):
            raise ValueError(f"invalid split {self.primary}/{self.secondary}: weights are 0-100 and add up to 100")

    @classmethod
    def all_to(cls, role: Role) -> Split:
        return cls.with_share(role, 100)

    @classmethod
    def with_share(cls, role: Role, percent: int) -> Split:
        return cls(percent, 100 - percent) if role == "primary" else cls(100 - percent, percent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Split:
        return cls(int(data["primary"]), int(data["secondary"]))

    def share(self, role: Role) -> int:
        return self.primary if role == "primary" else self.secondary

    def as_dict(self) -> dict[str, int]:
        return {"primary": self.primary, "secondary": self.secondary}

    def __str__(self) -> str:
        return f"{self.primary}/{self.secondary}"


def default_split(settings: Settings) -> Split:
    return Split.with_share("primary", settings.dns.primary_weight)


@dataclass
class TrafficState:
    weights: Split
    status: Status = "stable"
    updated_at: str = ""
    rollout: dict[str, Any] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["weights"] = self.weights.as_dict()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrafficState:
        return cls(
            weights=Split.from_dict(data["weights"]),
            status=data.get("status", "stable"),
            updated_at=data.get("updated_at", ""),
            rollout=data.get("rollout"),
            history=list(data.get("history", [])),
        )

    def add_history(self, *, source: Split, target: Split, result: str, reason: str, **extra: Any) -> dict[str, Any]:
        entry = {"time": now(), "from": source.as_dict(), "to": target.as_dict(), "result": result, "reason": reason}
        entry.update(extra)
        self.history.append(entry)
        del self.history[:-HISTORY_LIMIT]
        return entry


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def split_key(settings: Settings) -> str:
    return f"{settings.environment}/traffic/split.json"


def _s3(settings: Settings) -> Any:
    return client(settings, "s3", settings.state_region)


def read(settings: Settings) -> TrafficState:
    """The persisted split; the configured default (`dns.primary_weight`) until anything was persisted."""
    try:
        body = _s3(settings).get_object(Bucket=settings.state.bucket, Key=split_key(settings))["Body"].read()
    except ClientError as error:
        if error.response["Error"]["Code"] in {"NoSuchKey", "404"}:
            return TrafficState(weights=default_split(settings))
        raise
    return TrafficState.from_json(json.loads(body))


def write(settings: Settings, state: TrafficState) -> None:
    state.updated_at = now()
    _s3(settings).put_object(
        Bucket=settings.state.bucket,
        Key=split_key(settings),
        Body=(json.dumps(state.to_json(), indent=2) + "\n").encode(),
        ContentType="application/json",
    )


def dns_role(stack: str) -> Role | None:
    """`dns-primary` -> "primary"; None for any other stack."""
    layer, _, role = stack.rpartition("-")
    return role if layer == DNS_LAYER and role in ROLES else None  # type: ignore[return-value]


def tfvars_json(role: Role, split: Split) -> str:
    """The content of a DNS stack's `traffic.auto.tfvars.json`."""
    return json.dumps({TRAFFIC_WEIGHT_VARIABLE: split.share(role)}, indent=2) + "\n"


def write_tfvars(stack: str, split: Split, directory: Path | None = None) -> Path | None:
    """Write a DNS stack's weight from `split` beside its JSON (the synthesized one unless `directory` is given);
    None for other stacks."""
    role = dns_role(stack)
    directory = directory or stack_dir(stack)
    if role is None or not directory.is_dir():
        return None
    path = directory / TFVARS_FILE
    content = tfvars_json(role, split)
    if not path.exists() or path.read_text() != content:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(content)
        tmp.replace(path)
    return path


def write_stack_tfvars(settings: Settings, stack: str) -> None:
    """The deploy hook: a DNS stack gets the persisted split before it is planned or applied (others: no-op)."""
    if dns_role(stack) is not None:
        write_tfvars(stack, read(settings).weights)


# -- the traffic lock ------------------------------------------------------------------------------------------


class TrafficLockedError(SystemExit):
    pass


def lock_id(settings: Settings) -> str:
    return f"{settings.state.bucket}/{settings.environment}/traffic/lock"


def _holder_is_dead(info: dict[str, Any]) -> bool:
    if info.get("host") != socket.gethostname():
        return False
    try:
        os.kill(int(info.get("pid", 0)), 0)
    except (ProcessLookupError, ValueError):
        return True
    except PermissionError:
        return False
    return False


@contextmanager
def locked(settings: Settings, purpose: str) -> Iterator[None]:
    """Hold the environment's traffic lock (a conditional item in the Terraform lock table) for a change."""
    table = client(settings, "dynamodb", settings.state_region)
    key = {"LockID": {"S": lock_id(settings)}}
    info = {"purpose": purpose, "host": socket.gethostname(), "pid": os.getpid(), "since": now()}
    item = {**key, "Info": {"S": json.dumps(info)}}
    try:
        table.put_item(
            TableName=settings.state.lock_table, Item=item, ConditionExpression="attribute_not_exists(LockID)"
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        current = table.get_item(TableName=settings.state.lock_table, Key=key, ConsistentRead=True).get("Item", {})
        holder = json.loads(current.get("Info", {}).get("S", "{}"))
        if not _holder_is_dead(holder):
            raise TrafficLockedError(
                f"another traffic change holds the lock: {holder.get('purpose', '?')} since {holder.get('since', '?')} "
                f"(pid {holder.get('pid', '?')} on {holder.get('host', '?')}); if it is gone, delete the item "
                f"LockID={lock_id(settings)} from the table {settings.state.lock_table}"
            ) from None
        print(f"--> taking over the traffic lock of pid {holder.get('pid')}, which is no longer running", flush=True)
        table.put_item(TableName=settings.state.lock_table, Item=item)
    try:
        yield
    finally:
        table.delete_item(TableName=settings.state.lock_table, Key=key)
