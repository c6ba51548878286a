"""Step Functions in the project's emulator (gaps `stepfunctions-executions`, `sfn-validate-definition`,
`sfn-list-versions`, `sfn-sdk-integration-shapes`, `sfn-context-times`, `sfn-cross-region-sdk`): definitions
validated in the API's shape, versions listed, and executions that run every kind of task the rollout engine's
definition uses, checked by their status, their output and what they changed (boto3 round trips against a private
emulator)."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from config.settings import Settings
from ops.core.aws_clients import client
from ops.local.sfn_validation import validate
from tests.support import put_alarm
from tests.unit.private_emulator import private_emulator

ROLE_ARN = "arn:aws:iam::123456789012:role/rollout-probe"  # the emulator does not assume it
SDK = "arn:aws:states:::aws-sdk"
EXECUTION_SECONDS = 30


@pytest.fixture(scope="module")
def emulated() -> Iterator[Settings]:
    with private_emulator() as settings:
        yield settings


def _task(resource: str, parameters: dict[str, Any], **fields: Any) -> dict[str, Any]:
    state = {"Type": "Task", "Resource": resource, "Parameters": parameters, **fields}
    return state if "Next" in state else {**state, "End": True}


def _machine(*states: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"StartAt": states[0][0], "States": dict(states)}


def _run(settings: Settings, definition: dict[str, Any], given: dict[str, Any], *, arn: str = "") -> dict[str, Any]:
    """Create the state machine (unless `arn` names one), run one named execution, wait for its end."""
    sfn = client(settings, "stepfunctions", settings.regions.primary)
    name = f"probe-{uuid.uuid4().hex[:10]}"
    if not arn:
        arn = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE_ARN)[
            "stateMachineArn"
        ]
    # moto names an execution started without a name "None": a second one would already exist.
    execution = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(given))["executionArn"]
    deadline = time.monotonic() + EXECUTION_SECONDS
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{name} still running after {EXECUTION_SECONDS} s"
        time.sleep(0.1)
    described["machine"] = arn
    if "output" in described:
        described["output"] = json.loads(described["output"])
    return described


def _alarm(settings: Settings, region: str, name: str, *, firing: bool = False) -> None:
    put_alarm(client(settings, "cloudwatch", region), name, firing=firing)


FIRING = {
    "firing.$": "$.MetricAlarms[?(@.StateValue == 'ALARM')].AlarmName",
    "found.$": "States.ArrayLength($.MetricAlarms)",
}


# --- ValidateStateMachineDefinition -------------------------------------------------------------------------------


def test_a_valid_definition_validates_ok_through_the_api(emulated: Settings) -> None:
    definition = _machine(
        ("Check", {"Type": "Choice", "Choices": [{"Variable": "$.go", "BooleanEquals": True, "Next": "Go"}],
                   "Default": "Stop"}),
        ("Go", {"Type": "Parallel", "Branches": [_machine(("Inner", {"Type": "Pass", "End": True}))], "Next": "Done"}),
        ("Stop", {"Type": "Fail", "Error": "Stopped"}),
        ("Done", {"Type": "Succeed"}),
    )  # fmt: skip
    sfn = client(emulated, "stepfunctions", emulated.regions.primary)

    answer = sfn.validate_state_machine_definition(definition=json.dumps(definition), type="STANDARD")

    assert (answer["result"], answer["diagnostics"], answer["truncated"]) == ("OK", [], False)


def test_a_broken_next_fails_validation_naming_the_state_and_where(emulated: Settings) -> None:
    definition = _machine(("Lock", {"Type": "Pass", "Next": "ReadSplitt"}), ("ReadSplit", {"Type": "Succeed"}))
    sfn = client(emulated, "stepfunctions", emulated.regions.primary)

    answer = sfn.validate_state_machine_definition(definition=json.dumps(definition))

    assert answer["result"] == "FAIL"
    assert answer["truncated"] is False
    [diagnostic] = answer["diagnostics"]
    assert diagnostic["severity"] == "ERROR"
    assert diagnostic["code"] == "MISSING_TRANSITION_TARGET"
    assert diagnostic["location"] == "/States/Lock/Next"
    assert "'ReadSplitt'" in diagnostic["message"]


@pytest.mark.parametrize(
    ("definition", "code", "location"),
    [
        ("", "MISSING_DESCRIPTION", "/"),
        ('{"StartAt": "A", "States": {', "INVALID_JSON_DESCRIPTION", "line 1, column 29"),
        ('{"StartAt": "B", "States": {"A": {"Type": "Succeed"}}}', "SCHEMA_VALIDATION_FAILED", "/StartAt"),
        ('{"StartAt": "A", "States": {"A": {"Type": "Pass"}, "B": {"Type": "Succeed"}}}', "SCHEMA_VALIDATION_FAILED",
         "/States/A"),
        ('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A"}}}', "MISSING_END_STATE", "/States"),
        ('{"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, '
         '"Next": "Z"}], "Default": "B"}, "B": {"Type": "Succeed"}}}', "MISSING_TRANSITION_TARGET",
         "/States/A/Choices/0/Next"),
        ('{"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [], "Default": "Z"}, '
         '"B": {"Type": "Succeed"}}}', "MISSING_TRANSITION_TARGET", "/States/A/Default"),
        ('{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "r", "End": true, "Catch": '
         '[{"ErrorEquals": ["States.ALL"], "Next": "Z"}]}}}', "MISSING_TRANSITION_TARGET", "/States/A/Catch/0/Next"),
        # A branch's transitions stay inside the branch: `Outer` is not a state of it.
        ('{"StartAt": "Outer", "States": {"Outer": {"Type": "Parallel", "End": true, "Branches": [{"StartAt": "I", '
         '"States": {"I": {"Type": "Pass", "Next": "Outer"}, "E": {"Type": "Succeed"}}}]}}}',
         "MISSING_TRANSITION_TARGET", "/States/Outer/Branches/0/States/I/Next"),
        ('{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "X", '
         '"States": {"I": {"Type": "Succeed"}}}}}}', "SCHEMA_VALIDATION_FAILED", "/States/M/ItemProcessor/StartAt"),
        ('{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "Iterator": {"StartAt": "I", '
         '"States": {"I": {"Type": "Wait", "Seconds": 1}}}}}}', "SCHEMA_VALIDATION_FAILED",
         "/States/M/Iterator/States/I"),
    ],
)  # fmt: skip
def test_each_broken_rule_is_one_error_diagnostic(definition: str, code: str, location: str) -> None:
    answer = validate(definition)

    assert answer["result"] == "FAIL"
    assert [(d["severity"], d["code"], d["location"]) for d in answer["diagnostics"]][:1] == [("ERROR", code, location)]


def test_other_stepfunctions_calls_pass_the_validator_untouched(emulated: Settings) -> None:
    sfn = client(emulated, "stepfunctions", emulated.regions.primary)
    definition = _machine(("Only", {"Type": "Succeed"}))
    arn = sfn.create_state_machine(name="untouched", definition=json.dumps(definition), roleArn=ROLE_ARN)[
        "stateMachineArn"
    ]

    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == definition


def test_a_state_machines_versions_are_listed_newest_first(emulated: Settings) -> None:
    """Gap `sfn-list-versions`: the call the AWS provider makes after every create and refresh."""
    sfn = client(emulated, "stepfunctions", emulated.regions.primary)
    first = _machine(("Only", {"Type": "Succeed"}))
    unpublished = sfn.create_state_machine(name="unversioned", definition=json.dumps(first), roleArn=ROLE_ARN)
    arn = sfn.create_state_machine(name="versioned", definition=json.dumps(first), roleArn=ROLE_ARN, publish=True)[
        "stateMachineArn"
    ]
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(_machine(("Other", {"Type": "Succeed"}))),
                             publish=True)  # fmt: skip

    listed = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    none = sfn.list_state_machine_versions(stateMachineArn=unpublished["stateMachineArn"])["stateMachineVersions"]

    assert [version["stateMachineVersionArn"] for version in listed] == [f"{arn}:2", f"{arn}:1"]
    assert all(version["creationDate"] for version in listed)
    assert none == []
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.list_state_machine_versions(stateMachineArn=arn.replace(":versioned", ":absent"))


# --- Executions: what the rollout engine's definition uses --------------------------------------------------------


def test_a_describe_alarms_task_selects_the_firing_names_and_counts_the_found(emulated: Settings) -> None:
    """(a) aws-sdk cloudwatch:describeAlarms; a JSONPath filter and States.ArrayLength in ResultSelector."""
    primary = emulated.regions.primary
    _alarm(emulated, primary, "a-quiet")
    _alarm(emulated, primary, "a-firing", firing=True)
    definition = _machine(
        ("Read", _task(f"{SDK}:cloudwatch:describeAlarms", {"AlarmNames.$": "$.names"}, ResultSelector=FIRING))
    )

    run = _run(emulated, definition, {"names": ["a-quiet", "a-firing", "a-missing"]})

    assert run["status"] == "SUCCEEDED"
    assert run["output"] == {"firing": ["a-firing"], "found": 2}


def test_a_region_qualified_sdk_task_reads_the_other_regions_alarms(emulated: Settings) -> None:
    """(b) gap `sfn-cross-region-sdk`: `arn:aws:states:<region>::aws-sdk:...` calls that region."""
    primary, secondary = emulated.regions.primary, emulated.regions.secondary
    assert primary != secondary
    _alarm(emulated, secondary, "b-only-in-secondary", firing=True)
    names = {"AlarmNames": ["b-only-in-secondary"]}
    there = _machine(
        ("Read", _task(f"arn:aws:states:{secondary}::aws-sdk:cloudwatch:describeAlarms", names, ResultSelector=FIRING))
    )
    here = _machine(
        ("Read", _task(f"{SDK}:cloudwatch:describeAlarms", names, ResultSelector={"found.$": FIRING["found.$"]}))
    )

    assert _run(emulated, there, {})["output"] == {"firing": ["b-only-in-secondary"], "found": 1}
    assert _run(emulated, here, {})["output"] == {"found": 0}  # the machine's own region has no such alarm


def test_a_conditional_put_takes_the_lock_once_and_a_catch_routes_the_second_to_a_fail_state(
    emulated: Settings,
) -> None:
    """(c) dynamodb:putItem with attribute_not_exists(LockID); the error name a Catch matches."""
    table = "probe-locks"
    client(emulated, "dynamodb", emulated.regions.primary).create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    put = {
        "TableName": table,
        "Item": {"LockID": {"S": "probe-lock"}, "Info": {"S.$": "States.JsonToString($.info)"}},
        "ConditionExpression": "attribute_not_exists(LockID)",
    }
    caught = [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.error", "Next": "Held"}]
    definition = _machine(
        ("Lock", _task("arn:aws:states:::dynamodb:putItem", put, ResultPath=None, Catch=caught, Next="Locked")),
        ("Locked", {"Type": "Succeed"}),
        ("Held", {"Type": "Fail", "Error": "ProbeLocked", "Cause": "the lock is held"}),
    )
    info = {"purpose": "rollout", "execution": "first"}

    first = _run(emulated, definition, {"info": info})
    second = _run(emulated, definition, {"info": {"purpose": "rollout", "execution": "second"}}, arn=first["machine"])

    assert first["status"] == "SUCCEEDED"
    item = client(emulated, "dynamodb", emulated.regions.primary).get_item(
        TableName=table, Key={"LockID": {"S": "probe-lock"}}
    )["Item"]
    assert json.loads(item["Info"]["S"]) == info  # the first writer's, untouched by the second
    assert (second["status"], second["error"], second["cause"]) == ("FAILED", "ProbeLocked", "the lock is held")
    history = client(emulated, "stepfunctions", emulated.regions.primary).get_execution_history(
        executionArn=second["executionArn"]
    )["events"]
    failures = [event["taskFailedEventDetails"]["error"] for event in history if event["type"] == "TaskFailed"]
    assert failures == ["DynamoDB.ConditionalCheckFailedException"]


def test_one_change_batch_upserts_both_weighted_alias_records(emulated: Settings) -> None:
    """(d) aws-sdk route53:changeResourceRecordSets, weights from the input, read back with boto3."""
    route53 = client(emulated, "route53", emulated.regions.primary)
    zone = "probe.example.internal"
    zone_id = route53.create_hosted_zone(Name=zone, CallerReference="sfn-probe")["HostedZone"]["Id"].split("/")[-1]
    legs = {"primary": f"origin-primary.{zone}", "secondary": f"origin-secondary.{zone}"}
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {"Action": "CREATE", "ResourceRecordSet": {"Name": leg, "Type": "A", "TTL": 60,
                                                           "ResourceRecords": [{"Value": "192.0.2.1"}]}}
                for leg in legs.values()
            ]
        },
    )  # fmt: skip
    changes = [
        {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": f"api.{zone}",
                "Type": "A",
                "SetIdentifier": role,
                "Weight.$": f"$.{role}",
                "AliasTarget": {"HostedZoneId": zone_id, "DNSName": leg, "EvaluateTargetHealth": True},
            },
        }
        for role, leg in legs.items()
    ]
    parameters = {"HostedZoneId": zone_id, "ChangeBatch": {"Changes": changes}}
    definition = _machine(
        ("Shift", _task(f"{SDK}:route53:changeResourceRecordSets", parameters,
                        ResultSelector={"status.$": "$.ChangeInfo.Status"}))
    )  # fmt: skip

    run = _run(emulated, definition, {"primary": 75, "secondary": 25})

    assert (run["status"], run["output"]) == ("SUCCEEDED", {"status": "INSYNC"})
    records = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    weighted = {r["SetIdentifier"]: r for r in records if r["Name"] == f"api.{zone}." and "SetIdentifier" in r}
    assert {role: r["Weight"] for role, r in weighted.items()} == {"primary": 75, "secondary": 25}
    for role, record in weighted.items():
        assert record["AliasTarget"]["DNSName"].rstrip(".") == legs[role]
        assert record["AliasTarget"]["EvaluateTargetHealth"] is True


def test_a_document_written_with_put_object_reads_back_with_get_object(emulated: Settings) -> None:
    """(e) gap `sfn-sdk-integration-shapes`: putObject of States.JsonToString, getObject + States.StringToJson, and
    the error a missing key fails with."""
    s3 = client(emulated, "s3", emulated.regions.primary)
    s3.create_bucket(Bucket="probe-state-home")
    where = {"Bucket": "probe-state-home", "Key": "dev/traffic/split.json"}
    missing = {"Bucket": "probe-state-home", "Key": "dev/traffic/none.json"}
    doc = {"primary": 50, "secondary": 50, "status": "in_progress", "history": [{"to": "secondary"}]}
    read = {"doc.$": "States.StringToJson($.Body)"}
    definition = _machine(
        ("Write", _task(f"{SDK}:s3:putObject", {**where, "Body.$": "States.JsonToString($.doc)"},
                        ResultPath=None, Next="Read")),
        ("Read", _task(f"{SDK}:s3:getObject", where, ResultSelector=read, ResultPath="$.read", Next="Missing")),
        ("Missing", _task(f"{SDK}:s3:getObject", missing, ResultSelector=read, ResultPath="$.missing",
                          Catch=[{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.missing", "Next": "Done"}],
                          Next="Done")),
        ("Done", {"Type": "Succeed"}),
    )  # fmt: skip

    run = _run(emulated, definition, {"doc": doc})

    assert run["status"] == "SUCCEEDED"
    assert json.loads(s3.get_object(**where)["Body"].read()) == doc
    assert run["output"]["read"] == {"doc": doc}
    assert run["output"]["missing"]["Error"] == "s3.NoSuchKeyException"  # AWS: S3.NoSuchKeyException


def test_intrinsic_functions_the_engine_computes_shares_and_messages_with(emulated: Settings) -> None:
    """(f) the other region's share: States.ArrayGetItem over a literal table (moto refuses a negative
    States.ArrayRange step); States.MathAdd; States.Format."""
    reverse = {"Type": "Pass", "Result": list(range(100, -1, -1)), "ResultPath": "$.table", "Next": "Compute"}
    compute = {
        "Type": "Pass",
        "Parameters": {
            "other.$": "States.ArrayGetItem($.table, $.s)",
            "same.$": "States.ArrayGetItem(States.ArrayRange(0, 100, 1), $.s)",
            "next.$": "States.MathAdd($.s, 25)",
            "back.$": "States.MathAdd($.s, -10)",
            "text.$": "States.Format('shifting {}% to {}', $.s, $.to)",
        },
        "End": True,
    }
    descending = "States.ArrayGetItem(States.ArrayRange(100, 0, -1), $.s)"
    negative_step = {"Type": "Pass", "Parameters": {"other.$": descending}, "End": True}

    run = _run(emulated, _machine(("Table", reverse), ("Compute", compute)), {"s": 25, "to": "secondary"})
    refused = _run(emulated, _machine(("Compute", negative_step)), {"s": 25})

    assert run["status"] == "SUCCEEDED"
    assert run["output"] == {"other": 75, "same": 25, "next": 50, "back": 15, "text": "shifting 25% to secondary"}
    assert (refused["status"], refused["error"]) == ("FAILED", "States.Runtime")
    assert "non negative" in refused["cause"]


def test_sns_publish_reaches_a_subscriber(emulated: Settings) -> None:
    """(g) the optimized sns:publish integration."""
    primary = emulated.regions.primary
    topic = client(emulated, "sns", primary).create_topic(Name="probe-rollout")["TopicArn"]
    sqs = client(emulated, "sqs", primary)
    queue = sqs.create_queue(QueueName="probe-rollout")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client(emulated, "sns", primary).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    publish = {"TopicArn": topic, "Subject": "rollout", "Message.$": "States.Format('step {}%', $.s)"}
    definition = _machine(
        ("Notify", _task("arn:aws:states:::sns:publish", publish, ResultSelector={"id.$": "$.MessageId"}))
    )

    run = _run(emulated, definition, {"s": 50})

    assert run["status"] == "SUCCEEDED"
    [message] = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]
    assert json.loads(message["Body"])["Message"] == "step 50%"
    assert json.loads(message["Body"])["MessageId"] == run["output"]["id"]


def test_a_cluster_snapshot_is_taken_with_the_integrations_own_casing(emulated: Settings) -> None:
    """(h) gap `sfn-sdk-integration-shapes`: aws-sdk rds calls as written for AWS (`DbClusterIdentifier`, result
    `DbClusters` / `DbClusterSnapshot`); a path through an index comes back as a one-element list."""
    rds = client(emulated, "rds", emulated.regions.primary)
    rds.create_db_cluster(
        DBClusterIdentifier="probe-writer", Engine="aurora-postgresql", MasterUsername="probe",
        MasterUserPassword="probe-password-1",
    )  # fmt: skip
    cluster = {"DbClusterIdentifier": "probe-writer"}
    definition = _machine(
        ("Describe", _task(f"{SDK}:rds:describeDBClusters", cluster, ResultPath="$.described", Next="Status",
                           ResultSelector={"cluster.$": "$.DbClusters[0]", "through.$": "$.DbClusters[0].Status"})),
        ("Status", {"Type": "Pass", "Parameters": {"status.$": "$.described.cluster.Status",
                                                   "through.$": "$.described.through"}, "Next": "Snapshot"}),
        ("Snapshot", _task(f"{SDK}:rds:createDBClusterSnapshot",
                           {**cluster, "DbClusterSnapshotIdentifier.$": "$$.Execution.Name"}, ResultPath="$.snapshot",
                           ResultSelector={"id.$": "$.DbClusterSnapshot.DbClusterSnapshotIdentifier",
                                           "status.$": "$.DbClusterSnapshot.Status"})),
    )  # fmt: skip

    run = _run(emulated, definition, {})

    assert run["status"] == "SUCCEEDED"
    name = run["name"]
    assert run["output"]["status"] == "available"
    assert run["output"]["through"] == ["available"]  # the emulator's quirk; AWS gives "available"
    assert run["output"]["snapshot"] == {"id": name, "status": "available"}
    snapshots = rds.describe_db_cluster_snapshots(DBClusterIdentifier="probe-writer")["DBClusterSnapshots"]
    assert name in {snapshot["DBClusterSnapshotIdentifier"] for snapshot in snapshots}


def test_a_filter_that_matches_nothing_fails_the_state_in_the_emulator(emulated: Settings) -> None:
    """The emulator's JSONPath: a filter with no match is a States.Runtime failure, a wildcard gives [] (the
    engine's local alarm read must not filter an empty list)."""
    _alarm(emulated, emulated.regions.primary, "q-quiet")
    read = {"AlarmNames": ["q-quiet"]}
    filtered = _machine(("Read", _task(f"{SDK}:cloudwatch:describeAlarms", read, ResultSelector=FIRING)))
    wildcard = _machine(
        ("Read", _task(f"{SDK}:cloudwatch:describeAlarms", read,
                       ResultSelector={"states.$": "$.MetricAlarms[*].StateValue", "none.$": "$.CompositeAlarms[*]"},
                       Next="Any")),
        ("Any", {"Type": "Pass", "Parameters": {"firing.$": "States.ArrayContains($.states, 'ALARM')",
                                                "none.$": "$.none"}, "End": True}),
    )  # fmt: skip

    failed = _run(emulated, filtered, {})
    worked = _run(emulated, wildcard, {})

    assert (failed["status"], failed["error"]) == ("FAILED", "States.Runtime")
    assert "could not be found" in failed["cause"]
    assert (worked["status"], worked["output"]) == ("SUCCEEDED", {"firing": False, "none": []})


