"""Stack identity: the one definition of which stacks exist, their names and their order.

A stack is a (layer, role) pair: `network-primary`, `dns-secondary`. Ops, the stacks and the tests
all name stacks through this type, so a new layer or role is added here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from config.settings import ROLES, Role

Layer = Literal["network", "data", "compute", "dns"]
LAYERS: tuple[Layer, ...] = ("network", "data", "compute", "dns")


class UnknownStackError(ValueError):
    """A stack name or region role that is not one of the platform's."""


@dataclass(frozen=True)
class StackId:
    layer: Layer
    role: Role

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """`network-primary`, `data-secondary`, ...: the cdktf stack id and the state key stem."""
        return f"{self.layer}-{self.role}"

    @property
    def rank(self) -> tuple[int, int]:
        """Deploy order when the graph leaves a choice: primary before secondary, layers bottom-up."""
        return ROLES.index(self.role), LAYERS.index(self.layer)

    @classmethod
    def parse(cls, name: str) -> StackId:
        layer, _, role = name.rpartition("-")
        if layer not in LAYERS or role not in ROLES:
            raise UnknownStackError(f"unknown stack {name!r}; valid stacks: {', '.join(all_stack_names())}")
        return cls(layer, role)


def all_stacks() -> tuple[StackId, ...]:
    """Every stack of the platform, in rank order."""
    return tuple(StackId(layer, role) for role in ROLES for layer in LAYERS)


def all_stack_names() -> list[str]:
    return sorted(stack.name for stack in all_stacks())


def parse_role(text: str) -> Role:
    if text not in ROLES:
        raise UnknownStackError(f"unknown region role {text!r}; use one of: {', '.join(ROLES)}")
    return text
