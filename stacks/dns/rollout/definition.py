"""The rollout state machine's definition (Amazon States Language, JSONPath), built from plain facts.

The flow (`docs/rollout-engine.md` draws it): check the input, take the traffic lock, read the persisted split,
pre-check (the writer cluster available, the write home not fenced, every watched alarm present and none in
ALARM), snapshot the writer cluster, then per step above TO's current share: notify, set both weighted entry
records in one Route 53 change batch, persist the split, bake while reading the alarms every `poll_seconds`.
An alarm in ALARM, or any failed task during a step, reverts to the last good split (Route 53 and the persisted
split), notifies, releases the lock and fails naming the cause. State data stays small and free of API
timestamps: each task keeps only the fields the next state needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared import rollout_engine as contract

State = dict[str, Any]
ROLES = ("primary", "secondary")
ENGINE_NAME = "stepfunctions"
ALARM_TYPES = ["CompositeAlarm", "MetricAlarm"]
RETRY_THROTTLED = {"IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2.0}


@dataclass(frozen=True)
class RegionAlarms:
    """The alarms watched in one region, and how the state machine reads them."""

    role: str
    region: str
    alarms: tuple[tuple[str, str], ...]  # (alarm name, "CompositeAlarm" | "MetricAlarm")
    function_arn: str = ""  # read through this function (another region, on AWS); "" = an aws-sdk task
    sdk_region: str = ""  # "" = the state machine's own region (an ARN naming another: the emulator only)


@dataclass(frozen=True)
class EngineFacts:
    lock_table: str
    lock_id: str
    state_bucket: str
    split_key: str
    default_weights: dict[str, int]
    zone_id: str
    entry_name: str
    leg_names: dict[str, str]  # role -> the leg name its weighted record aliases
    cluster_identifier: str  # the writer cluster: pre-checked and snapshotted
    write_home_parameter: str  # the primary region's view of the write home
    topic_arn: str
    watched: tuple[RegionAlarms, ...]
    poll_seconds: int = contract.POLL_SECONDS


def _sdk(service: str, action: str, region: str = "") -> str:
    return f"arn:aws:states:{region}::aws-sdk:{service}:{action}"


def _task(resource: str, parameters: dict[str, Any], next_state: str, **extra: Any) -> State:
    return {"Type": "Task", "Resource": resource, "Parameters": parameters, "Next": next_state, **extra}


def _catch(next_state: str, errors: Sequence[str] = ("States.ALL",)) -> list[dict[str, Any]]:
    return [{"ErrorEquals": list(errors), "ResultPath": "$.error", "Next": next_state}]


def _pass(next_state: str, **fields: Any) -> State:
    return {"Type": "Pass", "Next": next_state, **fields}


def _failure(error: str, cause: str, next_state: str, *, dynamic: bool = False) -> State:
    """Record why the run stops in `$.failure` (a literal cause, or an intrinsic when `dynamic`)."""
    cause_field = {"cause.$": cause} if dynamic else {"cause": cause}
    return _pass(next_state, Parameters={"error": error, **cause_field}, ResultPath="$.failure")


class DefinitionBuilder:
    def __init__(self, facts: EngineFacts) -> None:
        self.facts = facts
        self.states: dict[str, State] = {}

    def build(self) -> dict[str, Any]:
        self._input_checks()
        self._lock()
        self._read_split()
        self._prechecks()
        self._start()
        self._steps()
        self._bake()
        self._revert()
        self._complete()
        self._release("ReleaseAndFail", "Fail")
        self.states["Fail"] = {"Type": "Fail", "ErrorPath": "$.failure.error", "CausePath": "$.failure.cause"}
        return {
            "Comment": "Staged traffic shift between the regions, reverted on any alarm (docs/rollout-engine.md)",
            "StartAt": "CheckInput",
            "States": self.states,
        }

    # -- input, lock and the persisted split ------------------------------------------------------------------

    def _input_checks(self) -> None:
        present = [{"Variable": f"$.{key}", "IsPresent": True} for key in ("to", "bake_seconds", "reason")]
        self.states["CheckInput"] = {
            "Type": "Choice",
            "Choices": [{"And": [*present, {"Variable": "$.steps[0]", "IsPresent": True}], "Next": "CheckValues"}],
            "Default": "BadInput",
        }
        to_valid = {"Or": [{"Variable": "$.to", "StringEquals": role} for role in ROLES]}
        self.states["CheckValues"] = {
            "Type": "Choice",
            "Choices": [
                {
                    "And": [
                        to_valid,
                        {"Variable": "$.steps[0]", "IsNumeric": True},
                        {"Variable": "$.bake_seconds", "IsNumeric": True},
                        {"Variable": "$.reason", "IsString": True},
                    ],
                    "Next": "DescribeHolder",
                }
            ],
            "Default": "BadInput",
        }
        self.states["BadInput"] = {
            "Type": "Fail",
            "Error": contract.BAD_INPUT,
            "Cause": 'input must be {"to": "primary"|"secondary", "steps": [whole percents], '
            '"bake_seconds": <seconds>, "reason": <text>}',
        }

    def _lock(self) -> None:
        f = self.facts
        self.states["DescribeHolder"] = _pass(
            "AcquireLock",
            Parameters={
                "purpose.$": "States.Format('{} to {} (stepfunctions)', $.reason, $.to)",
                "execution.$": "$$.Execution.Id",
                "since.$": "$$.State.EnteredTime",
            },
            ResultPath="$.holder",
        )
        self.states["AcquireLock"] = _task(
            "arn:aws:states:::dynamodb:putItem",
            {
                "TableName": f.lock_table,
                "Item": {"LockID": {"S": f.lock_id}, "Info": {"S.$": "States.JsonToString($.holder)"}},
                "ConditionExpression": "attribute_not_exists(LockID)",
            },
            "ReadSplit",
            ResultPath=None,
            Retry=[
                {
                    "ErrorEquals": [
                        "DynamoDB.ProvisionedThroughputExceededException",
                        "DynamoDB.RequestLimitExceededException",
                        "DynamoDB.InternalServerErrorException",
                    ],
                    **RETRY_THROTTLED,
                }
            ],
            Catch=[
                {
                    "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                    "ResultPath": "$.error",
                    "Next": "Locked",
                },
                *_catch("LockFailed"),
            ],
        )
        self.states["Locked"] = {
            "Type": "Fail",
            "Error": contract.TRAFFIC_LOCKED,
            "Cause": "another traffic change holds the traffic lock (make rollout-status shows the holder)",
        }
        self.states["LockFailed"] = {
            "Type": "Fail",
            "Error": contract.PRECHECK_FAILED,
            "Cause": "the traffic lock could not be taken (the lock table did not answer)",
        }

    def _read_split(self) -> None:
        f = self.facts
        self.states["ReadSplit"] = _task(
            _sdk("s3", "getObject"),
            {"Bucket": f.state_bucket, "Key": f.split_key},
            "FromSplit",
            ResultSelector={"doc.$": "States.StringToJson($.Body)"},
            ResultPath="$.read",
            Catch=[
                {
                    "ErrorEquals": ["S3.NoSuchKeyException", "s3.NoSuchKeyException"],
                    "ResultPath": "$.error",
                    "Next": "NoSplit",
                },
                *_catch("SplitUnreadable"),
            ],
        )
        self.states["NoSplit"] = _pass(
            "FromSplit", Result={"doc": {"weights": f.default_weights, "history": []}}, ResultPath="$.read"
        )
        self.states["SplitUnreadable"] = _failure(
            contract.PRECHECK_FAILED,
            f"States.Format('the persisted split s3://{f.state_bucket}/{f.split_key} cannot be read: {{}}', "
            "$.error.Error)",
            "ReleaseAndFail",
            dynamic=True,
        )
        self.states["FromSplit"] = _pass("ShareOfTo", InputPath="$.read.doc.weights", ResultPath="$.last_good")
        self.states["ShareOfTo"] = {
            "Type": "Choice",
            "Choices": [{"Variable": "$.to", "StringEquals": "primary", "Next": "ShareOfPrimary"}],
            "Default": "ShareOfSecondary",
        }
        for role in ROLES:
            self.states[f"ShareOf{role.title()}"] = _pass(
                "Prechecks", InputPath=f"$.last_good.{role}", ResultPath="$.share"
            )

    # -- pre-checks -------------------------------------------------------------------------------------------

    def _alarm_read(self, watched: RegionAlarms, alarm: tuple[str, str], *, count: bool) -> State:
        """A task reading one alarm: how many exist by that name (`found`), or whether it is in ALARM (`firing`).

        One alarm per call, of its known type, so the list read is never empty when the alarm exists: JSONPath
        through an empty list fails, and `StateValue` is not a filter the emulator applies with `AlarmNames`.
        """
        name, alarm_type = alarm
        if watched.function_arn:
            state: State = {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": watched.function_arn,
                    "Payload": {"region": watched.region, "alarm_names": [name]},
                },
                "Retry": [
                    {
                        "ErrorEquals": ["Lambda.ServiceException", "Lambda.TooManyRequestsException"],
                        **RETRY_THROTTLED,
                    }
                ],
            }
            selector = (
                {"found.$": "$.Payload.found"}
                if count
                else {"firing.$": f"States.ArrayContains($.Payload.firing, '{name}')"}
            )
        else:
            state = {
                "Type": "Task",
                "Resource": _sdk("cloudwatch", "describeAlarms", watched.sdk_region),
                "Parameters": {"AlarmNames": [name], "AlarmTypes": [alarm_type]},
            }
            listed = f"$.{alarm_type}s"
            selector = (
                {"found.$": f"States.ArrayLength({listed})"}
                if count
                else {"firing.$": f"States.ArrayContains({listed}[*].StateValue, 'ALARM')"}
            )
        state["ResultSelector"] = selector
        return state

    def _alarms(self) -> list[tuple[RegionAlarms, int, tuple[str, str]]]:
        return [(w, i, alarm) for w in self.facts.watched for i, alarm in enumerate(w.alarms, 1)]

    def _chain(self, tasks: list[tuple[str, State, str]], then: str, on_error: str) -> None:
        """Run `tasks` (name, task, result path) one after the other from the first, then go to `then`.

        One after the other rather than a Parallel state: the emulator cannot run a task whose resource names
        another region inside a branch, and a handful of reads costs well under a second either way.
        """
        names = [name for name, _, _ in tasks]
        for index, (name, task, result_path) in enumerate(tasks):
            following = names[index + 1] if index + 1 < len(names) else then
            self.states[name] = {**task, "ResultPath": result_path, "Catch": _catch(on_error), "Next": following}

    def _prechecks(self) -> None:
        f = self.facts
        tasks: list[tuple[str, State, str]] = [
            (
                "Prechecks",
                _task(
                    _sdk("rds", "describeDBClusters"),
                    {"DbClusterIdentifier": f.cluster_identifier},
                    "",
                    # `[*]`, never `[0]`: the emulator answers a path through one list element with a one-element
                    # list where AWS answers the element; a wildcard is a list on both.
                    ResultSelector={"available.$": "States.ArrayContains($.DbClusters[*].Status, 'available')"},
                ),
                "$.pre.cluster",
            ),
            (
                "ReadWriteHome",
                _task(
                    _sdk("ssm", "getParameter"),
                    {"Name": f.write_home_parameter},
                    "",
                    ResultSelector={"value.$": "$.Parameter.Value"},
                ),
                "$.pre.home",
            ),
        ]
        for watched, index, alarm in self._alarms():
            tasks.append(
                (
                    f"Count{watched.role.title()}Alarm{index}",
                    self._alarm_read(watched, alarm, count=True),
                    f"$.pre.{watched.role}{index}.count",
                )
            )
            tasks.append(
                (
                    f"Check{watched.role.title()}Alarm{index}",
                    self._alarm_read(watched, alarm, count=False),
                    f"$.pre.{watched.role}{index}.state",
                )
            )
        self._chain(tasks, "EvaluatePrechecks", "PrecheckError")
        self.states["PrecheckError"] = _failure(
            contract.PRECHECK_FAILED,
            "States.Format('a pre-check could not read what it checks: {}', $.error.Error)",
            "ReleaseAndFail",
            dynamic=True,
        )
        choices: list[dict[str, Any]] = [
            {
                "Variable": "$.pre.cluster.available",
                "BooleanEquals": False,
                "Next": "ClusterNotAvailable",
            },
            {"Variable": "$.pre.home.value", "StringEquals": "fenced", "Next": "WriteHomeFenced"},
        ]
        for watched, index, (name, _) in self._alarms():
            at = f"$.pre.{watched.role}{index}"
            missing, firing = f"{watched.role.title()}Alarm{index}Missing", f"{watched.role.title()}Alarm{index}Firing"
            choices.append({"Variable": f"{at}.count.found", "NumericLessThan": 1, "Next": missing})
            choices.append({"Variable": f"{at}.state.firing", "BooleanEquals": True, "Next": firing})
            self.states[missing] = _failure(
                contract.PRECHECK_FAILED,
                f"alarm {name} ({watched.region}) does not exist, so the {watched.role} region cannot be watched",
                "ReleaseAndFail",
            )
            self.states[firing] = _failure(
                contract.PRECHECK_FAILED, f"alarm {name} ({watched.region}) is in ALARM: not starting", "ReleaseAndFail"
            )
        self.states["EvaluatePrechecks"] = {"Type": "Choice", "Choices": choices, "Default": "Snapshot"}
        self.states["ClusterNotAvailable"] = _failure(
            contract.PRECHECK_FAILED,
            f"the writer cluster {f.cluster_identifier} is not available",
            "ReleaseAndFail",
        )
        self.states["WriteHomeFenced"] = _failure(
            contract.PRECHECK_FAILED,
            "the write home is fenced (a failover or failback is switching it): not starting",
            "ReleaseAndFail",
        )

    def _start(self) -> None:
        f = self.facts
        self.states["Snapshot"] = _task(
            _sdk("rds", "createDBClusterSnapshot"),
            {
                "DbClusterIdentifier": f.cluster_identifier,
                # <cluster>-rollout-<stamp>: the stamp of `rollout-to-<role>-<stamp>` (shared.rollout_engine), so the id
                # stays within RDS's 63 characters whatever the direction.
                "DbClusterSnapshotIdentifier.$": f"States.Format('{f.cluster_identifier}-rollout-{{}}', "
                "States.ArrayGetItem(States.StringSplit($$.Execution.Name, '-'), 3))",
                "Tags": [{"Key": "Purpose", "Value": "rollout"}],
            },
            "NotifyStart",
            ResultPath=None,
            Catch=_catch("SnapshotFailed"),
        )
        self.states["SnapshotFailed"] = _failure(
            contract.PRECHECK_FAILED,
            "States.Format('the snapshot of the writer cluster before the first step failed: {}', $.error.Error)",
            "ReleaseAndFail",
            dynamic=True,
        )
        self.states["NotifyStart"] = self._notify(
            "rollout started",
            "States.Format('{} to {} started: steps {}, bake {} s, from {}/{} (primary/secondary); execution {}', "
            "$.reason, $.to, States.JsonToString($.steps), $.bake_seconds, $.last_good.primary, "
            "$.last_good.secondary, $$.Execution.Name)",
            "CountSteps",
        )
        self.states["CountSteps"] = _pass(
            "NextStep", Parameters={"index": 0, "count.$": "States.ArrayLength($.steps)"}, ResultPath="$.loop"
        )

    def _notify(self, subject: str, message: str, next_state: str) -> State:
        return _task(
            "arn:aws:states:::sns:publish",
            {"TopicArn": self.facts.topic_arn, "Subject": subject, "Message.$": message},
            next_state,
            ResultPath=None,
            Retry=[{"ErrorEquals": ["SNS.ThrottledException", "SNS.InternalErrorException"], **RETRY_THROTTLED}],
            Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.notify_error", "Next": next_state}],
        )

    # -- the steps --------------------------------------------------------------------------------------------

    def _steps(self) -> None:
        self.states["NextStep"] = {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.loop.index", "NumericGreaterThanEqualsPath": "$.loop.count", "Next": "Complete"}
            ],
            "Default": "PickStep",
        }
        self.states["PickStep"] = _pass(
            "AlreadyDone",
            Parameters={
                "share.$": "States.ArrayGetItem($.steps, $.loop.index)",
                # 100 - share, without negation: [share, ..., 100] holds 101 - share numbers.
                "rest.$": "States.MathAdd(States.ArrayLength(States.ArrayRange("
                "States.ArrayGetItem($.steps, $.loop.index), 100, 1)), -1)",
                "number.$": "States.MathAdd($.loop.index, 1)",
            },
            ResultPath="$.step",
        )
        self.states["AlreadyDone"] = {
            "Type": "Choice",
            "Choices": [{"Variable": "$.step.share", "NumericLessThanEqualsPath": "$.share", "Next": "Advance"}],
            "Default": "TargetOf",
        }
        self.states["TargetOf"] = {
            "Type": "Choice",
            "Choices": [{"Variable": "$.to", "StringEquals": "primary", "Next": "TargetPrimary"}],
            "Default": "TargetSecondary",
        }
        for role, other in (("primary", "secondary"), ("secondary", "primary")):
            self.states[f"Target{role.title()}"] = _pass(
                "NotifyStep",
                Parameters={f"{role}.$": "$.step.share", f"{other}.$": "$.step.rest"},
                ResultPath="$.target",
            )
        self.states["NotifyStep"] = self._notify(
            "rollout step",
            "States.Format('step {} of {}: {}/{} -> {}/{} (primary/secondary); execution {}', $.step.number, "
            "$.loop.count, $.last_good.primary, $.last_good.secondary, $.target.primary, $.target.secondary, "
            "$$.Execution.Name)",
            "SetWeights",
        )
        self.states["SetWeights"] = self._set_weights("$.target", "PersistStep", "StepError")
        self._persist(
            "PersistStep", "in_progress", "$.target", "StartBake", "StepError", rollout_last_good="$.last_good"
        )
        self.states["StepError"] = _failure(
            contract.STEP_FAILED,
            "States.Format('the step to {}/{} failed: {} ({})', $.target.primary, $.target.secondary, "
            "$.error.Error, $.error.Cause)",
            "Revert",
            dynamic=True,
        )

    def _set_weights(self, weights: str, next_state: str, on_error: str) -> State:
        f = self.facts
        changes = [
            {
                "Action": "UPSERT",
                "ResourceRecordSet": {
                    "Name": f.entry_name,
                    "Type": "A",
                    "SetIdentifier": role,
                    "Weight.$": f"{weights}.{role}",
                    "AliasTarget": {
                        "HostedZoneId": f.zone_id,
                        "DnsName": f.leg_names[role],
                        "EvaluateTargetHealth": True,
                    },
                },
            }
            for role in ROLES
        ]
        return _task(
            _sdk("route53", "changeResourceRecordSets"),
            {
                "HostedZoneId": f.zone_id,
                "ChangeBatch": {
                    "Comment.$": "States.Format('rollout engine: execution {}', $$.Execution.Name)",
                    "Changes": changes,
                },
            },
            next_state,
            ResultPath=None,
            Retry=[
                {
                    "ErrorEquals": ["Route53.PriorRequestNotCompleteException", "Route53.ThrottlingException"],
                    **RETRY_THROTTLED,
                }
            ],
            Catch=_catch(on_error),
        )

    def _persist(
        self,
        name: str,
        status: str,
        weights: str,
        next_state: str,
        on_error: str,
        *,
        rollout_last_good: str | None = None,
        result: str | None = None,
    ) -> None:
        """`name`: write split.json: the weights, the status, the rollout under way (or none) and, at the end, the run's
        outcome as `engine_run` (ASL cannot append to `history`; the ops tooling folds it in)."""
        f = self.facts
        document: dict[str, Any] = {
            "weights.$": weights,
            "status": status,
            "updated_at.$": "$$.State.EnteredTime",
            "history.$": "$.read.doc.history",
        }
        if rollout_last_good is not None:
            document["rollout"] = {
                "to.$": "$.to",
                "reason.$": "$.reason",
                "last_good.$": rollout_last_good,
                "started_at.$": "$.holder.since",
                "engine": ENGINE_NAME,
                "execution.$": "$$.Execution.Id",
            }
        else:
            document["rollout"] = None
        if result is not None:
            document["engine_run"] = {
                "execution.$": "$$.Execution.Id",
                "time.$": "$$.State.EnteredTime",
                "to.$": "$.to",
                "reason.$": "$.reason",
                "from.$": "$.read.doc.weights",
                "weights.$": weights,
                "result": result,
                **({"cause.$": "$.failure.cause"} if result != "ok" else {}),
            }
        self.states[name] = _pass(f"{name}Write", Parameters=document, ResultPath="$.doc")
        self.states[f"{name}Write"] = _task(
            _sdk("s3", "putObject"),
            {
                "Bucket": f.state_bucket,
                "Key": f.split_key,
                "ContentType": "application/json",
                "Body.$": "States.JsonToString($.doc)",
            },
            next_state,
            ResultPath=None,
            Catch=_catch(on_error),
        )

    def _bake(self) -> None:
        f = self.facts
        self.states["StartBake"] = _pass("Watch", Parameters={"left.$": "$.bake_seconds"}, ResultPath="$.bake")
        reads = [
            (f"Read{w.role.title()}Alarm{i}", self._alarm_read(w, alarm, count=False), f"$.poll.{w.role}{i}")
            for w, i, alarm in self._alarms()
        ]
        reads[0] = ("Watch", reads[0][1], reads[0][2])
        self._chain(reads, "AnyFiring", "StepError")
        choices = []
        for watched, index, (name, _) in self._alarms():
            state = f"{watched.role.title()}Alarm{index}FiredInBake"
            choices.append({"Variable": f"$.poll.{watched.role}{index}.firing", "BooleanEquals": True, "Next": state})
            self.states[state] = _failure(
                contract.ALARM_FIRED,
                f"States.Format('alarm {name} ({watched.region}) in ALARM while baking {{}}/{{}} (primary/secondary)', "
                "$.target.primary, $.target.secondary)",
                "Revert",
                dynamic=True,
            )
        self.states["AnyFiring"] = {"Type": "Choice", "Choices": choices, "Default": "Baked"}
        self.states["Baked"] = {
            "Type": "Choice",
            "Choices": [{"Variable": "$.bake.left", "NumericLessThanEquals": 0, "Next": "StepHeld"}],
            "Default": "BakeWait",
        }
        self.states["BakeWait"] = {"Type": "Wait", "Seconds": f.poll_seconds, "Next": "BakeTick"}
        self.states["BakeTick"] = _pass(
            "Watch", Parameters={"left.$": f"States.MathAdd($.bake.left, -{f.poll_seconds})"}, ResultPath="$.bake"
        )
        self.states["StepHeld"] = _pass("PersistHeld", InputPath="$.target", ResultPath="$.last_good")
        self._persist(
            "PersistHeld", "in_progress", "$.last_good", "HeldShare", "StepError", rollout_last_good="$.last_good"
        )
        self.states["HeldShare"] = _pass("Advance", InputPath="$.step.share", ResultPath="$.share")
        self.states["Advance"] = _pass(
            "NextStep",
            Parameters={"index.$": "States.MathAdd($.loop.index, 1)", "count.$": "$.loop.count"},
            ResultPath="$.loop",
        )

    # -- revert, completion and the lock ----------------------------------------------------------------------

    def _revert(self) -> None:
        self.states["Revert"] = self._set_weights("$.last_good", "PersistReverted", "RevertBroke")
        self._persist("PersistReverted", "reverted", "$.last_good", "NotifyReverted", "RevertBroke", result="reverted")
        self.states["NotifyReverted"] = self._notify(
            "rollout reverted",
            "States.Format('{} to {} reverted to {}/{} (primary/secondary): {}; execution {}', $.reason, $.to, "
            "$.last_good.primary, $.last_good.secondary, $.failure.cause, $$.Execution.Name)",
            "ReleaseAndFail",
        )
        self.states["RevertBroke"] = _pass(
            "NotifyRevertFailed",
            Parameters={
                "error": contract.REVERT_FAILED,
                "cause.$": "States.Format('{}; then the revert to {}/{} failed too ({}): run make rollout-abort', "
                "$.failure.cause, $.last_good.primary, $.last_good.secondary, $.error.Error)",
            },
            ResultPath="$.failure",
        )
        self.states["NotifyRevertFailed"] = self._notify(
            "rollout revert FAILED",
            "States.Format('{}; execution {}', $.failure.cause, $$.Execution.Name)",
            "ReleaseAndFail",
        )

    def _complete(self) -> None:
        self._persist("Complete", "stable", "$.last_good", "NotifyComplete", "CompleteUnpersisted", result="ok")
        self.states["CompleteUnpersisted"] = _failure(
            contract.STEP_FAILED,
            "States.Format('the split reached {}/{} but could not be persisted: {}', $.last_good.primary, "
            "$.last_good.secondary, $.error.Error)",
            "Revert",
            dynamic=True,
        )
        self.states["NotifyComplete"] = self._notify(
            "rollout complete",
            "States.Format('{} to {} complete: {}/{} (primary/secondary); execution {}', $.reason, $.to, "
            "$.last_good.primary, $.last_good.secondary, $$.Execution.Name)",
            "ReleaseAndSucceed",
        )
        self._release("ReleaseAndSucceed", "Summary")
        self.states["Summary"] = {
            "Type": "Pass",
            "Parameters": {"to.$": "$.to", "weights.$": "$.last_good"},
            "End": True,
        }

    def _release(self, name: str, next_state: str) -> None:
        """Delete the lock item if this execution holds it; a failure to release never hides the outcome."""
        f = self.facts
        self.states[name] = _task(
            "arn:aws:states:::dynamodb:deleteItem",
            {
                "TableName": f.lock_table,
                "Key": {"LockID": {"S": f.lock_id}},
                "ConditionExpression": "contains(Info, :execution)",
                "ExpressionAttributeValues": {":execution": {"S.$": "$$.Execution.Id"}},
            },
            next_state,
            ResultPath=None,
            Retry=[{"ErrorEquals": ["DynamoDB.ProvisionedThroughputExceededException"], **RETRY_THROTTLED}],
            Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.release_error", "Next": next_state}],
        )


def definition(facts: EngineFacts) -> dict[str, Any]:
    return DefinitionBuilder(facts).build()
