"""The stack graph, read from cdktf's manifest: names, dependencies, deploy and destroy order."""

from __future__ import annotations

from collections.abc import Iterable

from config.settings import ROLES
from ops.synth import manifest
from shared.stack_id import StackId, all_stack_names


class UnknownStackError(SystemExit):
    pass


def dependencies() -> dict[str, list[str]]:
    return {name: list(stack.get("dependencies", [])) for name, stack in manifest().items()}  # type: ignore[call-overload]


def dependants(stack: str) -> list[str]:
    return sorted(name for name, deps in dependencies().items() if stack in deps)


def require_stack(name: str) -> str:
    known = all_stack_names()
    if name not in known:
        raise UnknownStackError(f"unknown stack {name!r}; valid stacks: {', '.join(known)}")
    return name


def stacks_of(roles: Iterable[str]) -> list[str]:
    """Stacks of the given region roles, dependencies first (layers in order, primary before secondary)."""
    wanted = set(roles)
    unknown = wanted - set(ROLES)
    if unknown:
        raise UnknownStackError(f"unknown region role {sorted(unknown)[0]!r}; use one of: {', '.join(ROLES)}")
    graph = dependencies()
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        for dep in graph[name]:
            visit(dep)
        ordered.append(name)

    for name in sorted(graph, key=_layer_rank):
        visit(name)
    return [name for name in ordered if name.rsplit("-", 1)[1] in wanted]


def _layer_rank(name: str) -> tuple[int, int]:
    return StackId.parse(name).rank
