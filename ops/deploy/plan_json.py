"""What one saved plan will do, read from `terraform show -json <planfile>`.

The format (https://developer.hashicorp.com/terraform/internals/json-format): `resource_changes` holds every
resource instance with `change.actions`, one of ["no-op"], ["create"], ["read"], ["update"], ["delete"], and the
two replacements ["delete", "create"] / ["create", "delete"] (create_before_destroy). `resource_drift` lists
objects that changed outside Terraform since the last apply, in the same shape. `output_changes` maps each root
output to a change whose `after` is the planned value and `after_unknown` is true (or, for a collection, holds a
true somewhere) where the value is known only after apply. A major `format_version` other than 1 is rejected,
as the page asks of consumers.

`terraform show -json` prints sensitive values in plain text (https://developer.hashicorp.com/terraform/cli/
commands/show), so a parsed plan keeps output values only for `ops.deploy.plan_inputs`; nothing here renders one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REPLACE_ACTIONS = (["delete", "create"], ["create", "delete"])
SUPPORTED_FORMAT_MAJOR = "1"


class PlanFormatError(ValueError):
    """A document that is not a plan this module can read."""


@dataclass(frozen=True)
class Drift:
    """An object changed (or deleted) outside Terraform: its address and the top-level attributes that differ."""

    address: str
    action: str  # "update" | "delete"
    attributes: list[str]


@dataclass(frozen=True)
class PlannedOutput:
    actions: list[str]
    known: bool  # the whole value is known at plan time
    value: Any  # the planned value where known (may be secret: never rendered)
    sensitive: bool

    @property
    def changes(self) -> bool:
        return self.actions != ["no-op"]


@dataclass
class PlanSummary:
    add: int = 0
    change: int = 0
    destroy: int = 0
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    destroyed: list[str] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    outputs: dict[str, PlannedOutput] = field(default_factory=dict)

    @property
    def changed_outputs(self) -> list[str]:
        return sorted(name for name, output in self.outputs.items() if output.changes)

    @property
    def unknown_outputs(self) -> list[str]:
        return sorted(name for name, output in self.outputs.items() if not output.known)

    @property
    def has_changes(self) -> bool:
        """Applying the plan would change something: a resource or an output (the state's outputs count too)."""
        return bool(self.add or self.change or self.destroy or self.changed_outputs)


def action_of(actions: list[str]) -> str | None:
    """create | update | delete | replace; None for what changes no infrastructure (no-op, read, forget)."""
    if actions in REPLACE_ACTIONS:
        return "replace"
    if actions in (["create"], ["update"], ["delete"]):
        return actions[0]
    return None


def _contains_true(value: Any) -> bool:
    if value is True:
        return True
    if isinstance(value, dict):
        return any(_contains_true(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_true(v) for v in value)
    return False


def _empty(value: Any) -> bool:
    return value is None or value in ({}, [], "")


def _drifted_attributes(before: Any, after: Any) -> list[str]:
    """Top-level attributes whose value differs; null and an empty value are the same (a provider reading back
    `tags = null` as `{}` is not a change anyone made: see `ops.deploy.drift`)."""
    before, after = before or {}, after or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [] if before == after else ["(value)"]
    names = sorted(set(before) | set(after))
    return [n for n in names if before.get(n) != after.get(n) and not (_empty(before.get(n)) and _empty(after.get(n)))]


def _drift(entry: dict[str, Any]) -> Drift | None:
    change = entry.get("change", {})
    action = action_of(change.get("actions", []))
    if action == "delete":
        return Drift(entry["address"], "delete", [])
    if action != "update":
        return None
    attributes = _drifted_attributes(change.get("before"), change.get("after"))
    return Drift(entry["address"], "update", attributes) if attributes else None


def _output(change: dict[str, Any]) -> PlannedOutput:
    return PlannedOutput(
        actions=list(change.get("actions", [])),
        known=not _contains_true(change.get("after_unknown", False)),
        value=change.get("after"),
        sensitive=_contains_true(change.get("after_sensitive", False)),
    )


def parse(document: dict[str, Any]) -> PlanSummary:
    """The plan's counts as Terraform prints them ("N to add, M to change, K to destroy": a replacement counts as
    one add and one destroy), the addresses by action, the drift and the planned outputs."""
    version = str(document.get("format_version", ""))
    if version.split(".", maxsplit=1)[0] != SUPPORTED_FORMAT_MAJOR:
        raise PlanFormatError(f"plan JSON format_version {version!r}: only {SUPPORTED_FORMAT_MAJOR}.x is understood")
    summary = PlanSummary()
    for entry in document.get("resource_changes", []):
        action = action_of(entry.get("change", {}).get("actions", []))
        address = entry["address"]
        if action == "create":
            summary.add += 1
            summary.created.append(address)
        elif action == "update":
            summary.change += 1
            summary.changed.append(address)
        elif action == "delete":
            summary.destroy += 1
            summary.destroyed.append(address)
        elif action == "replace":
            summary.add += 1
            summary.destroy += 1
            summary.replaced.append(address)
    # Drift is what the plan puts back: a refresh also reads back normalizations no plan acts on (routes and rules
    # of separate resources, an EIP's association), and listing those would show drift right after a clean apply.
    acted_on = {*summary.created, *summary.changed, *summary.destroyed, *summary.replaced}
    drifted = (d for d in map(_drift, document.get("resource_drift", [])) if d is not None)
    summary.drift = [d for d in drifted if d.address in acted_on]
    summary.outputs = {name: _output(change) for name, change in document.get("output_changes", {}).items()}
    return summary
