"""The rollout engine: a Step Functions state machine that shifts traffic server-side, its role and its logs.

It lives in dns-primary, the stack that owns the zone and the entry name `api.<zone>`; everything it changes or
reads is in the primary region (the state bucket's split, the lock table, the writer cluster, the write-home
parameter, the alarm topic), except the secondary region's alarms, which it names (`shared.alarm_names`,
`Naming.for_role`) rather than references: no edge to a secondary stack, so the stack graph stays acyclic.

The role may do exactly what the definition does (`definition.py`): its lock item, the split object, UPSERTs of
the two weighted A records of the entry name, the named alarms, a snapshot of the primary's cluster named after
the execution, the write-home parameter, the topic, and, on AWS, the `region-alarms` function that reads the
other region's alarms (Step Functions' SDK integrations call only their own region).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.sfn_state_machine import (
    SfnStateMachine,
    SfnStateMachineLoggingConfiguration,
    SfnStateMachineTracingConfiguration,
)
from constructs import Construct

from shared import checkov, iam
from stacks.compute.payments_api import LOG_RETENTION_REASON
from stacks.dns.rollout.definition import EngineFacts, definition

# What Step Functions needs to deliver execution logs (vended logs: these actions take no resource ARN).
LOG_DELIVERY_ACTIONS: tuple[str, ...] = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)
TRACING_ACTIONS: tuple[str, ...] = (
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
)
KEY_USE_ACTIONS: tuple[str, ...] = ("kms:GenerateDataKey", "kms:Decrypt")


@dataclass(frozen=True)
class EngineAccess:
    """ARNs and names the role is scoped to (the definition's facts say what it calls, these say on what)."""

    partition: str
    account_id: str
    region: str  # the state machine's (the primary's)
    state_region: str  # the state bucket's and lock table's
    region_key_arn: str  # encrypts the log group and the alarm topic
    cluster_arn: str
    alarm_regions: Sequence[str]  # where the definition's aws-sdk tasks describe alarms
    log_retention_days: int


class RolloutEngine(Construct):
    """Exposes `state_machine` (`arn`, `name`) and `log_group`."""

    def __init__(
        self, scope: Construct, construct_id: str, *, name: str, facts: EngineFacts, access: EngineAccess
    ) -> None:
        super().__init__(scope, construct_id)
        self.facts, self.access = facts, access
        arn = f"arn:{access.partition}:states:{access.region}:{access.account_id}:stateMachine:{name}"
        self.log_group = CloudwatchLogGroup(
            self,
            "logs",
            name=f"/aws/vendedlogs/states/{name}",
            retention_in_days=access.log_retention_days,
            kms_key_id=access.region_key_arn,
        )
        checkov.skip(self.log_group, "CKV_AWS_338", LOG_RETENTION_REASON)
        role = IamRole(
            self,
            "role",
            name=name,
            assume_role_policy=iam.assume_role_policy(
                "states.amazonaws.com", source_account=access.account_id, source_arn=arn
            ),
        )
        IamRolePolicy(self, "policy", name="rollout-engine", role=role.id, policy=self._policy())
        self.state_machine = SfnStateMachine(
            self,
            "machine",
            name=name,
            role_arn=role.arn,
            type="STANDARD",
            definition=json.dumps(definition(facts), indent=2),
            logging_configuration=SfnStateMachineLoggingConfiguration(
                log_destination=f"{self.log_group.arn}:*",
                level="ALL",
                include_execution_data=True,  # weights, alarm names, the lock holder: no secrets, no payment data
            ),
            tracing_configuration=SfnStateMachineTracingConfiguration(enabled=True),
            depends_on=[self.log_group],
        )

    def _policy(self) -> str:
        f, a = self.facts, self.access
        arn = f"arn:{a.partition}"
        lock_table = f"{arn}:dynamodb:{a.state_region}:{a.account_id}:table/{f.lock_table}"
        bucket = f"{arn}:s3:::{f.state_bucket}"
        snapshot = f"{arn}:rds:{a.region}:{a.account_id}:cluster-snapshot:{f.cluster_identifier}-rollout-*"
        statements = [
            iam.allow(
                ["dynamodb:PutItem", "dynamodb:DeleteItem"],
                [lock_table],
                sid="TrafficLockItemOnly",
                conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [f.lock_id]}},
            ),
            iam.allow(["s3:GetObject", "s3:PutObject"], [f"{bucket}/{f.split_key}"], sid="PersistedSplitOnly"),
            iam.allow(
                list(KEY_USE_ACTIONS),
                [f"{arn}:kms:{a.state_region}:{a.account_id}:key/*"],
                sid="StateBucketKeyThroughS3",
                conditions={
                    "StringEquals": {"kms:ViaService": f"s3.{a.state_region}.amazonaws.com"},
                    "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket, f"{bucket}/{f.split_key}"]},
                },
            ),
            iam.allow(
                ["route53:ChangeResourceRecordSets"],
                [f"{arn}:route53:::hostedzone/{f.zone_id}"],
                sid="EntryWeightsOnly",
                conditions={
                    "ForAllValues:StringEquals": {
                        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [f.entry_name.lower()],
                        "route53:ChangeResourceRecordSetsRecordTypes": ["A"],
                        "route53:ChangeResourceRecordSetsActions": ["UPSERT"],
                    }
                },
            ),
            # Composite alarms are only described to a grant on "*" (DescribeAlarms' reference); held to the
            # regions the definition reads alarms in.
            iam.allow(
                ["cloudwatch:DescribeAlarms"],
                ["*"],
                sid="WatchedAlarms",
                conditions={"StringEquals": {"aws:RequestedRegion": sorted(a.alarm_regions)}},
            ),
            iam.allow(["rds:DescribeDBClusters"], [a.cluster_arn], sid="ClusterStatus"),
            iam.allow(["rds:CreateDBClusterSnapshot"], [a.cluster_arn, snapshot], sid="SnapshotBeforeFirstStep"),
            iam.allow(["rds:AddTagsToResource"], [snapshot], sid="TagTheSnapshot"),
            iam.allow(
                ["ssm:GetParameter"],
                [f"{arn}:ssm:{a.region}:{a.account_id}:parameter{f.write_home_parameter}"],
                sid="WriteHome",
            ),
            iam.allow(["sns:Publish"], [f.topic_arn], sid="Notify"),
            iam.allow(
                list(KEY_USE_ACTIONS),
                [a.region_key_arn],
                sid="EncryptedTopic",
                conditions={"StringEquals": {"kms:ViaService": f"sns.{a.region}.amazonaws.com"}},
            ),
            iam.allow(list(LOG_DELIVERY_ACTIONS), ["*"], sid="ExecutionLogDelivery"),
            iam.allow(list(TRACING_ACTIONS), ["*"], sid="Tracing"),
        ]
        functions = sorted({w.function_arn for w in f.watched if w.function_arn})
        if functions:
            statements.append(iam.allow(["lambda:InvokeFunction"], functions, sid="OtherRegionAlarms"))
        return iam.document(*statements)
