"""Asking the ledger-admin function of one region to do something: migrate, summarise, report its status.

On AWS the database sits in isolated subnets that an operator's machine cannot reach, so ops invokes the
region's `ledger-admin` function (in the VPC, with the master user's secret) and reads its JSON answer. On the
local target Lambda cannot run (gap `lambda-invoke`): the same handler runs in this process with the environment
the emulator holds for the deployed function, so the code, the variables and the secret it reads are the deployed
ones; only the process differs.
"""

from __future__ import annotations

import json
from typing import Any

from config.settings import Role, Settings
from ops.core.aws_clients import client
from ops.core.errors import NotDeployedError, OpsError
from ops.deploy.outputs import outputs_with
from ops.ledger import local_lambda
from shared.stack_id import StackId

OUTPUT = "ledger_admin_function_name"
HANDLER = "lambda_src.ledger.admin.handler"


class LedgerAdminError(OpsError):
    """The ledger-admin function failed; the message is its error, one line."""


def function_name(settings: Settings, role: Role) -> str:
    stack = StackId("compute", role).name
    name = outputs_with(settings, [stack]).get(stack, {}).get(OUTPUT)
    if not name:
        raise NotDeployedError(f"{stack} is not deployed (no {OUTPUT} output): run `make deploy` first")
    return str(name)


def invoke(settings: Settings, role: Role, action: str, **arguments: Any) -> dict[str, Any]:
    """The function's answer to `{"action": action, **arguments}`; LedgerAdminError when it fails."""
    name = function_name(settings, role)
    region = settings.regions.of(role)
    event = {"action": action, **arguments}
    if settings.is_local:
        return _in_process(settings, name, region, event)
    response = client(settings, "lambda", region).invoke(
        FunctionName=name, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
    )
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        message = payload.get("errorMessage", "no message") if isinstance(payload, dict) else payload
        raise LedgerAdminError(f"{name} ({region}) failed to {action}: {str(message).splitlines()[0]}")
    if not isinstance(payload, dict):
        raise LedgerAdminError(f"{name} ({region}) answered {action} with {type(payload).__name__}, not an object")
    return payload


def _in_process(settings: Settings, name: str, region: str, event: dict[str, Any]) -> dict[str, Any]:
    action = event["action"]
    try:
        answer = local_lambda.run(settings, name, region, HANDLER, event)
    except Exception as error:  # what Lambda would report as the function's error
        raise LedgerAdminError(f"{name} ({region}) failed to {action}: {str(error).splitlines()[0]}") from error
    if not isinstance(answer, dict):
        raise LedgerAdminError(f"{name} ({region}) answered {action} with {type(answer).__name__}, not an object")
    return answer
