"""The traffic split between the regions: persisted in the state bucket, handed to the DNS stacks as tfvars.

`<env>/traffic/split.json` holds the split the DNS stacks should carry (`weights`), whether a change is
under way (`status`: stable | in_progress | reverted), the rollout under way if any, and the history of
every change. Before any plan or apply of a DNS stack, `write_stack_tfvars` writes that stack's weight
into `traffic.auto.tfvars.json` beside its `cdk.tf.json`, where Terraform (and `npx cdktf`, which runs
Terraform in the same directory) loads it automatically. A deploy therefore always keeps the current split.

Traffic changes (rollouts, failovers) hold the environment's traffic lock (`ops.state.locks`) while they run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from config.settings import Role, Settings
from ops.core.clock import utc_now
from ops.core.paths import stack_dir
from ops.state import bucket
from shared.rollout_engine import split_key
from shared.stack_id import StackId, UnknownStackError
from shared.traffic import TRAFFIC_WEIGHT_VARIABLE

TFVARS_FILE = "traffic.auto.tfvars.json"
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
        state = cls(
            weights=Split.from_dict(data["weights"]),
            status=data.get("status", "stable"),
            updated_at=data.get("updated_at", ""),
            rollout=data.get("rollout"),
            history=list(data.get("history", [])),
        )
        state.fold_engine_run(data.get("engine_run"))
        return state

    def fold_engine_run(self, run: dict[str, Any] | None) -> None:
        """The rollout state machine records its outcome as `engine_run` (Amazon States Language cannot append
        to a list); it joins the history here, once, and the next write keeps it there."""
        if not run or any(entry.get("execution") == run.get("execution") for entry in self.history):
            return
        entry = {
            "time": run.get("time", ""),
            "from": run.get("from", {}),
            "to": run.get("weights", {}),
            "result": run.get("result", "?"),
            "reason": run.get("reason", "rollout"),
            "engine": "stepfunctions",
            "execution": run.get("execution"),
        }
        if run.get("cause"):
            entry["cause"] = run["cause"]
        self.history.append(entry)
        del self.history[:-HISTORY_LIMIT]

    def add_history(self, *, source: Split, target: Split, result: str, reason: str, **extra: Any) -> dict[str, Any]:
        entry = {
            "time": utc_now(),
            "from": source.as_dict(),
            "to": target.as_dict(),
            "result": result,
            "reason": reason,
        }
        entry.update(extra)
        self.history.append(entry)
        del self.history[:-HISTORY_LIMIT]
        return entry


def read(settings: Settings) -> TrafficState:
    """The persisted split; the configured default (`dns.primary_weight`) until anything was persisted."""
    data = bucket.get_json(settings, split_key(settings))
    return TrafficState(weights=default_split(settings)) if data is None else TrafficState.from_json(data)


def has_engine_run(settings: Settings) -> bool:
    """Whether the stored document still carries a state machine's `engine_run` (not yet written back folded)."""
    data = bucket.get_json(settings, split_key(settings))
    return data is not None and "engine_run" in data


def write(settings: Settings, state: TrafficState) -> None:
    state.updated_at = utc_now()
    bucket.put_json(settings, split_key(settings), state.to_json(), trailing_newline=True)


def dns_role(stack: str) -> Role | None:
    """`dns-primary` -> "primary"; None for any other stack."""
    try:
        stack_id = StackId.parse(stack)
    except UnknownStackError:
        return None
    return stack_id.role if stack_id.layer == "dns" else None


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