ISO_MILLISECONDS_UTC = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"


def test_timestamps_reach_the_output_as_iso_text(emulated: Settings) -> None:
    """Gaps `sfn-context-times` and `sfn-sdk-integration-shapes`: the execution's start time, the state's entered
    time and an SDK result's timestamps are ISO 8601 text as AWS writes them, so an output holding them is described
    (moto: HTTP 500)."""
    _alarm(emulated, emulated.regions.primary, "t-quiet")
    definition = _machine(
        ("Read", _task(f"{SDK}:cloudwatch:describeAlarms", {"AlarmNames": ["t-quiet"]}, Next="Keep",
                       ResultSelector={"alarm.$": "$.MetricAlarms[0]"})),
        ("Keep", {"Type": "Pass", "End": True, "Parameters": {
            "started.$": "$$.Execution.StartTime", "entered.$": "$$.State.EnteredTime",
            "updated.$": "$.alarm.StateUpdatedTimestamp",
            "since.$": "States.Format('since {}', $$.Execution.StartTime)",
        }}),
    )  # fmt: skip

    run = _run(emulated, definition, {})

    assert run["status"] == "SUCCEEDED"
    output = run["output"]
    assert re.match(ISO_MILLISECONDS_UTC, output["started"]), output
    assert re.match(ISO_MILLISECONDS_UTC, output["updated"]), output
    assert output["since"] == f"since {output['started']}"
    started = datetime.fromisoformat(output["started"])
    assert started == run["startDate"].replace(microsecond=started.microsecond)
    assert re.match(ISO_MILLISECONDS_UTC, output["entered"]), output
    assert datetime.fromisoformat(output["entered"]) >= started


