"""AWS rules for the rollout engine (dns-primary): the state machine, its logs, its role and its definition."""

from __future__ import annotations

import json
from typing import Any

from tests.support import Synth
from tests.unit.aws_rules.support import each

MACHINE = "aws_sfn_state_machine"


def _machine(aws: Synth) -> tuple[str, dict[str, Any]]:
    [(stack, _, machine)] = each(aws, MACHINE)
    return stack, machine


def _definition(aws: Synth) -> dict[str, Any]:
    return dict(json.loads(_machine(aws)[1]["definition"]))


def _all_states(states: dict[str, Any]) -> dict[str, Any]:
    found = dict(states)
    for state in states.values():
        for branch in state.get("Branches", []):
            found.update(_all_states(branch["States"]))
    return found


def _policy(aws: Synth) -> dict[str, Any]:
    [(_, _, policy)] = each(aws, "aws_iam_role_policy", where=lambda p: "rollout-engine" in str(p.get("name")))
    return dict(json.loads(policy["policy"]))


def _statement(aws: Synth, sid: str) -> dict[str, Any]:
    [found] = [s for s in _policy(aws)["Statement"] if s.get("Sid") == sid]
    return dict(found)


def test_one_standard_state_machine_lives_in_dns_primary(aws: Synth) -> None:
    """Express workflows run at most five minutes; a rollout bakes for longer, so it is a Standard workflow.
    https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html"""
    stack, machine = _machine(aws)
    assert stack == "dns-primary"
    assert machine["type"] == "STANDARD"


def test_executions_are_logged_to_an_encrypted_vended_log_group(aws: Synth) -> None:
    """Step Functions logs to a log group named by its ARN with `:*` appended; `/aws/vendedlogs/` names keep the
    logs resource policy under its size limit; execution data (weights, alarm names; no secrets) is logged too.
    https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html"""
    stack, machine = _machine(aws)
    logging = machine["logging_configuration"]
    assert logging["level"] == "ALL"
    assert logging["include_execution_data"] is True
    [(key, group)] = [
        (k, g) for k, g in aws.resources(stack, "aws_cloudwatch_log_group").items() if "vendedlogs/states" in g["name"]
    ]
    assert group["name"].startswith("/aws/vendedlogs/states/")
    assert logging["log_destination"] == f"${{aws_cloudwatch_log_group.{key}.arn}}:*"
    assert group["kms_key_id"], "execution logs are encrypted with the region key"
    assert group["retention_in_days"] > 0
    tracing = machine["tracing_configuration"]
    assert tracing["enabled"] is True


def test_the_role_trusts_step_functions_for_this_state_machine_only(aws: Synth) -> None:
    """The confused-deputy guard for Step Functions roles: `aws:SourceAccount` and `aws:SourceArn` naming the state
    machine. https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html"""
    [(_, _, role)] = each(aws, "aws_iam_role", where=lambda r: "states.amazonaws.com" in r["assume_role_policy"])
    [statement] = json.loads(role["assume_role_policy"])["Statement"]
    assert statement["Principal"] == {"Service": "states.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"]
    assert ":stateMachine:" in statement["Condition"]["ArnLike"]["aws:SourceArn"]


def test_log_delivery_actions_are_granted_on_every_resource_as_the_service_requires(aws: Synth) -> None:
    """The CloudWatch Logs delivery actions Step Functions needs do not support resource-level permissions.
    https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html"""
    statement = _statement(aws, "ExecutionLogDelivery")
    assert statement["Resource"] == ["*"]
    assert {"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:PutResourcePolicy"} <= set(statement["Action"])


def test_route53_changes_are_limited_to_upserts_of_the_entry_records(aws: Synth) -> None:
    """Route 53 condition keys restrict ChangeResourceRecordSets by normalized record name, type and action.
    https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/specifying-rrset-conditions.html"""
    statement = _statement(aws, "EntryWeightsOnly")
    assert statement["Action"] == ["route53:ChangeResourceRecordSets"]
    [zone] = statement["Resource"]
    assert ":route53:::hostedzone/" in zone
    conditions = statement["Condition"]["ForAllValues:StringEquals"]
    [name] = conditions["route53:ChangeResourceRecordSetsNormalizedRecordNames"]
    assert name.startswith("api.")
    assert name == name.lower()
    assert conditions["route53:ChangeResourceRecordSetsRecordTypes"] == ["A"]
    assert conditions["route53:ChangeResourceRecordSetsActions"] == ["UPSERT"]


def test_the_lock_grant_reaches_the_traffic_lock_item_only(aws: Synth) -> None:
    """`dynamodb:LeadingKeys` limits item access to the given partition key values.
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html"""
    statement = _statement(aws, "TrafficLockItemOnly")
    assert set(statement["Action"]) == {"dynamodb:PutItem", "dynamodb:DeleteItem"}
    [key] = statement["Condition"]["ForAllValues:StringEquals"]["dynamodb:LeadingKeys"]
    assert key.endswith("/traffic/lock")


