"""The region's customer-managed key: everything stateful in the region is encrypted with it.

The key policy names who may use the key and nobody else:
- the account administers the key (through IAM; no data-plane use outside AWS services);
- principals of the account use it only through the AWS services that hold payment data, secrets,
  parameters, events or messages (`kms:ViaService`), and only when IAM also allows them;
- CloudWatch Logs encrypts this account's log groups in this region with it;
- CloudWatch alarms and EventBridge publish into topics, queues and buses encrypted with it;
- the S3 replication role, named explicitly (by `aws:PrincipalArn`, so the policy is valid before the
  role exists: the secondary data stack creates it after the primary key).
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from shared import iam
from shared.naming import Naming

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
# Services that, as themselves, publish into encrypted SNS topics, SQS queues and event buses.
PUBLISHING_SERVICES: tuple[str, ...] = ("cloudwatch.amazonaws.com", "events.amazonaws.com")

ADMIN_ACTIONS: tuple[str, ...] = (
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
)
USE_ACTIONS: tuple[str, ...] = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
)
GRANT_ACTIONS: tuple[str, ...] = ("kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant")


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
        lifecycle: TerraformResourceLifecycle | None = None,
        services: Sequence[str] = KEY_USING_SERVICES,
    ) -> None:
        super().__init__(scope, construct_id)
        region = naming.region
        account = {"AWS": f"arn:{partition}:iam::{account_id}:root"}
        via_services = [f"{service}.{region}.amazonaws.com" for service in services]
        self.alias_name = naming.alias("data")
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
                    [*USE_ACTIONS, *GRANT_ACTIONS],
                    ["*"],
                    sid="AccountUsesKeyThroughServices",
                    principals=account,
                    conditions={
                        "StringEquals": {"kms:CallerAccount": account_id, "kms:ViaService": via_services},
                    },
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
                    sid="AlarmsAndEventsPublishEncrypted",
                    principals={"Service": list(PUBLISHING_SERVICES)},
                    conditions={"StringEquals": {"aws:SourceAccount": account_id}},
                ),
                iam.allow(
                    USE_ACTIONS,
                    ["*"],
                    sid="S3ReplicationRoleUsesKey",
                    principals=account,
                    conditions={
                        "ArnEquals": {"aws:PrincipalArn": replication_role_arn},
                        "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                    },
                ),
            ),
        )
        KmsAlias(self, "alias", name=self.alias_name, target_key_id=self.key.key_id)
