"""The API keys of the payment routes: one secret, written and replicated by ops, read by both regions' stacks.

The secret (created by data-primary, no Terraform-managed value) holds
`{"keys": {"<key id>": "<value>", ...}, "current": "<key id>"}`: at most two keys, the current one and, during a
rotation's overlap window, the previous one. compute-R creates one API Gateway key per entry, reading the secret in
its own region (the primary's secret, the secondary's replica), so the same values open both regions.

- `ensure` (before either compute stack plans): writes the first key when the secret has none.
- `replicate` (before compute-secondary plans): the secret is replicated to the secondary region, encrypted with
  data-secondary's region key (a replica's key must be a key of the replica's region), and the replica is InSync
  and holds the secret's keys.
- `unreplicate` (before data-primary or data-secondary is destroyed): the replica is removed.
- `rotate` adds a key and makes it current, keeping the previous one (the overlap); `retire` drops every key but
  the current one. Both leave re-applying compute-primary and compute-secondary to the caller.
- `current` / `accepted` read a region's copy, for clients and checks.

Values are never printed, logged or returned in a message: only key ids are.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from config.settings import ROLES, Role, Settings
from ops.core.aws_clients import client
from ops.core.errors import NotDeployedError, OpsError
from ops.deploy.outputs import outputs_with
from shared.local_target import reports_replica_kms_key
from shared.stack_id import StackId

KEY_LENGTH = 40  # API Gateway takes 20 to 128 characters; 40 letters and digits are ~238 bits
KEY_ALPHABET = string.ascii_letters + string.digits
MAX_KEYS = 2  # the current key and, during the overlap window, the previous one
SECRET_OUTPUT = "api_key_secret_name"  # data-primary's output naming the secret
KEY_OUTPUT = "key_arn"  # data-R's region key
IN_SYNC = "InSync"
REPLICA_WAIT_SECONDS = 120.0
REPLICA_POLL_SECONDS = 1.0
COMPUTE_STACKS = {StackId("compute", role).name: role for role in ROLES}
DATA_PRIMARY = StackId("data", "primary").name
DATA_SECONDARY = StackId("data", "secondary").name
# compute-primary and compute-secondary may plan concurrently (neither depends on the other): their hooks take
# turns, so the first key is written once and the replica is checked after it.
_hook_lock = threading.Lock()


class ApiKeyError(OpsError):
    """The API key secret is not in the state a step needs; the message names the fix."""


@dataclass(frozen=True)
class KeyRing:
    """The secret's value: key id -> value, and which id is current."""

    keys: dict[str, str]
    current: str

    def to_json(self) -> str:
        return json.dumps({"keys": dict(sorted(self.keys.items())), "current": self.current}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, where: str) -> KeyRing:
        try:
            data = json.loads(text)
            keys, current = data["keys"], data["current"]
        except (ValueError, KeyError, TypeError) as error:
            raise ApiKeyError(f"{where}: not an API key secret value ({{'keys': ..., 'current': ...}})") from error
        if not isinstance(keys, dict) or current not in keys or not 1 <= len(keys) <= MAX_KEYS:
            raise ApiKeyError(
                f"{where}: 'current' must name one of 1 to {MAX_KEYS} keys; rewrite it with make rotate-api-key"
            )
        return cls({str(k): str(v) for k, v in keys.items()}, str(current))

    @property
    def ids(self) -> list[str]:
        return sorted(self.keys)


@dataclass(frozen=True)
class Location:
    secret_name: str
    regions: dict[Role, str]
    replica_key_arn: str | None  # data-secondary's region key; None until data-secondary is deployed


def key_id(now: datetime) -> str:
    """`k20261202T110045Z`: the UTC time the key was created, to the second."""
    return now.astimezone(UTC).strftime("k%Y%m%dT%H%M%SZ")


def new_value() -> str:
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))


def _now() -> datetime:
    return datetime.now(UTC)


def locate(settings: Settings) -> Location:
    """The secret's name (data-primary's output) and the replica's key (data-secondary's, when deployed)."""
    data = outputs_with(settings, [DATA_PRIMARY])
    name = data.get(DATA_PRIMARY, {}).get(SECRET_OUTPUT)
    if not name:
        raise NotDeployedError(f"{DATA_PRIMARY} has no output {SECRET_OUTPUT}: deploy it first (make deploy-primary)")
    key_arn = data.get(DATA_SECONDARY, {}).get(KEY_OUTPUT)
    return Location(name, {role: settings.regions.of(role) for role in ROLES}, key_arn or None)


