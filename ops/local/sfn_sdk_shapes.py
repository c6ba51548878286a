"""Step Functions' AWS SDK integrations shaped as on AWS in the emulator (gap `sfn-sdk-integration-shapes`).

On AWS an `arn:aws:states:::aws-sdk:<service>:<action>` task names its parameters and reads its result in the
integration's own casing (`DbClusterIdentifier`, `$.DbClusterSnapshot`), a streamed result member (S3 GetObject's
`Body`) arrives as text, and a timestamp as ISO 8601 text. moto's executor carries the code that converts between
that casing and boto3's, but never calls it for aws-sdk tasks: a parameter spelled as on AWS is dropped, boto3's
casing comes back, a streamed body fails the state, and a timestamp stays a datetime object (DescribeExecution then
answers 500 for an output that holds one). Hooking moto's own conversion in for aws-sdk tasks, and writing
timestamps as text, makes one definition run on both targets.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, Shape
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import StateTaskService
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
    StateTaskServiceAwsSdk,
)
from moto.stepfunctions.parser.utils import camel_to_snake_case


@cache
def _operation(service: str, action: str) -> OperationModel:
    """The botocore operation a task's `<service>:<action>` names (the action matched as boto3 does, by snake case)."""
    model = botocore.session.get_session().get_service_model(service)
    wanted = camel_to_snake_case(action)
    for name in model.operation_names:
        if camel_to_snake_case(name) == wanted:
            return model.operation_model(name)
    raise ValueError(f"{service} has no operation {action!r}")


def as_aws_time(value: datetime) -> str:
    """A timestamp as Step Functions writes one: ISO 8601, UTC, milliseconds (`2026-12-02T18:47:53.123Z`)."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _timestamps_as_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_aws_time(value)
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = _timestamps_as_text(item)
    elif isinstance(value, list):
        value[:] = [_timestamps_as_text(item) for item in value]
    return value


def _normalise_parameters(
    task: StateTaskService,
    parameters: dict[str, Any],
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    shape = _operation(task._get_boto_service_name(boto_service_name), task.resource.api_action).input_shape
    if shape is not None:
        task._to_boto_request(parameters, shape)


def _normalise_response(
    task: StateTaskService,
    response: Any,
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    shape = _operation(task._get_boto_service_name(boto_service_name), task.resource.api_action).output_shape
    if shape is not None:
        task._from_boto_response(response, shape)
    _timestamps_as_text(response)


def _to_boto_request_value(task: StateTaskService, value: Any, shape: Shape) -> Any:
    """A text blob (S3 PutObject's `Body.$: States.JsonToString(...)`) is sent as its text; moto's conversion would
    JSON-encode it a second time. Anything else (a JSON object as a blob, nested structures) as moto converts it."""
    if shape.type_name == "blob" and isinstance(value, str):
        return value.encode()
    return StateTaskService._to_boto_request_value(task, value, shape)


def shape_sdk_integrations() -> None:
    """Convert aws-sdk tasks' parameters and results as Step Functions does (in this process, before serving).

    These are the hooks moto's executor calls around every service task; only the aws-sdk task class gets them.
    """
    StateTaskServiceAwsSdk._normalise_parameters = _normalise_parameters  # type: ignore[method-assign,assignment]
    StateTaskServiceAwsSdk._to_boto_request_value = _to_boto_request_value  # type: ignore[method-assign,assignment]
    StateTaskServiceAwsSdk._normalise_response = _normalise_response  # type: ignore[method-assign,assignment]
