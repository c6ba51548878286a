"""The stack graph, read from cdktf's manifest: names, dependencies, deploy and destroy order."""

from __future__ import annotations

from collections.abc import Iterable

from ops.build.synth import manifest
from shared.stack_id import StackId, parse_role


def dependencies() -> dict[str, list[str]]:
    return {name: list(stack.get("dependencies", [])) for name, stack in manifest().items()}  # type: ignore[call-overload]


def dependants(stack: str) -> list[str]:
    return sorted(name for name, deps in dependencies().items() if stack in deps)


def require_stack(name: str) -> str:
    """The name of a platform stack; `shared.stack_id.UnknownStackError` for any other name."""
    return StackId.parse(name).name


def stacks_of(roles: Iterable[str]) -> list[str]:
    """Stacks of the given region roles, dependencies first (layers in order, primary before secondary)."""
    wanted = {parse_role(role) for role in sorted(roles)}
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
    return [name for name in ordered if StackId.parse(name).role in wanted]


def _layer_rank(name: str) -> tuple[int, int]:
    return StackId.parse(name).rank
