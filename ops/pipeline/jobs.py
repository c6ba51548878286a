"""The deploy job graph, from the stack graph: one job per stack per environment, `needs` = its producers.

Environments deploy one after another, in the order given: every job of an environment's first wave also
needs the previous environment's last jobs (the stacks nothing in it depends on), so prod starts only after
all of dev is deployed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shared.stack_id import StackId


@dataclass(frozen=True)
class StackJob:
    job_id: str
    environment: str
    stack: str
    needs: tuple[str, ...]


def job_id(environment: str, stack: str) -> str:
    return f"{environment}-{stack}"


def ordered_stacks(dependencies: Mapping[str, Sequence[str]]) -> list[str]:
    """Producers before consumers; ties in layer order, primary before secondary (as `ops.build.graph`)."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        for dep in sorted(dependencies[name], key=lambda n: StackId.parse(n).rank):
            visit(dep)
        ordered.append(name)

    for name in sorted(dependencies, key=lambda n: StackId.parse(n).rank):
        visit(name)
    return ordered


def last_stacks(dependencies: Mapping[str, Sequence[str]]) -> list[str]:
    """The stacks no other stack depends on: when they are done, the whole environment is."""
    producers = {dep for deps in dependencies.values() for dep in deps}
    return [name for name in ordered_stacks(dependencies) if name not in producers]


def deploy_jobs(dependencies: Mapping[str, Sequence[str]], environments: Sequence[str]) -> list[StackJob]:
    jobs: list[StackJob] = []
    previous: list[str] = []
    for env in environments:
        for stack in ordered_stacks(dependencies):
            producers = [job_id(env, dep) for dep in dependencies[stack]]
            jobs.append(StackJob(job_id(env, stack), env, stack, tuple(producers or previous)))
        previous = [job_id(env, stack) for stack in last_stacks(dependencies)]
    return jobs


def mermaid(jobs: Sequence[StackJob]) -> str:
    """The deploy workflow's job graph: one box per environment, an arrow from each job to each job needing it."""
    lines = ["```mermaid", "flowchart LR"]
    for env in dict.fromkeys(job.environment for job in jobs):
        lines.append(f"  subgraph {env}")
        lines += [f'    {_node(job.job_id)}["{job.stack}"]' for job in jobs if job.environment == env]
        lines.append("  end")
    lines += [f"  {_node(need)} --> {_node(job.job_id)}" for job in jobs for need in job.needs]
    lines.append("```")
    return "\n".join(lines)


def _node(identifier: str) -> str:
    return identifier.replace("-", "_")
