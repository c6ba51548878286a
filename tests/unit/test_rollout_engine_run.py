"""The rollout state machine's definition, executed by the emulator's Step Functions (in-process, moto).

Every AWS call the definition makes runs against moto's backends: Route 53 weights, the persisted split in S3,
the traffic lock item in DynamoDB, alarms in two regions (the secondary's through a region-qualified aws-sdk
resource, as the local target synthesizes it), an RDS snapshot, SNS notifications and the write-home parameter.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.config import default_user_config

from ops.local.emulator_server import step_functions_as_on_aws
from ops.state.traffic_split import TrafficState
from ops.traffic.sfn_rollout import Progress
from shared import rollout_engine as contract
from stacks.dns.rollout.definition import EngineFacts, RegionAlarms, definition
from tests.support import put_alarm

PRIMARY, SECONDARY = "us-east-1", "us-west-2"
ZONE = "payments.test"
ENTRY = f"api.{ZONE}"
LEGS = {"primary": f"primary.api.{ZONE}", "secondary": f"secondary.api.{ZONE}"}
BUCKET, KEY, TABLE = "state-bucket", "dev/traffic/split.json", "locks"
LOCK_ID = f"{BUCKET}/dev/traffic/lock"
CLUSTER, PARAMETER = "payments-ledger", "/payments/dev/primary/write-home"
ALARMS = {"primary": ("p-region-unhealthy",), "secondary": ("s-region-unhealthy", "s-replication-lag")}


@dataclass
class World:
    facts: EngineFacts
    zone_id: str
    topic_arn: str

    def client(self, service: str, region: str = PRIMARY) -> Any:
        return boto3.client(service, region_name=region)

    def weights(self) -> dict[str, int]:
        records = self.client("route53").list_resource_record_sets(HostedZoneId=self.zone_id)["ResourceRecordSets"]
        return {r["SetIdentifier"]: int(r["Weight"]) for r in records if r["Name"].rstrip(".") == ENTRY}

    def split(self) -> dict[str, Any]:
        body = self.client("s3").get_object(Bucket=BUCKET, Key=KEY)["Body"].read()
        return dict(json.loads(body))

    def set_alarm(self, role: str, name: str, state: str) -> None:
        region = PRIMARY if role == "primary" else SECONDARY
        self.client("cloudwatch", region).set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")

    def run(self, payload: dict[str, Any], *, during: Any = None, timeout: float = 60) -> dict[str, Any]:
        sfn = self.client("stepfunctions")
        machine = sfn.create_state_machine(
            name=f"rollout-{time.monotonic_ns()}",
            definition=json.dumps(definition(self.facts)),
            roleArn="arn:aws:iam::123456789012:role/rollout",
        )["stateMachineArn"]
        execution = sfn.start_execution(
            stateMachineArn=machine,
            name=contract.execution_name(payload["to"], str(time.monotonic_ns())),
            input=json.dumps(payload),
        )["executionArn"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            described = sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                return dict(described)
            if during is not None:
                during(described)
            time.sleep(0.2)
        raise AssertionError("the execution did not finish")


@pytest.fixture
def world() -> Iterator[World]:
    step_functions_as_on_aws()  # in this process, as the emulator launcher does in its own
    try:
        with mock_aws():
            yield _build_world()
    finally:
        default_user_config["stepfunctions"] = {"execute_state_machine": False}


def _build_world() -> World:
    route53 = boto3.client("route53", region_name=PRIMARY)
    zone_id = route53.create_hosted_zone(Name=ZONE, CallerReference="z")["HostedZone"]["Id"].split("/")[-1]
    changes = [
        {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": ENTRY,
                "Type": "A",
                "SetIdentifier": role,
                "Weight": weight,
                "AliasTarget": {"HostedZoneId": zone_id, "DNSName": LEGS[role], "EvaluateTargetHealth": True},
            },
        }
        for role, weight in (("primary", 100), ("secondary", 0))
    ]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    boto3.client("s3", region_name=PRIMARY).create_bucket(Bucket=BUCKET)
    boto3.client("dynamodb", region_name=PRIMARY).create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for role, names in ALARMS.items():
        client = boto3.client("cloudwatch", region_name=PRIMARY if role == "primary" else SECONDARY)
        for name in names:
            put_alarm(client, name)
    boto3.client("rds", region_name=PRIMARY).create_db_cluster(
        DBClusterIdentifier=CLUSTER, Engine="aurora-postgresql", MasterUsername="ledger", MasterUserPassword="x" * 16
    )
    boto3.client("ssm", region_name=PRIMARY).put_parameter(Name=PARAMETER, Value="primary", Type="String")
    topic_arn = boto3.client("sns", region_name=PRIMARY).create_topic(Name="alarms")["TopicArn"]
    facts = EngineFacts(
        lock_table=TABLE,
        lock_id=LOCK_ID,
        state_bucket=BUCKET,
        split_key=KEY,
        default_weights={"primary": 100, "secondary": 0},
        zone_id=zone_id,
        entry_name=ENTRY,
        leg_names=LEGS,
        cluster_identifier=CLUSTER,
        write_home_parameter=PARAMETER,
        topic_arn=topic_arn,
        watched=(
            RegionAlarms("primary", PRIMARY, tuple((n, "MetricAlarm") for n in ALARMS["primary"])),
            RegionAlarms(
                "secondary", SECONDARY, tuple((n, "MetricAlarm") for n in ALARMS["secondary"]), sdk_region=SECONDARY
            ),
        ),
        poll_seconds=1,
    )
    return World(facts, zone_id, topic_arn)


def test_a_rollout_moves_the_weights_step_by_step_and_persists_the_split(world: World) -> None:
    done = world.run({"to": "secondary", "steps": [50, 100], "bake_seconds": 1, "reason": "rollout"})
    assert done["status"] == "SUCCEEDED", (done.get("error"), done.get("cause"))
    assert json.loads(done["output"]) == {"to": "secondary", "weights": {"primary": 0, "secondary": 100}}
    assert world.weights() == {"primary": 0, "secondary": 100}
    split = world.split()
    assert split["weights"] == {"primary": 0, "secondary": 100}
    assert split["status"] == "stable"
    assert split["rollout"] is None
    assert split["engine_run"]["result"] == "ok"
    assert split["engine_run"]["from"] == {"primary": 100, "secondary": 0}
    lock = world.client("dynamodb").get_item(TableName=TABLE, Key={"LockID": {"S": LOCK_ID}})
    assert "Item" not in lock, "the lock is released at the end"
    snapshots = world.client("rds").describe_db_cluster_snapshots(DBClusterIdentifier=CLUSTER, SnapshotType="manual")[
        "DBClusterSnapshots"
    ]
    assert len(snapshots) == 1
    assert snapshots[0]["DBClusterSnapshotIdentifier"].startswith(f"{CLUSTER}-rollout-")


def test_steps_at_or_below_the_current_share_are_skipped_and_the_way_back_returns(world: World) -> None:
    assert (
        world.run({"to": "secondary", "steps": [100], "bake_seconds": 0, "reason": "rollout"})["status"] == "SUCCEEDED"
    )
    back = world.run({"to": "primary", "steps": [100], "bake_seconds": 0, "reason": "rollout"})
    assert back["status"] == "SUCCEEDED", (back.get("error"), back.get("cause"))
    assert world.weights() == {"primary": 100, "secondary": 0}
    assert world.split()["weights"] == {"primary": 100, "secondary": 0}


def test_an_alarm_during_a_bake_reverts_to_the_last_good_split_and_fails_naming_it(world: World) -> None:
    def fire_once_half_shifted(_: dict[str, Any]) -> None:
        if world.weights() == {"primary": 50, "secondary": 50}:
            world.set_alarm("secondary", "s-replication-lag", "ALARM")

    done = world.run(
        {"to": "secondary", "steps": [50, 100], "bake_seconds": 4, "reason": "rollout"}, during=fire_once_half_shifted
    )
    assert done["status"] == "FAILED", done
    assert done["error"] == contract.ALARM_FIRED
    assert "s-replication-lag" in done["cause"]
    assert SECONDARY in done["cause"]
    assert world.weights() == {"primary": 100, "secondary": 0}
    split = world.split()
    assert split["status"] == "reverted"
    assert split["weights"] == {"primary": 100, "secondary": 0}
    assert split["engine_run"]["result"] == "reverted"
    assert "s-replication-lag" in split["engine_run"]["cause"]
    assert "Item" not in world.client("dynamodb").get_item(TableName=TABLE, Key={"LockID": {"S": LOCK_ID}})


def test_a_held_lock_refuses_the_start(world: World) -> None:
    world.client("dynamodb").put_item(
        TableName=TABLE, Item={"LockID": {"S": LOCK_ID}, "Info": {"S": json.dumps({"purpose": "failover"})}}
    )
    done = world.run({"to": "secondary", "steps": [100], "bake_seconds": 0, "reason": "rollout"})
    assert done["status"] == "FAILED"
    assert done["error"] == contract.TRAFFIC_LOCKED
    assert world.weights() == {"primary": 100, "secondary": 0}


def test_an_alarm_before_the_start_fails_the_prechecks_and_changes_nothing(world: World) -> None:
    world.set_alarm("primary", "p-region-unhealthy", "ALARM")
    done = world.run({"to": "secondary", "steps": [100], "bake_seconds": 0, "reason": "rollout"})
    assert done["status"] == "FAILED"
    assert done["error"] == contract.PRECHECK_FAILED
    assert "p-region-unhealthy" in done["cause"]
    assert world.weights() == {"primary": 100, "secondary": 0}


def test_bad_input_fails_with_the_input_shape(world: World) -> None:
    done = world.run({"to": "elsewhere", "steps": [100], "bake_seconds": 0, "reason": "rollout"})
    assert done["status"] == "FAILED"
    assert done["error"] == contract.BAD_INPUT


def _history(world: World, execution: str) -> list[dict[str, Any]]:
    return list(world.client("stepfunctions").get_execution_history(executionArn=execution)["events"])


def test_the_cli_step_table_is_rebuilt_from_the_execution_history(world: World) -> None:
    done = world.run({"to": "secondary", "steps": [50, 100], "bake_seconds": 1, "reason": "rollout"})
    progress = Progress()
    lines = progress.read(_history(world, done["executionArn"]))
    assert [(r.step, str(r.source), str(r.target), r.result) for r in progress.rows] == [
        ("1", "100/0", "50/50", "ok"),
        ("2", "50/50", "0/100", "ok"),
    ]
    assert all(r.bake_seconds is not None and r.bake_seconds >= 1 for r in progress.rows)
    assert lines[0] == "[step 1] 100/0 -> 50/50 (primary/secondary)"
    assert progress.read(_history(world, done["executionArn"])) == [], "lines already said are not said again"


def test_the_step_table_of_a_reverted_run_names_the_alarm(world: World) -> None:
    def fire(_: dict[str, Any]) -> None:
        if world.weights() == {"primary": 50, "secondary": 50}:
            world.set_alarm("primary", "p-region-unhealthy", "ALARM")

    done = world.run({"to": "secondary", "steps": [50, 100], "bake_seconds": 4, "reason": "rollout"}, during=fire)
    progress = Progress()
    progress.read(_history(world, done["executionArn"]))
    step, revert = progress.rows
    assert step.result.startswith("FAILED: alarm p-region-unhealthy")
    assert (revert.step, str(revert.source), str(revert.target), revert.result) == (
        "revert",
        "50/50",
        "100/0",
        "reverted",
    )


def test_the_split_folds_the_recorded_run_into_its_history_once(world: World) -> None:
    world.run({"to": "secondary", "steps": [100], "bake_seconds": 0, "reason": "rollout"})
    state = TrafficState.from_json(world.split())
    runs = [entry for entry in state.history if entry.get("engine") == "stepfunctions"]
    assert len(runs) == 1
    assert runs[0]["result"] == "ok"
    assert runs[0]["to"] == {"primary": 0, "secondary": 100}
    again = TrafficState.from_json({**state.to_json(), "engine_run": world.split()["engine_run"]})
    assert len([e for e in again.history if e.get("engine") == "stepfunctions"]) == 1
