"""Step Functions' ValidateStateMachineDefinition answered by the launcher (gap `sfn-validate-definition`).

moto does not implement the call (HTTP 500) and the AWS provider makes it at plan time for every
`aws_sfn_state_machine`. This middleware answers it in the API's shape (AWS JSON 1.0, `result` OK or FAIL,
`diagnostics`, `truncated`) after checking what a definition needs to run at all: it parses, `StartAt` names a
state, every transition (`Next`, `Default`, `Choices[].Next`, `Catch[].Next`) names a state of its own scope
(Parallel branches and Map processors are scopes of their own), and every state that does not end the run has a
`Next`. It does not check the ASL schema beyond that (field types, paths, intrinsics, resource ARNs); creating
the state machine in the emulator parses the definition again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

TARGET = "AWSStepFunctions.ValidateStateMachineDefinition"
CONTENT_TYPE = "application/x-amz-json-1.0"
# States that end a run or branch elsewhere without `Next`.
TERMINAL = frozenset({"Succeed", "Fail"})
WITHOUT_NEXT = TERMINAL | {"Choice"}


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    location: str

    def as_api(self) -> dict[str, str]:
        return {"severity": "ERROR", "code": self.code, "message": self.message, "location": self.location}


def _ends(state: Any) -> bool:
    return isinstance(state, dict) and (state.get("End") is True or state.get("Type") in TERMINAL)


def _transitions(state: dict[str, Any], where: str) -> Iterator[tuple[str, Any]]:
    """(location, target) for every transition a state declares."""
    if "Next" in state:
        yield f"{where}/Next", state["Next"]
    if "Default" in state:
        yield f"{where}/Default", state["Default"]
    for index, choice in enumerate(state.get("Choices") or []):
        if isinstance(choice, dict) and "Next" in choice:
            yield f"{where}/Choices/{index}/Next", choice["Next"]
    for index, catcher in enumerate(state.get("Catch") or []):
        if isinstance(catcher, dict) and "Next" in catcher:
            yield f"{where}/Catch/{index}/Next", catcher["Next"]


def _nested(state: dict[str, Any], where: str) -> Iterator[tuple[str, Any]]:
    """(location, machine) for the state machines a Parallel or Map state holds."""
    for index, branch in enumerate(state.get("Branches") or []):
        yield f"{where}/Branches/{index}", branch
    for key in ("ItemProcessor", "Iterator"):
        if key in state:
            yield f"{where}/{key}", state[key]


def _check_state(name: str, state: Any, states: dict[str, Any], here: str) -> list[Diagnostic]:
    """One state's diagnostics: its transitions stay in its scope, it has a way on, and its nested machines."""
    if not isinstance(state, dict):
        return [Diagnostic("SCHEMA_VALIDATION_FAILED", f"state {name!r} must be a JSON object", here)]
    found = [
        Diagnostic("MISSING_TRANSITION_TARGET", f"state {name!r}: {target!r} names no state of its scope", location)
        for location, target in _transitions(state, here)
        if not isinstance(target, str) or target not in states
    ]
    if state.get("End") is not True and state.get("Type") not in WITHOUT_NEXT and "Next" not in state:
        found.append(Diagnostic("SCHEMA_VALIDATION_FAILED", f"state {name!r} has neither `Next` nor `End: true`", here))
    for location, nested in _nested(state, here):
        found.extend(check_machine(nested, location))
    return found


def check_machine(machine: Any, where: str = "") -> list[Diagnostic]:
    """The diagnostics of one scope (the whole definition, a branch, or a Map's processor), nested scopes included."""
    if not isinstance(machine, dict):
        return [Diagnostic("SCHEMA_VALIDATION_FAILED", "a state machine must be a JSON object", where or "/")]
    states = machine.get("States")
    if not isinstance(states, dict) or not states:
        return [Diagnostic("SCHEMA_VALIDATION_FAILED", "`States` must be a non-empty object", f"{where}/States")]
    found: list[Diagnostic] = []
    start = machine.get("StartAt")
    if not isinstance(start, str) or start not in states:
        found.append(
            Diagnostic(
                "SCHEMA_VALIDATION_FAILED",
                f"`StartAt` ({start!r}) names no state of {sorted(states)}",
                f"{where}/StartAt",
            )
        )
    for name, state in states.items():
        found.extend(_check_state(name, state, states, f"{where}/States/{name}"))
    if not any(_ends(state) for state in states.values()):
        found.append(
            Diagnostic("MISSING_END_STATE", "no state ends the run (`End: true`, Succeed or Fail)", f"{where}/States")
        )
    return found


def validate(definition: str | None) -> dict[str, Any]:
    """The API's answer for one definition."""
    diagnostics: list[Diagnostic]
    if not definition or not definition.strip():
        diagnostics = [Diagnostic("MISSING_DESCRIPTION", "the definition is empty", "/")]
    else:
        try:
            diagnostics = check_machine(json.loads(definition))
        except json.JSONDecodeError as error:
            diagnostics = [
                Diagnostic(
                    "INVALID_JSON_DESCRIPTION",
                    f"the definition is not JSON: {error.msg}",
                    f"line {error.lineno}, column {error.colno}",
                )
            ]
    return {
        "result": "FAIL" if diagnostics else "OK",
        "diagnostics": [diagnostic.as_api() for diagnostic in diagnostics],
        "truncated": False,
    }


def _request_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return bytes(environ["wsgi.input"].read(length)) if length else b""


def answer_validate_definition(app: WsgiApp) -> WsgiApp:
    """`app`, with ValidateStateMachineDefinition answered here and every other request passed through."""

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET", "") != TARGET:
            return app(environ, start_response)
        try:
            request = json.loads(_request_body(environ) or b"{}")
        except json.JSONDecodeError:
            request = None
        if not isinstance(request, dict):
            status, payload = (
                "400 Bad Request",
                {"__type": "ValidationException", "message": "the request body is not a JSON object"},
            )
        else:
            status, payload = "200 OK", validate(request.get("definition"))
        body = json.dumps(payload).encode()
        start_response(status, [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))])
        return [body]

    return middleware
