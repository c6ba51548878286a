"""Step Functions' ListStateMachineVersions answered in the emulator (gap `sfn-list-versions`).

moto keeps a state machine's published versions but has no handler for the call (HTTP 500); the AWS provider
makes it after every create and on every refresh of an `aws_sfn_state_machine`. The handler added to moto's
Step Functions responses lists them from moto's own model, newest first, as AWS does.
"""

from __future__ import annotations

from moto.core.responses import ActionResult
from moto.stepfunctions.responses import StepFunctionResponse


def _list_state_machine_versions(self: StepFunctionResponse) -> ActionResult:
    machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
    versions = sorted(getattr(machine, "versions", {}).values(), key=lambda version: version.version, reverse=True)
    listed = [{"stateMachineVersionArn": version.arn, "creationDate": version.creation_date} for version in versions]
    return ActionResult({"stateMachineVersions": listed})


def answer_list_versions() -> None:
    """Give moto's Step Functions responses the handler (in this process, before serving)."""
    StepFunctionResponse.list_state_machine_versions = _list_state_machine_versions  # type: ignore[attr-defined]
