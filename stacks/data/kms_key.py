"""The region's customer-managed key: everything stateful in the region is encrypted with it.

The key policy names who may use the key and nobody else:
- the account administers the key (through IAM) with an explicit list of management actions: no wildcard,
  so no `kms:CreateGrant` (a grant can give its grantee Decrypt) and no data-plane use outside AWS services;
- principals of the account use it only through the AWS services that hold payment data, secrets,
  parameters, events or messages (`kms:ViaService`), and only when IAM also allows them; they create grants
  only for those services' own resources (`kms:GrantIsForAWSResource`);
- CloudWatch Logs encrypts this account's log groups in this region with it;
- CloudWatch alarms publish into topics encrypted with it (`aws:SourceAccount`, which their calls carry);
- EventBridge delivers into the queues encrypted with it (`payment-events`): its KMS calls, made through SQS,
  carry no `aws:SourceAccount` or `aws:SourceArn`, so the service principal is the only condition (as the
  SQS key-management guide shows); a condition it cannot satisfy would drop every event silently;
- the S3 replication role, named explicitly (by `aws:PrincipalArn`, so the policy is valid before the
  role exists: the secondary data stack creates it after the primary key), only through S3 in this region and
  only for this region's audit bucket (`kms:EncryptionContext:aws:s3:arn`): replication runs both ways, so the
  role decrypts what it replicates out of the bucket and encrypts what it replicates into it, both with this key;
- with `compute.runtime = "ec2"`, the Auto Scaling service-linked role, which launches the fleet's instances with
  root volumes encrypted with this key: the two statements AWS requires (use of the key, and grants for AWS
  resources: https://docs.aws.amazon.com/autoscaling/ec2/userguide/key-policy-requirements-EBS-encryption.html),
  naming the role by `aws:PrincipalArn` as the replication role is named (AWS creates it with the first group, so
  it may not exist when the key's policy is written, and KMS refuses a policy naming a missing principal).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from shared import iam
from shared.naming import Naming
from shared.region_key import REGION_KEY

# Services that encrypt payment data, secrets, parameters, events or messages with the key on a caller's behalf.
KEY_USING_SERVICES: tuple[str, ...] = (
    "backup",
    "dynamodb",
    "events",
    "lambda",
    "rds",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
)
# The role Auto Scaling launches instances with (created by AWS in each account on first use).
AUTOSCALING_SERVICE_ROLE_PATH = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
ALARMS_SERVICE = "cloudwatch.amazonaws.com"  # publishes alarm notifications into encrypted SNS topics
EVENTS_SERVICE = "events.amazonaws.com"  # delivers rule targets into encrypted SQS queues
EVENTS_DELIVERY_ACTIONS: tuple[str, ...] = ("kms:GenerateDataKey", "kms:Decrypt")

# Key management, action by action (what Terraform and an operator need for a symmetric key and its alias).
ADMIN_ACTIONS: tuple[str, ...] = (
    "kms:CreateAlias",
    "kms:UpdateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:EnableKeyRotation",
    "kms:DisableKeyRotation",
    "kms:GetKeyRotationStatus",
    "kms:RotateKeyOnDemand",
    "kms:ListKeyRotations",
    "kms:GetKeyPolicy",
    "kms:PutKeyPolicy",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:ListGrants",
    "kms:RevokeGrant",
    "kms:UpdateKeyDescription",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
)
USE_ACTIONS: tuple[str, ...] = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
)


class RegionKey(Construct):
    """Exposes `key` (its `arn` and `key_id`) and `alias_name`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: Naming,
        account_id: str,
        partition: str,
        deletion_window_days: int,
        replication_role_arn: str,
        replicated_bucket_arn: str,
        lifecycle: TerraformResourceLifecycle | None = None,
        services: Sequence[str] = KEY_USING_SERVICES,
        autoscaling_volumes: bool = False,
    ) -> None:
        """`autoscaling_volumes`: let Auto Scaling launch instances whose volumes this key encrypts (ec2 runtime)."""
        super().__init__(scope, construct_id)
        region = naming.region
        account = {"AWS": f"arn:{partition}:iam::{account_id}:root"}
        via_services = [f"{service}.{region}.amazonaws.com" for service in services]
        through_services = {"kms:CallerAccount": account_id, "kms:ViaService": via_services}
        self.alias_name = naming.alias(REGION_KEY)
        self.key = KmsKey(
            self,
            "key",
            description=f"{naming.name('data')}: payment data, backups, secrets and messages in {region}",
            enable_key_rotation=True,
            deletion_window_in_days=deletion_window_days,
            lifecycle=lifecycle,
            policy=iam.document(
                iam.allow(ADMIN_ACTIONS, ["*"], sid="AccountAdministersKey", principals=account),
                iam.allow(
                    USE_ACTIONS,
                    ["*"],
                    sid="AccountUsesKeyThroughServices",
                    principals=account,
                    conditions={"StringEquals": through_services},
                ),
                iam.allow(
                    ["kms:CreateGrant"],
                    ["*"],
                    sid="ServicesGrantKeyToTheirResources",
                    principals=account,
                    conditions={"StringEquals": through_services, "Bool": {"kms:GrantIsForAWSResource": "true"}},
                ),
                iam.allow(
                    ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                    ["*"],
                    sid="CloudWatchLogsEncryptsLogGroups",
                    principals={"Service": f"logs.{region}.amazonaws.com"},
                    conditions={
                        "ArnLike": {
                            "kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:*"
                        }
                    },
                ),
                iam.allow(
                    ["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
                    ["*"],
                    sid="AlarmsPublishEncrypted",
                    principals={"Service": ALARMS_SERVICE},
                    conditions={"StringEquals": {"aws:SourceAccount": account_id}},
                ),
                iam.allow(
                    EVENTS_DELIVERY_ACTIONS,
                    ["*"],
                    sid="EventsDeliverToEncryptedQueues",
                    principals={"Service": EVENTS_SERVICE},
                ),
                iam.allow(
                    USE_ACTIONS,
                    ["*"],
                    sid="S3ReplicationRoleUsesKey",
                    principals=account,
                    conditions={
                        "ArnEquals": {"aws:PrincipalArn": replication_role_arn},
                        "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                        # Bucket keys use the bucket's ARN as context, objects without one their own ARN.
                        "StringLike": {
                            "kms:EncryptionContext:aws:s3:arn": [replicated_bucket_arn, f"{replicated_bucket_arn}/*"]
                        },
                    },
                ),
                *(autoscaling_statements(partition, account_id) if autoscaling_volumes else []),
            ),
        )
        KmsAlias(self, "alias", name=self.alias_name, target_key_id=self.key.key_id)


def autoscaling_statements(partition: str, account_id: str) -> list[dict[str, Any]]:
    """The Auto Scaling service-linked role uses the key for the volumes it launches, and grants it to them."""
    account = {"AWS": f"arn:{partition}:iam::{account_id}:root"}
    role = {"ArnEquals": {"aws:PrincipalArn": f"arn:{partition}:iam::{account_id}:{AUTOSCALING_SERVICE_ROLE_PATH}"}}
    return [
        iam.allow(USE_ACTIONS, ["*"], sid="AutoScalingUsesKeyForVolumes", principals=account, conditions=role),
        iam.allow(
            ["kms:CreateGrant"],
            ["*"],
            sid="AutoScalingGrantsKeyToVolumes",
            principals=account,
            conditions={**role, "Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    ]