def test_a_stopped_execution_is_aborted_without_its_error_and_cause(emulated: Settings) -> None:
    """What `rollout-abort` can rely on in the emulator: StopExecution ends a waiting execution (ABORTED), but the
    error and cause it was given are not recorded."""
    sfn = client(emulated, "stepfunctions", emulated.regions.primary)
    definition = _machine(("Bake", {"Type": "Wait", "Seconds": 60, "End": True}))
    arn = sfn.create_state_machine(name="abortable", definition=json.dumps(definition), roleArn=ROLE_ARN)[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=arn, name="abortable-1")["executionArn"]
    deadline = time.monotonic() + EXECUTION_SECONDS
    while not sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)

    sfn.stop_execution(executionArn=execution, error="Aborted", cause="operator")

    described = sfn.describe_execution(executionArn=execution)
    assert described["status"] == "ABORTED"
    assert ("error" in described, "cause" in described) == (False, False)
    history = [event["type"] for event in sfn.get_execution_history(executionArn=execution)["events"]]
    assert history[0] == "ExecutionStarted"
    assert history[-1] == "ExecutionAborted"


def _local_alarm_read(region: str) -> list[tuple[str, dict[str, Any]]]:
    """The local variant of the engine's alarm read (gap `sfn-cross-region-sdk`), ending in `{found, firing}` under
    `$.alarms` without filtering an empty list: count and states with wildcards, filter only when something fires."""
    read = {"AlarmNames.$": "$.names", "AlarmTypes": ["CompositeAlarm", "MetricAlarm"]}
    counted = {
        "found.$": "States.MathAdd(States.ArrayLength($.MetricAlarms), States.ArrayLength($.CompositeAlarms))",
        "states.$": "$.MetricAlarms[*].StateValue",
        "alarms.$": "$.MetricAlarms",
    }
    return [
        ("Read", _task(f"arn:aws:states:{region}::aws-sdk:cloudwatch:describeAlarms", read, ResultSelector=counted,
                       ResultPath="$.read", Next="Fires?")),
        ("Fires?", {"Type": "Pass", "Parameters": {"any.$": "States.ArrayContains($.read.states, 'ALARM')"},
                    "ResultPath": "$.fires", "Next": "Which?"}),
        ("Which?", {"Type": "Choice", "Choices": [{"Variable": "$.fires.any", "BooleanEquals": True, "Next": "Firing"}],
                    "Default": "Quiet"}),
        ("Firing", {"Type": "Pass", "ResultPath": "$.alarms", "End": True, "Parameters": {
            "found.$": "$.read.found", "firing.$": "$.read.alarms[?(@.StateValue == 'ALARM')].AlarmName"}}),
        ("Quiet", {"Type": "Pass", "ResultPath": "$.alarms", "End": True,
                   "Parameters": {"found.$": "$.read.found", "firing": []}}),
    ]  # fmt: skip


def test_the_local_alarm_read_answers_found_and_firing_whether_or_not_an_alarm_fires(emulated: Settings) -> None:
    secondary = emulated.regions.secondary
    _alarm(emulated, secondary, "l-quiet")
    _alarm(emulated, secondary, "l-firing", firing=True)
    definition = _machine(*_local_alarm_read(secondary))

    quiet = _run(emulated, definition, {"names": ["l-quiet", "l-missing"]})
    firing = _run(emulated, definition, {"names": ["l-quiet", "l-firing"]}, arn=quiet["machine"])

    assert (quiet["status"], quiet["output"]["alarms"]) == ("SUCCEEDED", {"found": 1, "firing": []})
    assert (firing["status"], firing["output"]["alarms"]) == ("SUCCEEDED", {"found": 2, "firing": ["l-firing"]})
