"""Step Functions' context object as on AWS in the emulator (gap `sfn-context-start-time`).

On AWS `$$.Execution.StartTime` is ISO 8601 text; moto's executor puts a datetime object there, so an output that
holds it makes DescribeExecution answer HTTP 500, and intrinsic functions format it their own way. Each execution's
environment gets the text instead, written as Step Functions writes it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from ops.local.sfn_sdk_shapes import as_aws_time


def _with_start_time_as_text(build: Callable[[ExecutionWorker], Any]) -> Callable[[ExecutionWorker], Any]:
    def environment(worker: ExecutionWorker) -> Any:
        env = build(worker)
        execution = env.states.context_object.context_object_data["Execution"]
        if isinstance(execution.get("StartTime"), datetime):
            execution["StartTime"] = as_aws_time(execution["StartTime"])
        return env

    return environment


def start_time_as_text() -> None:
    """Wrap the executor's environment builder (in this process, before serving; once)."""
    if not getattr(ExecutionWorker._get_evaluation_environment, "start_time_as_text", False):
        wrapped = _with_start_time_as_text(ExecutionWorker._get_evaluation_environment)
        wrapped.start_time_as_text = True  # type: ignore[attr-defined]
        ExecutionWorker._get_evaluation_environment = wrapped  # type: ignore[method-assign,assignment]
