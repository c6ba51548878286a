"""VPC flow logs into a KMS-encrypted CloudWatch log group.

The network layer sits below the data layer (which owns the region's main
key), so flow logs get a small key of their own here.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from shared import checkov, iam
from shared.naming import Naming
from shared.service_role import ServiceRole


class EncryptedFlowLogs(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: Naming,
        vpc_id: str,
        retention_days: int,
        account_id: str,
        partition: str,
        deletion_window_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        region = naming.region
        log_group_name = naming.path("vpc-flow-logs")
        log_group_arn = f"arn:{partition}:logs:{region}:{account_id}:log-group:{log_group_name}"
        self.key = KmsKey(
            self,
            "key",
            description=f"{naming.name('network-logs')}: VPC flow log encryption",
            enable_key_rotation=True,
            deletion_window_in_days=deletion_window_days,
            policy=iam.document(
                iam.allow(
                    ["kms:*"],
                    ["*"],
                    sid="AccountAdministers",
                    principals={"AWS": f"arn:{partition}:iam::{account_id}:root"},
                ),
                iam.allow(
                    ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                    ["*"],
                    sid="CloudWatchLogsUsesKey",
                    principals={"Service": f"logs.{region}.amazonaws.com"},
                    conditions={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
                ),
            ),
        )
        KmsAlias(self, "alias", name=naming.alias("network-logs"), target_key_id=self.key.key_id)
        self.log_group = CloudwatchLogGroup(
            self, "group", name=log_group_name, retention_in_days=retention_days, kms_key_id=self.key.arn
        )
        checkov.skip(
            self.log_group,
            "CKV_AWS_338",
            "retention is network.flow_log_retention_days from config (prod keeps 365 days, dev 30)",
        )
        role = ServiceRole(
            self,
            service="vpc-flow-logs.amazonaws.com",
            name=naming.name("vpc-flow-logs"),
            policy_name="deliver-flow-logs",
            # The flow log's own ARN is aws:SourceArn; its id is unknown until it exists, hence the wildcard.
            source_arn=f"arn:{partition}:ec2:{region}:{account_id}:vpc-flow-log/*",
            statements=[
                iam.allow(
                    ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    [self.log_group.arn, f"{self.log_group.arn}:*"],
                )
            ],
        ).role
        self.flow_log = FlowLog(
            self,
            "flow-log",
            vpc_id=vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags={"Name": naming.name("vpc-flow-logs")},
        )