def _secrets(settings: Settings, region: str) -> Any:
    return client(settings, "secretsmanager", region)


def _read(settings: Settings, where: Location, role: Role) -> KeyRing | None:
    """The key ring as `role`'s region holds it; None when the secret has no value yet."""
    region = where.regions[role]
    try:
        text = _secrets(settings, region).get_secret_value(SecretId=where.secret_name)["SecretString"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            if role == "primary":
                return None  # created by data-primary without a value
            raise ApiKeyError(
                f"no API key secret {where.secret_name} in {region} (the replica): deploy compute-{role} "
                "(make deploy-secondary) to replicate it"
            ) from error
        raise
    return KeyRing.from_json(text, f"secret {where.secret_name} in {region}")


def _write(settings: Settings, where: Location, ring: KeyRing) -> None:
    _secrets(settings, where.regions["primary"]).put_secret_value(
        SecretId=where.secret_name, SecretString=ring.to_json()
    )


def _fresh(ring: KeyRing | None, now: datetime) -> tuple[str, str]:
    new_id = key_id(now)
    if ring is not None and new_id in ring.keys:
        raise ApiKeyError(f"key {new_id} already exists (one key per second): run the command again")
    return new_id, new_value()


def ensure(settings: Settings) -> str | None:
    """Write the first key when the secret has none; the new key's id, or None when there was one already."""
    where = locate(settings)
    if _read(settings, where, "primary") is not None:
        return None
    new_id, value = _fresh(None, _now())
    _write(settings, where, KeyRing({new_id: value}, new_id))
    return new_id


def _replication(settings: Settings, where: Location) -> dict[str, Any] | None:
    """The secret's replication status entry for the secondary region, if it is replicated there."""
    described = _secrets(settings, where.regions["primary"]).describe_secret(SecretId=where.secret_name)
    secondary = where.regions["secondary"]
    return next((r for r in described.get("ReplicationStatus", []) if r["Region"] == secondary), None)


def replicate(
    settings: Settings, *, wait_seconds: float = REPLICA_WAIT_SECONDS, sleep: Callable[[float], None] = time.sleep
) -> str:
    """Replicate the secret to the secondary region under data-secondary's key; wait until the replica is InSync.
    Returns one line saying what it found or did."""
    where = locate(settings)
    if where.replica_key_arn is None:
        raise NotDeployedError(f"{DATA_SECONDARY} has no output {KEY_OUTPUT}: deploy it first (make deploy-secondary)")
    if _read(settings, where, "primary") is None:
        raise ApiKeyError(f"secret {where.secret_name} has no key yet: deploy compute-primary first")
    secondary = where.regions["secondary"]
    status = _replication(settings, where)
    action = "already replicated"
    if status is None:
        _secrets(settings, where.regions["primary"]).replicate_secret_to_regions(
            SecretId=where.secret_name,
            AddReplicaRegions=[{"Region": secondary, "KmsKeyId": where.replica_key_arn}],
            ForceOverwriteReplicaSecret=False,
        )
        action = "replicated"
        status = _replication(settings, where)
    deadline = time.monotonic() + wait_seconds
    while status is not None and status.get("Status") == "InProgress" and time.monotonic() < deadline:
        sleep(REPLICA_POLL_SECONDS)
        status = _replication(settings, where)
    if status is None or status.get("Status") != IN_SYNC:
        detail = "no replica" if status is None else f"{status.get('Status')}: {status.get('StatusMessage', '')}"
        raise ApiKeyError(f"replica of {where.secret_name} in {secondary} is not in sync ({detail.strip()})")
    # A new value (or a new replica) reaches the secondary asynchronously: compute-secondary must not plan with
    # the previous keys, or fail on a replica that is not readable yet.
    while not _replica_matches(settings, where):
        if time.monotonic() >= deadline:
            raise ApiKeyError(
                f"replica of {where.secret_name} in {secondary} still holds other keys than the secret after "
                f"{wait_seconds:.0f} s: run the deploy again"
            )
        sleep(REPLICA_POLL_SECONDS)
    if reports_replica_kms_key(settings) and status.get("KmsKeyId") != where.replica_key_arn:
        raise ApiKeyError(
            f"replica of {where.secret_name} in {secondary} is encrypted with {status.get('KmsKeyId')}, not the "
            f"region key {where.replica_key_arn}: remove the replica (RemoveRegionsFromReplication) and deploy again"
        )
    return f"API key secret {where.secret_name} {action} to {secondary} ({IN_SYNC})"


def _replica_matches(settings: Settings, where: Location) -> bool:
    try:
        return _read(settings, where, "secondary") == _read(settings, where, "primary")
    except ApiKeyError:  # not readable in the secondary yet
        return False


def unreplicate(settings: Settings) -> str | None:
    """Remove the secondary's replica: before data-primary is destroyed (a secret with replicas cannot be deleted)
    and before data-secondary is (the replica is encrypted with its key; a redeploy replicates under the new key)."""
    try:
        where = locate(settings)
        status = _replication(settings, where)
    except (NotDeployedError, ClientError):
        return None  # no secret or no outputs: nothing replicated
    if status is None:
        return None
    _secrets(settings, where.regions["primary"]).remove_regions_from_replication(
        SecretId=where.secret_name, RemoveReplicaRegions=[where.regions["secondary"]]
    )
    return f"API key secret {where.secret_name}: replica in {where.regions['secondary']} removed"


def rotate(settings: Settings) -> KeyRing:
    """Add a key and make it current; the previous current key stays (the overlap window). Refuses a third key."""
    where = locate(settings)
    ring = _read(settings, where, "primary")
    if ring is None:
        raise ApiKeyError(f"secret {where.secret_name} has no key yet: deploy the platform first (make deploy)")
    if len(ring.keys) >= MAX_KEYS:
        previous = [k for k in ring.ids if k != ring.current]
        raise ApiKeyError(
            f"two keys already ({', '.join(ring.ids)}): retire {', '.join(previous)} first "
            "(make rotate-api-key RETIRE=yes), once no client sends it"
        )
    new_id, value = _fresh(ring, _now())
    rotated = KeyRing({ring.current: ring.keys[ring.current], new_id: value}, new_id)
    _write(settings, where, rotated)
    return _masked(rotated)


def retire(settings: Settings) -> tuple[KeyRing, list[str]]:
    """Drop every key but the current one; the kept ring (masked) and the retired ids."""
    where = locate(settings)
    ring = _read(settings, where, "primary")
    if ring is None:
        raise ApiKeyError(f"secret {where.secret_name} has no key yet: deploy the platform first (make deploy)")
    retired = [k for k in ring.ids if k != ring.current]
    if retired:
        _write(settings, where, KeyRing({ring.current: ring.keys[ring.current]}, ring.current))
    return _masked(KeyRing({ring.current: ring.keys[ring.current]}, ring.current)), retired


def _masked(ring: KeyRing) -> KeyRing:
    """The ring with its values blanked: what callers that report ids get back."""
    return KeyRing(dict.fromkeys(ring.keys, ""), ring.current)


def current(settings: Settings, role: Role) -> str:
    """The value clients send to `role`'s region: the current key of that region's copy."""
    ring = _read(settings, locate(settings), role)
    if ring is None:
        raise ApiKeyError("the API key secret has no key yet: deploy the platform first (make deploy)")
    return ring.keys[ring.current]


def accepted(settings: Settings, role: Role) -> dict[str, str]:
    """Every key `role`'s region's copy holds (id -> value): what that region's API accepts once deployed."""
    ring = _read(settings, locate(settings), role)
    return dict(ring.keys) if ring is not None else {}


def check_ready(settings: Settings, stack: str) -> None:
    """Read-only (`make diff`): the secret compute-R reads exists with a value; one-line error naming the fix."""
    role = COMPUTE_STACKS.get(stack)
    if role is None:
        return
    where = locate(settings)
    if _read(settings, where, role) is None:
        raise ApiKeyError(
            f"secret {where.secret_name} has no API key yet, so {stack} cannot be planned: deploy it "
            f"(make deploy-{role}), which writes the first key"
        )


def before_stack(settings: Settings, stack: str, destroy: bool) -> list[str]:
    """The deploy engine's hook: what the API keys need before `stack` plans. One line per thing done."""
    if destroy:
        line = unreplicate(settings) if stack in (DATA_PRIMARY, DATA_SECONDARY) else None
        return [line] if line else []
    if stack not in COMPUTE_STACKS:
        return []
    with _hook_lock:
        created = ensure(settings)  # compute-secondary may come first: its replica needs the first key too
        lines = [f"API key secret: first key {created} written (value not shown)"] if created else []
        if COMPUTE_STACKS[stack] == "secondary":
            lines.append(replicate(settings))
        return lines
