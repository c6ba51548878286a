"""Step Functions' context object times as on AWS in the emulator (gap `sfn-context-times`).

On AWS `$$.Execution.StartTime` and `$$.State.EnteredTime` are ISO 8601 text in UTC with milliseconds
(`2026-12-02T18:47:53.123Z`). moto's executor puts a datetime object in StartTime, so an output that holds it makes
DescribeExecution answer HTTP 500, and writes EnteredTime with microseconds and `+00:00`. Both are rewritten as
Step Functions writes them: StartTime once per execution, EnteredTime as each state takes its input.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from ops.local.sfn_sdk_shapes import as_aws_time

MARK = "aws_times"  # set on a wrapper, so the hooks are installed once


def _start_time_as_text(build: Callable[[ExecutionWorker], Any]) -> Callable[[ExecutionWorker], Any]:
    def environment(worker: ExecutionWorker) -> Any:
        env = build(worker)
        execution = env.states.context_object.context_object_data["Execution"]
        if isinstance(execution.get("StartTime"), datetime):
            execution["StartTime"] = as_aws_time(execution["StartTime"])
        return env

    setattr(environment, MARK, True)
    return environment


def _entered_time_as_aws(
    take_input: Callable[[CommonStateField, Any], None],
) -> Callable[[CommonStateField, Any], None]:
    def state_input(state: CommonStateField, env: Any) -> None:
        entered = env.states.context_object.context_object_data.get("State", {})
        if isinstance(entered.get("EnteredTime"), str):
            entered["EnteredTime"] = as_aws_time(datetime.fromisoformat(entered["EnteredTime"]))
        take_input(state, env)

    setattr(state_input, MARK, True)
    return state_input


def context_times_as_aws() -> None:
    """Wrap the executor's environment builder and every state's input step (in this process, before serving)."""
    if not getattr(ExecutionWorker._get_evaluation_environment, MARK, False):
        ExecutionWorker._get_evaluation_environment = _start_time_as_text(  # type: ignore[method-assign,assignment]
            ExecutionWorker._get_evaluation_environment
        )
    if not getattr(CommonStateField._eval_state_input, MARK, False):
        CommonStateField._eval_state_input = _entered_time_as_aws(  # type: ignore[method-assign,assignment]
            CommonStateField._eval_state_input
        )
