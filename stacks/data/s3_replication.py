"""Cross-region replication between buckets, each object re-encrypted with the destination region's key.

One role (IAM is global) serves every direction; each direction is the source
bucket's replication configuration, which lives in the source region and is
created through that region's provider (alias). Two directions between the
same two buckets (A -> B and B -> A) do not loop: S3 never replicates an object
that is itself a replica created by another replication rule
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html,
"What isn't replicated with replication configurations?").

With Object Lock on (`object_lock`), both buckets have it (S3 replicates a locked source only into a
locked destination) and the role also reads each version's retention and legal hold, which the replica
carries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
    """One end of a replication: the bucket, the key its objects are encrypted with, its region, and a label
    (a word such as `Primary`) that names its statements in the role's policy."""

    bucket_id: str
    bucket_arn: str
    kms_key_arn: str
    region: str
    label: str


@dataclass(frozen=True)
class ReplicationDirection:
    """`source` replicates into `destination`. `configuration_id` is the configuration's construct id (its state
    address); `source_provider` is the provider of the source's region, None for the stack's default provider."""

    configuration_id: str
    source: ReplicatedBucket
    destination: ReplicatedBucket
    source_provider: TerraformProvider | None = None


def _kms_in(side: ReplicatedBucket) -> dict[str, object]:
    """Use of a key only by S3 in its region, only for objects of that bucket (bucket keys use the bucket ARN)."""
    return {
        "StringEquals": {"kms:ViaService": f"s3.{side.region}.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [side.bucket_arn, f"{side.bucket_arn}/*"]},
    }


def _role_statements(directions: Sequence[ReplicationDirection], object_lock: bool) -> list[dict[str, Any]]:
    """What the role needs for every direction: read each source, write each destination; decrypt with a
    source's key and encrypt with a destination's key, each only through S3 in its region for its bucket."""
    sources = list({d.source.bucket_arn: d.source for d in directions}.values())
    destinations = list({d.destination.bucket_arn: d.destination for d in directions}.values())
    statements = [
        iam.allow(
            ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            [s.bucket_arn for s in sources],
            sid="ReadSourceBucket",
        ),
        iam.allow(
            [
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
                *(OBJECT_LOCK_READ_ACTIONS if object_lock else ()),
            ],
            [f"{s.bucket_arn}/*" for s in sources],
            sid="ReadSourceObjects",
        ),
        iam.allow(
            ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
            [f"{d.bucket_arn}/*" for d in destinations],
            sid="WriteReplicas",
        ),
    ]
    for source in sources:
        statements.append(
            iam.allow(
                ["kms:Decrypt"], [source.kms_key_arn], sid=f"Decrypt{source.label}Source", conditions=_kms_in(source)
            )
        )
    for destination in destinations:
        statements.append(
            iam.allow(
                ["kms:Encrypt", "kms:GenerateDataKey"],
                [destination.kms_key_arn],
                sid=f"Encrypt{destination.label}Replicas",
                conditions=_kms_in(destination),
            )
        )
    return statements


class BucketReplication(Construct):
    """Exposes `role` (`arn`) and `configurations` (one per direction, in the order given).

    Replica modification sync stays off: it would send metadata changes made on a replica (tags, ACLs,
    retention) back to its source, and nothing changes a replica's metadata here; each direction carries
    the objects written on its own side, which is what makes the two buckets converge.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role_name: str,
        directions: Sequence[ReplicationDirection],
        replication_time_control: bool,
        object_lock: bool = False,
        depends_on: Sequence[ITerraformDependable] = (),
        ignore_changes: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        if not directions:
            raise ValueError(f"{construct_id}: a replication needs at least one direction")
        service_role = ServiceRole(
            self,
            service="s3.amazonaws.com",
            name=role_name,
            policy_name="replicate-audit-records",
            # S3 replication sends the source bucket's ARN: every direction's source may assume the role.
            source_arn=list(dict.fromkeys(d.source.bucket_arn for d in directions)),
            statements=_role_statements(directions, object_lock),
        )
        self.role = service_role.role
        self.configurations = [
            self._configuration(direction, replication_time_control, [service_role.policy, *depends_on], ignore_changes)
            for direction in directions
        ]

    def _configuration(
        self,
        direction: ReplicationDirection,
        replication_time_control: bool,
        depends_on: Sequence[ITerraformDependable],
        ignore_changes: Sequence[str],
    ) -> S3BucketReplicationConfigurationA:
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
        return S3BucketReplicationConfigurationA(
            self,
            direction.configuration_id,
            provider=direction.source_provider,
            bucket=direction.source.bucket_id,
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
                        bucket=direction.destination.bucket_arn,
                        storage_class="STANDARD",
                        encryption_configuration=S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration(
                            replica_kms_key_id=direction.destination.kms_key_arn
                        ),
                        replication_time=replication_time,
                        metrics=metrics,
                    ),
                )
            ],
            depends_on=list(depends_on),
            lifecycle=TerraformResourceLifecycle(ignore_changes=list(ignore_changes)) if ignore_changes else None,
        )
