"""The graph-order scheduler the deploy engine and the plan report share (ops.deploy.schedule)."""

from __future__ import annotations

import threading
import time

import pytest

from ops.deploy.schedule import in_graph_order

WAITS = {"net": set(), "data": {"net"}, "app": {"data", "net"}, "dns": {"app"}, "other": set()}


def test_each_stack_starts_after_what_it_waits_for_and_sees_its_results() -> None:
    started: list[str] = []
    seen_before_start: dict[str, set[str]] = {}
    done: list[str] = []

    def run(stack: str) -> str:
        seen_before_start[stack] = set(done)
        started.append(stack)
        return f"{stack}:ok"

    results = in_graph_order(list(WAITS), WAITS, run, workers=2, on_done=lambda stack, _: done.append(stack))
    assert results == {stack: f"{stack}:ok" for stack in WAITS}
    assert sorted(started) == sorted(WAITS)
    for stack, waits in WAITS.items():
        assert waits <= seen_before_start[stack], stack  # on_done ran for each before the stack started


def test_never_more_than_workers_at_once() -> None:
    lock = threading.Lock()
    now = peak = 0

    def run(stack: str) -> str:
        nonlocal now, peak
        with lock:
            now += 1
            peak = max(peak, now)
        time.sleep(0.05)
        with lock:
            now -= 1
        return stack

    independent: dict[str, set[str]] = {f"s{i}": set() for i in range(6)}
    in_graph_order(list(independent), independent, run, workers=2)
    assert peak == 2


def test_a_decided_stack_does_not_run_and_settles_what_waits_on_it() -> None:
    ran: list[str] = []

    def run(stack: str) -> str:
        ran.append(stack)
        return "FAILED" if stack == "data" else "ok"

    def decide(stack: str, results: dict[str, str]) -> str | None:
        return "not run" if any(results.get(w) in ("FAILED", "not run") for w in WAITS[stack]) else None

    results = in_graph_order(list(WAITS), WAITS, run, workers=2, decide=decide)
    assert results == {"net": "ok", "data": "FAILED", "app": "not run", "dns": "not run", "other": "ok"}
    assert sorted(ran) == ["data", "net", "other"]


def test_a_cycle_is_an_error_not_a_hang() -> None:
    with pytest.raises(RuntimeError, match="a, b: waiting on each other"):
        in_graph_order(["a", "b"], {"a": {"b"}, "b": {"a"}}, lambda stack: stack, workers=2)
