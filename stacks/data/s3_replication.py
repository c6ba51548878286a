"""Cross-region replication of one bucket into another, re-encrypted with the destination region's key.

Owned by the destination's stack: the replication role (IAM is global) and the
source bucket's replication configuration, which lives in the source region
and is created through that region's provider alias.

With Object Lock on (`object_lock`), both buckets have it (S3 replicates a locked source only into a
locked destination) and the role also reads each version's retention and legal hold, which the replica
carries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable, TerraformProvider, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.s3_bucket_replication_configuration import (
    S3BucketReplicationConfigurationA,
    S3BucketReplicationConfigurationRule,
    S3BucketReplicationConfigurationRuleDeleteMarkerReplication,
    S3BucketReplicationConfigurationRuleDestination,
    S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration,
    S3BucketReplicationConfigurationRuleDestinationMetrics,
    S3BucketReplicationConfigurationRuleDestinationMetricsEventThreshold,
    S3BucketReplicationConfigurationRuleDestinationReplicationTime,
    S3BucketReplicationConfigurationRuleDestinationReplicationTimeTime,
    S3BucketReplicationConfigurationRuleFilter,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteria,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects,
)
from constructs import Construct

from shared import iam
from shared.service_role import ServiceRole

REPLICATION_TIME_MINUTES = 15  # the only value S3 Replication Time Control accepts
OBJECT_LOCK_READ_ACTIONS = ("s3:GetObjectRetention", "s3:GetObjectLegalHold")


@dataclass(frozen=True)
class ReplicatedBucket:
    """One end of the replication: the bucket, the key its objects are encrypted with, and its region."""

    bucket_id: str
    bucket_arn: str
    kms_key_arn: str
    region: str


def _kms_in(side: ReplicatedBucket) -> dict[str, object]:
    """Use of a key only by S3 in its region, only for objects of that bucket (bucket keys use the bucket ARN)."""
    return {
        "StringEquals": {"kms:ViaService": f"s3.{side.region}.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [side.bucket_arn, f"{side.bucket_arn}/*"]},
    }


class BucketReplication(Construct):
    """Exposes `role` (`arn`) and `configuration`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role_name: str,
        source: ReplicatedBucket,
        destination: ReplicatedBucket,
        source_provider: TerraformProvider,
        replication_time_control: bool,
        object_lock: bool = False,
        depends_on: Sequence[ITerraformDependable] = (),
        ignore_changes: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        service_role = ServiceRole(
            self,
            service="s3.amazonaws.com",
            name=role_name,
            policy_name="replicate-audit-records",
            source_arn=source.bucket_arn,  # S3 replication sends the source bucket's ARN
            statements=[
                iam.allow(
                    ["s3:GetReplicationConfiguration", "s3:ListBucket"], [source.bucket_arn], sid="ReadSourceBucket"
                ),
                iam.allow(
                    [
                        "s3:GetObjectVersionForReplication",
                        "s3:GetObjectVersionAcl",
                        "s3:GetObjectVersionTagging",
                        *(OBJECT_LOCK_READ_ACTIONS if object_lock else ()),
                    ],
                    [f"{source.bucket_arn}/*"],
                    sid="ReadSourceObjects",
                ),
                iam.allow(
                    ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                    [f"{destination.bucket_arn}/*"],
                    sid="WriteReplicas",
                ),
                iam.allow(["kms:Decrypt"], [source.kms_key_arn], sid="DecryptSource", conditions=_kms_in(source)),
                iam.allow(
                    ["kms:Encrypt", "kms:GenerateDataKey"],
                    [destination.kms_key_arn],
                    sid="EncryptReplicas",
                    conditions=_kms_in(destination),
                ),
            ],
        )
        self.role = service_role.role
        # Replication Time Control, and the replication metrics S3 requires with it, when config turns it on.
        replication_time = (
            S3BucketReplicationConfigurationRuleDestinationReplicationTime(
                status="Enabled",
                time=S3BucketReplicationConfigurationRuleDestinationReplicationTimeTime(
                    minutes=REPLICATION_TIME_MINUTES
                ),
            )
            if replication_time_control
            else None
        )
        metrics = (
            S3BucketReplicationConfigurationRuleDestinationMetrics(
                status="Enabled",
                event_threshold=S3BucketReplicationConfigurationRuleDestinationMetricsEventThreshold(
                    minutes=REPLICATION_TIME_MINUTES
                ),
            )
            if replication_time_control
            else None
        )
        self.configuration = S3BucketReplicationConfigurationA(
            self,
            "configuration",
            provider=source_provider,
            bucket=source.bucket_id,
            role=self.role.arn,
            rule=[
                S3BucketReplicationConfigurationRule(
                    id="everything-to-peer-region",
                    status="Enabled",
                    priority=1,
                    filter=S3BucketReplicationConfigurationRuleFilter(prefix=""),
                    delete_marker_replication=S3BucketReplicationConfigurationRuleDeleteMarkerReplication(
                        status="Enabled"
                    ),
                    source_selection_criteria=S3BucketReplicationConfigurationRuleSourceSelectionCriteria(
                        sse_kms_encrypted_objects=S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects(
                            status="Enabled"
                        )
                    ),
                    destination=S3BucketReplicationConfigurationRuleDestination(
                        bucket=destination.bucket_arn,
                        storage_class="STANDARD",
                        encryption_configuration=S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration(
                            replica_kms_key_id=destination.kms_key_arn
                        ),
                        replication_time=replication_time,
                        metrics=metrics,
                    ),
                )
            ],
            depends_on=[service_role.policy, *depends_on],
            lifecycle=TerraformResourceLifecycle(ignore_changes=list(ignore_changes)) if ignore_changes else None,
        )
