"""Direct reads of the remote state and the deploy records kept beside it in the state bucket.

Reading `<env>/<stack>.tfstate` with boto3 takes milliseconds, where a
Terraform process needs seconds to start its backend; outputs, resource
counts and serials all come from here.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, fields
from typing import Any

from config.settings import Settings
from ops.core.paths import stack_dir
from ops.state import bucket
from shared.naming import state_key


@dataclass(frozen=True)
class StateVersion:
    lineage: str
    serial: int


@dataclass(frozen=True)
class DeployRecord:
    """What the last successful apply of a stack applied, and the state it left."""

    stack: str
    config_sha256: str
    lineage: str
    serial: int
    applied_at: str
    revision: str
    inputs_sha256: str = ""  # the outputs of the stacks it reads, when it was applied (older records: unknown)


def read_state(settings: Settings, stack: str) -> dict[str, Any] | None:
    state: dict[str, Any] | None = bucket.get_json(settings, state_key(settings, stack))
    return state


def state_version(state: dict[str, Any] | None) -> StateVersion | None:
    return None if state is None else StateVersion(state["lineage"], int(state["serial"]))


SENSITIVE = "<sensitive>"  # what the outputs file and `make outputs` show for an output Terraform marks sensitive


def outputs(state: dict[str, Any] | None) -> dict[str, Any]:
    """The stack's own outputs as the outputs file holds them: a sensitive one (Terraform's `sensitive` flag in the
    state) only as SENSITIVE, so its value never reaches a file or a terminal by way of the outputs."""
    if state is None:
        return {}
    return {
        name: SENSITIVE if item.get("sensitive") else item.get("value")
        for name, item in state.get("outputs", {}).items()
        if not name.startswith("cross-stack-output-")
    }


def output_value(state: dict[str, Any] | None, name: str) -> tuple[bool, Any] | None:
    """(sensitive, value) of one output as the state holds it; None when the stack has no such output."""
    item = (state or {}).get("outputs", {}).get(name)
    return None if item is None else (bool(item.get("sensitive")), item.get("value"))


def managed_resource_count(state: dict[str, Any] | None) -> int:
    if state is None:
        return 0
    return sum(len(r.get("instances", [])) for r in state.get("resources", []) if r.get("mode") == "managed")


def _record_key(settings: Settings, stack: str) -> str:
    return f"{settings.environment}/deploys/{stack}.json"


def read_record(settings: Settings, stack: str) -> DeployRecord | None:
    data = bucket.get_json(settings, _record_key(settings, stack))
    if data is None:
        return None
    known = {f.name for f in fields(DeployRecord)}
    return DeployRecord(**{k: v for k, v in data.items() if k in known})


def remote_state_name(producer: str) -> str:
    """The name cdktf gives the `terraform_remote_state` through which a consumer reads `producer`."""
    return f"cross-stack-reference-input-{producer}"


def remote_output_reads(config_text: str, producer: str) -> list[str]:
    """The outputs of `producer` a stack's configuration reads through its cross-stack remote state."""
    pattern = rf"terraform_remote_state\.{re.escape(remote_state_name(producer))}\.outputs\.([A-Za-z0-9_-]+)"
    return sorted(set(re.findall(pattern, config_text)))


def inputs_sha256(settings: Settings, stack: str, producers: list[str]) -> str:
    """What a stack reads through remote state: the outputs of the stacks it depends on that its configuration
    references, as stored now (outputs it does not read, such as a DNS weight, may change freely)."""
    config_text = (stack_dir(stack) / "cdk.tf.json").read_text()
    digest = hashlib.sha256()
    for producer in sorted(producers):
        outputs = (read_state(settings, producer) or {}).get("outputs", {})
        read = {name: outputs.get(name) for name in remote_output_reads(config_text, producer)}
        digest.update(producer.encode() + b"\0" + json.dumps(read, sort_keys=True).encode() + b"\0")
    return digest.hexdigest()


def write_record(settings: Settings, record: DeployRecord) -> None:
    bucket.put_json(settings, _record_key(settings, record.stack), asdict(record))


def delete_record(settings: Settings, stack: str) -> None:
    bucket.delete(settings, _record_key(settings, stack))
