"""AWS Backup for one region: an encrypted vault, a daily plan and a selection of everything carrying its tag.

The plan may copy each recovery point to a vault in another region (each
region holds the other's copies). The service role has an inline policy
naming exactly what it backs up, its vaults and keys; the AWS-managed backup
policy would grant every resource type in the account.

With `vault_lock_days` set (prod), the vault has Backup Vault Lock in compliance mode: recovery points
cannot be deleted before that many days, nor the lock removed, once `VAULT_LOCK_GRACE_DAYS` have passed
after the apply (until then it can still be removed, to correct a mistake). The plan's retention must be
at least the lock's minimum (config validation checks it), or the vault refuses the backups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.backup_plan import (
    BackupPlan,
    BackupPlanRule,
    BackupPlanRuleCopyAction,
    BackupPlanRuleCopyActionLifecycle,
    BackupPlanRuleLifecycle,
)
from cdktf_cdktf_provider_aws.backup_selection import BackupSelection, BackupSelectionSelectionTag
from cdktf_cdktf_provider_aws.backup_vault import BackupVault
from cdktf_cdktf_provider_aws.backup_vault_lock_configuration import BackupVaultLockConfiguration
from constructs import Construct

from shared import iam
from shared.naming import Naming
from shared.service_role import ServiceRole

SELECTION_TAG_KEY = "BackupPlan"
DAILY_SCHEDULE = "cron(0 3 * * ? *)"  # 03:00 UTC, after the Aurora backup window opens
START_WINDOW_MINUTES = 60
COMPLETION_WINDOW_MINUTES = 360
VAULT_LOCK_GRACE_DAYS = 3  # the shortest grace time compliance mode accepts

KMS_BACKUP_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")


def plan_name(naming: Naming) -> str:
    return naming.name("daily")


def selection_tags(naming: Naming) -> dict[str, str]:
    """The tag a table or cluster carries to be in this region's daily plan."""
    return {SELECTION_TAG_KEY: plan_name(naming)}


def _with_ignores(
    lifecycle: TerraformResourceLifecycle | None, ignore_changes: Sequence[str]
) -> TerraformResourceLifecycle | None:
    if not ignore_changes:
        return lifecycle
    return TerraformResourceLifecycle(
        prevent_destroy=lifecycle.prevent_destroy if lifecycle else None, ignore_changes=list(ignore_changes)
    )


@dataclass(frozen=True)
class CopyDestination:
    """Another region's vault; its key is named by alias (the key is created by a stack deployed later)."""

    vault_arn: str
    key_arn_pattern: str
    key_alias: str


@dataclass(frozen=True)
class ProtectedResources:
    """What the selection covers, for the role's policy: DynamoDB table ARNs and Aurora cluster ARNs, and the
    cluster snapshots AWS Backup makes of them in every region it keeps them (a copy job reads the source
    region's snapshot and writes one in the destination region)."""

    table_arns: Sequence[str]
    cluster_arns: Sequence[str]
    cluster_snapshot_arn_patterns: Sequence[str]


