"""Gap `sfn-s3-body`: the emulator's Step Functions hands a task `s3:getObject`'s `Body` as a stream object.

AWS gives a state machine the object's text; moto passes botocore's stream on, which no JSONPath or intrinsic
can read. `apply()` wraps moto's aws-sdk task so a streamed body arrives as text, as on AWS. The emulator
launcher applies it at start; in-process tests apply it around `mock_aws`.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk as aws_sdk,
)

_MARK = "_payments_text_bodies"


def apply() -> None:
    task = aws_sdk.StateTaskServiceAwsSdk
    if getattr(task, _MARK, False):
        return
    original = task._eval_service_task

    def with_text_bodies(self: Any, env: Any, *args: Any, **kwargs: Any) -> None:
        original(self, env, *args, **kwargs)
        response = env.stack[-1] if env.stack else None
        if isinstance(response, dict) and hasattr(response.get("Body"), "read"):
            response["Body"] = response["Body"].read().decode("utf-8")

    task._eval_service_task = with_text_bodies  # type: ignore[method-assign]
    setattr(task, _MARK, True)
