"""The server-side rollout: start the rollout state machine (dns-primary), follow it, re-attach, abort.

`make rollout ENGINE=stepfunctions TO=secondary STEPS=25,50,75,100 BAKE=300` starts an execution and follows it
with the same step table the client-side engine prints; Ctrl-C detaches and the execution goes on (a dropped
laptop changes nothing). `make rollout-status` follows the running execution again, or shows the last one;
`make rollout-abort` stops it and reverts to the last good split (Route 53 and the persisted split), as the
state machine itself does on an alarm. The definition is `stacks/dns/rollout/definition.py`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config.settings import Role, Settings
from ops.core.aws_clients import client
from ops.core.console import console
from ops.core.errors import NotDeployedError, RefusedError
from ops.deploy.outputs import outputs_with
from ops.state import locks, traffic_split
from ops.state.traffic_split import Split
from ops.traffic.region_loss import set_route53_weights
from ops.traffic.rollout import StepRow, print_summary
from shared import rollout_engine as contract
from shared.stack_id import StackId

ENGINE_STACK = StackId("dns", "primary").name
POLL_SECONDS = 1.0
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


class ExecutionRunningError(RefusedError):
    """A rollout execution is already running."""


def _sfn(settings: Settings) -> Any:
    return client(settings, "stepfunctions", settings.regions.primary)


def state_machine_arn(settings: Settings) -> str:
    arn = outputs_with(settings, [ENGINE_STACK]).get(ENGINE_STACK, {}).get("state_machine_arn")
    if not arn:
        raise NotDeployedError(f"{ENGINE_STACK} has no state_machine_arn output: deploy it first (make deploy)")
    return str(arn)


def running_execution(settings: Settings, machine: str) -> str | None:
    found = _sfn(settings).list_executions(stateMachineArn=machine, statusFilter="RUNNING", maxResults=1)
    executions = found.get("executions", [])
    return str(executions[0]["executionArn"]) if executions else None


def last_execution(settings: Settings, machine: str) -> str | None:
    executions = _sfn(settings).list_executions(stateMachineArn=machine, maxResults=20).get("executions", [])
    if not executions:
        return None
    newest = max(executions, key=lambda e: e["startDate"])
    return str(newest["executionArn"])


def execution_input(to: Role, steps: Sequence[int], bake_seconds: int) -> dict[str, Any]:
    return {"to": to, "steps": list(steps), "bake_seconds": bake_seconds, "reason": "rollout"}


def start(settings: Settings, *, to: Role, steps: Sequence[int], bake_seconds: int) -> int:
    machine = state_machine_arn(settings)
    running = running_execution(settings, machine)
    if running:
        raise ExecutionRunningError(
            f"a rollout execution is running ({running.rsplit(':', 1)[-1]}): follow it with `make rollout-status` "
            "or stop it with `make rollout-abort`"
        )
    name = contract.execution_name(to, datetime.now(UTC).strftime("%Y%m%dT%H%M%S"))
    payload = execution_input(to, steps, bake_seconds)
    execution = _sfn(settings).start_execution(stateMachineArn=machine, name=name, input=json.dumps(payload))
    console.say(f"--> started {name} on {machine.rsplit(':', 1)[-1]}: {json.dumps(payload)}")
    console.say("--> following it (Ctrl-C detaches; the execution goes on: `make rollout-status` re-attaches)")
    return follow(settings, str(execution["executionArn"]))


# -- following an execution ------------------------------------------------------------------------------------


@dataclass
class Progress:
    """The step table of one execution, rebuilt from its history events (the states it entered, with their input)."""

    rows: list[StepRow] = field(default_factory=list)
    said: int = 0  # history events already reported
    failure: str = ""
    entered: dict[str, datetime] = field(default_factory=dict)

    def read(self, events: list[dict[str, Any]]) -> list[str]:
        """Update the table from the whole history; the lines to print for the events not seen yet."""
        lines: list[str] = []
        self.rows, self.entered = [], {}
        handlers = {
            "SetWeights": self._step,
            "StartBake": self._applied,
            "StepHeld": self._held,
            "Revert": self._revert,
            "NotifyReverted": self._reverted,
            "RevertBroke": self._reverted,
        }
        for index, event in enumerate(events):
            details = event.get("stateEnteredEventDetails")
            handler = handlers.get(details["name"]) if details else None
            if details is None or handler is None:
                continue
            line = handler(details["name"], json.loads(details.get("input") or "{}"), event["timestamp"])
            if line and index >= self.said:
                lines.append(line)
        self.said = len(events)
        return lines

    def _since(self, mark: str, when: datetime) -> float:
        return (when - self.entered.get(mark, when)).total_seconds()

    def _step(self, _: str, data: dict[str, Any], when: datetime) -> str:
        self.entered["apply"] = when
        self.rows.append(_row(data, "step"))
        return f"[step {self.rows[-1].step}] {self.rows[-1].source} -> {self.rows[-1].target} (primary/secondary)"

    def _applied(self, _: str, data: dict[str, Any], when: datetime) -> str | None:
        if not self.rows:
            return None
        self.rows[-1].apply_seconds = self._since("apply", when)
        self.entered["bake"] = when
        return f"    weights set in {self.rows[-1].apply_seconds:.1f}s; baking {data.get('bake_seconds')}s"

    def _held(self, _: str, data: dict[str, Any], when: datetime) -> str | None:
        if not self.rows:
            return None
        self.rows[-1].bake_seconds = self._since("bake", when)
        self.rows[-1].result = "ok"
        return f"    {self.rows[-1].target} held for {self.rows[-1].bake_seconds:.1f}s: ok"

    def _revert(self, _: str, data: dict[str, Any], when: datetime) -> str:
        self.failure = str(data.get("failure", {}).get("cause", ""))
        if self.rows:
            self.rows[-1].result = f"FAILED: {self.failure}"
            if "bake" in self.entered and self.rows[-1].bake_seconds is None:
                self.rows[-1].bake_seconds = self._since("bake", when)
        self.rows.append(_row(data, "revert", reverse=True))
        self.entered["revert"] = when
        return f"--> {self.failure}: reverting to {self.rows[-1].target} (primary/secondary)"

    def _reverted(self, name: str, _: dict[str, Any], when: datetime) -> None:
        if self.rows and self.rows[-1].step == "revert":
            self.rows[-1].apply_seconds = self._since("revert", when)
            self.rows[-1].result = "reverted" if name == "NotifyReverted" else "REVERT FAILED"


def _row(data: dict[str, Any], step: str, *, reverse: bool = False) -> StepRow:
    last_good = Split.from_dict(data["last_good"])
    target = Split.from_dict(data["target"]) if "target" in data else last_good
    label = str(data.get("step", {}).get("number", "")) if step == "step" else step
    if reverse:
        return StepRow(label, target, last_good, "")
    return StepRow(label, last_good, target, "")


def _history(sfn: Any, execution: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": execution, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events.extend(page["events"])
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]


def follow(settings: Settings, execution: str) -> int:
    """Print the execution's steps as they happen until it ends (0: succeeded); Ctrl-C detaches (exit 130)."""
    sfn, progress = _sfn(settings), Progress()
    try:
        while True:
            described = sfn.describe_execution(executionArn=execution)
            for line in progress.read(_history(sfn, execution)):
                console.say(line)
            if described["status"] in TERMINAL:
                return _report(settings, described, progress)
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        console.say(
            f"\ndetached from {execution.rsplit(':', 1)[-1]}: it goes on in Step Functions; "
            "`make rollout-status` re-attaches, `make rollout-abort` stops it"
        )
        return 130