def test_aws_sdk_tasks_call_their_own_region_and_the_other_region_goes_through_the_function(aws: Synth) -> None:
    """AWS SDK service integrations call the state machine's own Region; another Region needs a function (the CDK's
    CallAwsServiceCrossRegion exists for this reason).
    https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html"""
    states = _all_states(_definition(aws)["States"])
    sdk = [s["Resource"] for s in states.values() if s.get("Type") == "Task" and ":aws-sdk:" in s["Resource"]]
    assert len(sdk) >= 6
    assert all(r.startswith("arn:aws:states:::aws-sdk:") for r in sdk), "no region in an aws-sdk resource"
    invokes = [s for s in states.values() if s.get("Resource") == "arn:aws:states:::lambda:invoke"]
    assert len(invokes) >= 2, "the secondary's alarms are read through the region-alarms function"
    [function_statement] = [s for s in _policy(aws)["Statement"] if s.get("Sid") == "OtherRegionAlarms"]
    assert function_statement["Action"] == ["lambda:InvokeFunction"]
    assert {i["Parameters"]["FunctionName"] for i in invokes} == set(function_statement["Resource"])


def test_every_task_has_a_way_out_and_every_transition_names_a_state(aws: Synth) -> None:
    """A task's failure without a Catch fails the execution where it stands; here every task says where to go, so a
    failure after the first step reverts (ASL: Catch, Next, Default).
    https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html"""
    definition = _definition(aws)
    states = definition["States"]
    assert definition["StartAt"] in states
    tasks = {name: s for name, s in states.items() if s["Type"] == "Task"}
    assert len(tasks) >= 15
    for name, task in tasks.items():
        assert task.get("Catch"), name
    targets = [
        target
        for s in states.values()
        for target in [s.get("Next"), s.get("Default"), *(c["Next"] for c in s.get("Catch", []))]
        + [c["Next"] for c in s.get("Choices", [])]
        if target
    ]
    assert targets
    assert all(t in states for t in targets)
    assert {s["Type"] for s in states.values()} >= {"Task", "Choice", "Wait", "Pass", "Fail"}


def test_the_snapshot_before_the_first_step_stays_within_rds_identifier_rules(aws: Synth) -> None:
    """DB cluster snapshot identifiers: 1 to 63 letters, digits or hyphens, starting with a letter, no two
    consecutive hyphens, not ending with one.
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBClusterSnapshot.html"""
    snapshot = _definition(aws)["States"]["Snapshot"]
    cluster = snapshot["Parameters"]["DbClusterIdentifier"]
    longest = f"{cluster}-rollout-20261231T235959"
    assert len(longest) <= 63
    assert longest[0].isalpha()
    assert "--" not in longest
    statement = _statement(aws, "SnapshotBeforeFirstStep")
    assert any(r.endswith(f"cluster-snapshot:{cluster}-rollout-*") for r in statement["Resource"])


def test_alarms_are_described_on_every_resource_of_the_engines_own_region(aws: Synth) -> None:
    """ "To return information about composite alarms, you must be signed on with the cloudwatch:DescribeAlarms
    permission that is scoped to *"; the grant is held to the state machine's region by aws:RequestedRegion (on AWS
    the other region is read by the region-alarms function).
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html"""
    statement = _statement(aws, "WatchedAlarms")
    assert statement["Action"] == ["cloudwatch:DescribeAlarms"]
    assert statement["Resource"] == ["*"]
    stack, _ = _machine(aws)
    [provider] = [p for p in aws[stack]["provider"]["aws"] if "alias" not in p]
    assert statement["Condition"]["StringEquals"]["aws:RequestedRegion"] == [provider["region"]]


def test_the_key_looked_up_by_alias_is_the_primary_region_key(aws: Synth) -> None:
    """CloudWatch Logs takes the key's ARN (not an alias) for a log group's `kms_key_id`; the engine looks the region
    key up by the alias the data stack gives it, so dns-primary needs no reference to data-primary.
    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_AssociateKmsKey.html"""
    stack, machine = _machine(aws)
    aliases = aws[stack]["data"]["aws_kms_alias"]
    assert len(aliases) == 1
    [(key, alias)] = aliases.items()
    [(_, _, region_alias)] = each(aws, "aws_kms_alias", where=lambda a: str(a["name"]).endswith("-primary-data"))
    assert alias["name"] == region_alias["name"]
    groups = [g for g in aws.resources(stack, "aws_cloudwatch_log_group").values() if "vendedlogs" in g["name"]]
    assert [g["kms_key_id"] for g in groups] == [f"${{data.aws_kms_alias.{key}.target_key_arn}}"]
    assert machine["role_arn"]
