"""Run stacks in graph order: each as soon as what it waits for is done, at most `workers` at a time.

One scheduler for the deploy engine (applies and destroys) and the plan report. `decide` may settle a stack
without running it (a result from what it waited for); `on_done` sees each result, in the calling thread, before
any stack waiting on it starts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

Result = TypeVar("Result")


def in_graph_order(
    stacks: list[str],
    waits_for: Mapping[str, set[str]],
    run: Callable[[str], Result],
    *,
    workers: int,
    decide: Callable[[str, dict[str, Result]], Result | None] = lambda _stack, _results: None,
    on_done: Callable[[str, Result], None] = lambda _stack, _result: None,
) -> dict[str, Result]:
    """The result of each of `stacks`; `waits_for[s]` must only name stacks among `stacks`."""
    results: dict[str, Result] = {}
    pending = list(stacks)
    running: dict[Future[Result], str] = {}

    def settle(stack: str, result: Result) -> None:
        results[stack] = result
        on_done(stack, result)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        while pending or running:
            progressed = False
            for stack in list(pending):
                if (decided := decide(stack, results)) is not None:
                    settle(stack, decided)
                elif all(w in results for w in waits_for[stack]) and len(running) < workers:
                    running[pool.submit(run, stack)] = stack
                else:
                    continue
                pending.remove(stack)
                progressed = True
            if not running:
                if not progressed:
                    raise RuntimeError(f"{', '.join(pending)}: waiting on each other (a cycle in the stack graph)")
                continue
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                settle(running.pop(future), future.result())
    return results