def _report(settings: Settings, described: dict[str, Any], progress: Progress) -> int:
    print_summary(progress.rows)
    name, status = described["name"], described["status"]
    _fold_history(settings)
    if status == "SUCCEEDED":
        result = json.loads(described.get("output") or "{}")
        weights = Split.from_dict(result["weights"]) if "weights" in result else traffic_split.read(settings).weights
        console.say(f"rollout complete ({name}): {weights} (primary/secondary)")
        return 0
    error, cause = described.get("error", status), described.get("cause", "")
    console.say(f"rollout {name} {status}: {error}: {cause}")
    console.say(f"traffic is at {traffic_split.read(settings).weights} (primary/secondary)")
    return 1


def _fold_history(settings: Settings) -> None:
    """Write the split back once, so the run the state machine recorded as `engine_run` joins `history` (the
    written document has no `engine_run`: once folded, nothing is written again)."""
    if not traffic_split.has_engine_run(settings):
        return
    try:
        with locks.traffic_locked(settings, "record a rollout execution in the split's history"):
            traffic_split.write(settings, traffic_split.read(settings))
    except locks.TrafficLockedError:
        pass  # the next writer folds it in


def status(settings: Settings) -> int:
    machine = state_machine_arn(settings)
    running = running_execution(settings, machine)
    if running:
        console.say(f"--> following the running execution {running.rsplit(':', 1)[-1]} (Ctrl-C detaches)")
        return follow(settings, running)
    last = last_execution(settings, machine)
    if last is None:
        console.say("no rollout execution yet: `make rollout ENGINE=stepfunctions TO=... STEPS=... BAKE=...`")
        return 0
    console.say(f"--> no execution running; the last one: {last.rsplit(':', 1)[-1]}")
    sfn, progress = _sfn(settings), Progress()
    progress.read(_history(sfn, last))
    _report(settings, sfn.describe_execution(executionArn=last), progress)
    return 0  # the last run is shown whatever its outcome


# -- aborting --------------------------------------------------------------------------------------------------


def abort(settings: Settings) -> int:
    """Stop the running execution, then do what its revert would have done: the last good split, set in Route 53
    and persisted, and the lock released."""
    machine = state_machine_arn(settings)
    running = running_execution(settings, machine)
    if running is None:
        console.say("no rollout execution is running: nothing to abort")
        return 0
    name = running.rsplit(":", 1)[-1]
    _sfn(settings).stop_execution(executionArn=running, error="Aborted", cause="make rollout-abort")
    console.say(f"--> stopped {name}")
    state = traffic_split.read(settings)
    rollout = state.rollout or {}
    if rollout.get("execution") == running and rollout.get("last_good"):
        last_good = Split.from_dict(rollout["last_good"])
    else:
        last_good = state.weights  # stopped before its first step changed anything
    zone_id = str(outputs_with(settings, [ENGINE_STACK])[ENGINE_STACK]["zone_id"])
    check = set_route53_weights(settings, zone_id, last_good, comment=f"rollout-abort of {name}")
    console.say(str(check))
    bad = state.weights
    state.weights, state.status, state.rollout = last_good, "reverted", None
    state.add_history(
        source=bad, target=last_good, result="reverted", reason="rollout", cause="aborted", execution=running
    )
    traffic_split.write(settings, state)
    _release_lock_of(settings, running)
    console.say(f"rollout {name} aborted: traffic is at {last_good} (primary/secondary), status reverted")
    return 0 if check.outcome == "ok" else 1


def _release_lock_of(settings: Settings, execution: str) -> None:
    holder = locks.read_lock(settings, contract.traffic_lock_id(settings))
    if holder is not None and holder.info.get("execution") == execution:
        try:
            locks.delete_if_unchanged(settings, holder)
        except (ClientError, BotoCoreError) as error:
            console.say(f"    note  the traffic lock of {execution} could not be released: {error}")