class DailyBackup(Construct):
    """Exposes `vault` (`name`, `arn`) and `plan` (`id`, `name`); `selection` is None where it is not created.

    The selection tag's value is the plan's base name, whatever `name_suffix` the plan's own name carries.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: Naming,
        kms_key_arn: str,
        retention_days: int,
        resources: ProtectedResources,
        copy_to: CopyDestination | None,
        with_selection: bool,
        vault_force_destroy: bool,
        vault_lock_days: int = 0,
        lifecycle: TerraformResourceLifecycle | None = None,
        ignore_changes: Sequence[str] = (),
        name_suffix: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        name = plan_name(naming) if name_suffix is None else f"{plan_name(naming)}-{name_suffix}"
        self.vault = BackupVault(
            self,
            "vault",
            name=naming.name("vault"),
            kms_key_arn=kms_key_arn,
            force_destroy=vault_force_destroy or None,
            lifecycle=_with_ignores(lifecycle, ignore_changes),
        )
        if vault_lock_days:
            BackupVaultLockConfiguration(
                self,
                "vault-lock",
                backup_vault_name=self.vault.name,
                min_retention_days=vault_lock_days,
                changeable_for_days=VAULT_LOCK_GRACE_DAYS,
            )
        copy_actions = (
            [
                BackupPlanRuleCopyAction(
                    destination_vault_arn=copy_to.vault_arn,
                    lifecycle=BackupPlanRuleCopyActionLifecycle(delete_after=retention_days),
                )
            ]
            if copy_to
            else None
        )
        self.plan = BackupPlan(
            self,
            "plan",
            name=name,
            lifecycle=_with_ignores(None, ignore_changes),
            rule=[
                BackupPlanRule(
                    rule_name="daily",
                    target_vault_name=self.vault.name,
                    schedule=DAILY_SCHEDULE,
                    start_window=START_WINDOW_MINUTES,
                    completion_window=COMPLETION_WINDOW_MINUTES,
                    lifecycle=BackupPlanRuleLifecycle(delete_after=retention_days),
                    recovery_point_tags=selection_tags(naming),
                    copy_action=copy_actions,
                )
            ],
        )
        role = ServiceRole(
            self,
            service="backup.amazonaws.com",
            name=naming.name("backup"),
            policy_name="back-up-payment-data",
            statements=self._statements(kms_key_arn, resources, copy_to),
        ).role
        self.selection = (
            BackupSelection(
                self,
                "selection",
                name=naming.name("tagged"),
                plan_id=self.plan.id,
                iam_role_arn=role.arn,
                selection_tag=[
                    BackupSelectionSelectionTag(type="STRINGEQUALS", key=key, value=value)
                    for key, value in selection_tags(naming).items()
                ],
            )
            if with_selection
            else None
        )

    def _statements(
        self, kms_key_arn: str, resources: ProtectedResources, copy_to: CopyDestination | None
    ) -> list[dict[str, Any]]:
        tables = list(resources.table_arns)
        statements = [
            iam.allow(
                [
                    "dynamodb:DescribeTable",
                    "dynamodb:ListTagsOfResource",
                    "dynamodb:CreateBackup",
                    "dynamodb:StartAwsBackupJob",
                ],
                tables,
                sid="BackUpTables",
            ),
            iam.allow(
                ["dynamodb:DescribeBackup", "dynamodb:DeleteBackup"],
                [f"{arn}/backup/*" for arn in tables],
                sid="ManageTableBackups",
            ),
            iam.allow(
                ["rds:DescribeDBClusters", "rds:CreateDBClusterSnapshot", "rds:ListTagsForResource"],
                [*resources.cluster_arns, *resources.cluster_snapshot_arn_patterns],
                sid="SnapshotClusters",
            ),
            iam.allow(
                [
                    "rds:DescribeDBClusterSnapshots",
                    "rds:DeleteDBClusterSnapshot",
                    "rds:CopyDBClusterSnapshot",
                    "rds:AddTagsToResource",
                ],
                list(resources.cluster_snapshot_arn_patterns),
                sid="ManageClusterSnapshots",
            ),
            iam.allow(
                ["backup:DescribeBackupVault", "backup:CopyIntoBackupVault"],
                [self.vault.arn, *([copy_to.vault_arn] if copy_to else [])],
                sid="UseVaults",
            ),
            # The one unscopable action: resolving the tag-based selection.
            iam.allow(["tag:GetResources"], ["*"], sid="FindTaggedResources"),
            iam.allow(KMS_BACKUP_ACTIONS, [kms_key_arn], sid="UseRegionKey"),
            iam.allow(
                ["kms:CreateGrant"],
                [kms_key_arn],
                sid="GrantRegionKeyToServices",
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
        ]
        if copy_to:
            statements.append(
                iam.allow(
                    [*KMS_BACKUP_ACTIONS, "kms:CreateGrant"],
                    [copy_to.key_arn_pattern],
                    sid="UseCopyDestinationKey",
                    conditions={"ForAnyValue:StringEquals": {"kms:ResourceAliases": copy_to.key_alias}},
                )
            )
        return statements
