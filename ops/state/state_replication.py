"""What keeps the two state homes in step on AWS: two-way S3 replication and the lock table as a global table.

The request documents are built by pure functions (tested rule by rule in tests/unit/aws_rules/); the `ensure_*`
functions read first and change only what differs. Loop-safe by S3's own rule: an object that is itself a replica
is never replicated again, so each bucket naming the other as its destination does not bounce objects.
The local target does none of this (gaps `s3-state-replication` and `dynamodb-replica`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from config.settings import ROLES, Role, Settings
from ops.core.endpoints import is_emulator
from ops.state.account_settings import BootstrapRole, ensure_bootstrap_role
from ops.state.bootstrap_key import Caller, service_trust_policy

REPLICATION_POLICY_NAME = "replicate-state"
REPLICA_ACTIVE_TIMEOUT_SECONDS = 1800  # adding a replica copies the table; AWS gives no bound, the lock table is small
REPLICA_POLL_SECONDS = 10

ClientFactory = Callable[[str, str], Any]  # (service, region) -> boto3 client


@dataclass(frozen=True)
class Home:
    """One state home: its bucket, region and that region's bootstrap key."""

    bucket: str
    region: str
    key_arn: str

    def arn(self, partition: str) -> str:
        return f"arn:{partition}:s3:::{self.bucket}"


def homes(settings: Settings, keys: dict[Role, str]) -> dict[Role, Home]:
    return {role: Home(settings.state_bucket_of(role), settings.regions.of(role), keys[role]) for role in ROLES}


def replication_role_name(settings: Settings) -> str:
    """One role per environment: it names that environment's two buckets."""
    return f"{settings.project}-{settings.environment_suffix}-state-replication"


def replication_trust_policy(caller: Caller) -> dict[str, Any]:
    """S3 assumes the role, on behalf of this account's buckets only (the confused-deputy condition)."""
    return service_trust_policy("s3.amazonaws.com", caller)


def _kms_conditions(home: Home, partition: str) -> dict[str, Any]:
    # With S3 Bucket Keys the encryption context is the bucket's ARN; objects written before, the object's ARN.
    return {
        "StringEquals": {"kms:ViaService": f"s3.{home.region}.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [home.arn(partition), f"{home.arn(partition)}/*"]},
    }


def replication_role_policy(caller: Caller, by_role: dict[Role, Home]) -> dict[str, Any]:
    """Each bucket is the other's source and destination: read source versions, replicate into the destination,
    decrypt with the source's key and encrypt with the destination's, each only through S3 in its own region."""
    partition = caller.partition
    buckets = [by_role[role].arn(partition) for role in ROLES]
    objects = [f"{arn}/*" for arn in buckets]
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadReplicationConfiguration",
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            "Resource": buckets,
        },
        {
            "Sid": "ReadSourceVersions",
            "Effect": "Allow",
            "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
            "Resource": objects,
        },
        {
            "Sid": "ReplicateToDestination",
            "Effect": "Allow",
            "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
            "Resource": objects,
        },
    ]
    for role in ROLES:
        home = by_role[role]
        statements.append(
            {
                "Sid": f"DecryptSource{role.title()}",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": home.key_arn,
                "Condition": _kms_conditions(home, partition),
            }
        )
        statements.append(
            {
                "Sid": f"EncryptDestination{role.title()}",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": home.key_arn,
                "Condition": _kms_conditions(home, partition),
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def replication_configuration(role_arn: str, source: Home, destination: Home, partition: str) -> dict[str, Any]:
    """PutBucketReplication's document for `source`: every object, KMS-encrypted ones included, to `destination`
    under the destination region's key; delete markers too, so a deleted record or split is gone on both sides."""
    return {
        "Role": role_arn,
        "Rules": [
            {
                "ID": f"state-to-{destination.region}",
                "Priority": 1,
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "DeleteMarkerReplication": {"Status": "Enabled"},
                "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
                "Destination": {
                    "Bucket": destination.arn(partition),
                    "EncryptionConfiguration": {"ReplicaKmsKeyID": destination.key_arn},
                },
            }
        ],
    }


def lock_table_replica_update(region: str, key_arn: str, action: str = "Create") -> dict[str, Any]:
    """UpdateTable's ReplicaUpdates entry (global tables version 2019.11.21): the replica in `region`, its key."""
    return {action: {"RegionName": region, "KMSMasterKeyId": key_arn}}


def ensure_replication_role(
    settings: Settings, iam: Any, caller: Caller, by_role: dict[Role, Home]
) -> tuple[str, list[str]]:
    role = BootstrapRole(
        replication_role_name(settings),
        replication_trust_policy(caller),
        REPLICATION_POLICY_NAME,
        replication_role_policy(caller, by_role),
        "S3 replicates the two remote-state homes both ways (created by make bootstrap)",
    )
    return ensure_bootstrap_role(settings, iam, role)


def _current_replication(s3: Any, bucket: str) -> dict[str, Any] | None:
    try:
        current: dict[str, Any] = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ReplicationConfigurationNotFoundError":
            return None
        raise
    return current


def _comparable(configuration: dict[str, Any] | None, emulator: bool) -> dict[str, Any] | None:
    """An emulator endpoint (aws-shaped settings in tests) reads back neither DeleteMarkerReplication nor
    SourceSelectionCriteria (gaps `s3-replication-delete-markers`, `s3-replication-source-selection`)."""
    if configuration is None or not emulator:
        return configuration
    dropped = ("DeleteMarkerReplication", "SourceSelectionCriteria")
    rules = [{k: v for k, v in rule.items() if k not in dropped} for rule in configuration["Rules"]]
    return {**configuration, "Rules": rules}


def ensure_bucket_replication(
    settings: Settings, client: ClientFactory, caller: Caller, keys: dict[Role, str]
) -> list[str]:
    """The role, then each bucket's replication configuration naming the other bucket."""
    by_role = homes(settings, keys)
    role_arn, changes = ensure_replication_role(settings, client("iam", settings.regions.primary), caller, by_role)
    directions: tuple[tuple[Role, Role], ...] = (("primary", "secondary"), ("secondary", "primary"))
    for source_role, destination_role in directions:
        source, destination = by_role[source_role], by_role[destination_role]
        wanted = replication_configuration(role_arn, source, destination, caller.partition)
        s3 = client("s3", source.region)
        if _comparable(_current_replication(s3, source.bucket), is_emulator(s3)) != _comparable(
            wanted, is_emulator(s3)
        ):
            s3.put_bucket_replication(Bucket=source.bucket, ReplicationConfiguration=wanted)
            changes.append(f"set the replication of {source.bucket} to {destination.bucket}")
    return changes


def ensure_point_in_time_recovery(dynamodb: Any, table: str) -> list[str]:
    backups = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    if backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus") == "ENABLED":
        return []
    dynamodb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    return [f"enabled point-in-time recovery of {table} in {dynamodb.meta.region_name}"]


def ensure_lock_table_replica(settings: Settings, primary: Any, secondary: Any, key_arn: str) -> list[str]:
    """The lock table becomes a global table: its replica in the secondary region under that region's key, with
    point-in-time recovery (a replica's PITR is its own setting)."""
    table, region = settings.state.lock_table, settings.regions.secondary
    changes: list[str] = []
    replica = _replica(primary, table, region)
    if replica is None:
        primary.update_table(TableName=table, ReplicaUpdates=[lock_table_replica_update(region, key_arn)])
        changes.append(f"added the {region} replica of lock table {table} (global table)")
    elif replica.get("KMSMasterKeyId") != key_arn:
        primary.update_table(TableName=table, ReplicaUpdates=[lock_table_replica_update(region, key_arn, "Update")])
        changes.append(f"encrypted the {region} replica of lock table {table} with the bootstrap key")
    if changes:
        _wait_for_replica(primary, table, region)
    return changes + ensure_point_in_time_recovery(secondary, table)


def _replica(dynamodb: Any, table: str, region: str) -> dict[str, Any] | None:
    replicas = dynamodb.describe_table(TableName=table)["Table"].get("Replicas", [])
    return next((replica for replica in replicas if replica.get("RegionName") == region), None)


def _wait_for_replica(dynamodb: Any, table: str, region: str) -> None:
    deadline = time.monotonic() + REPLICA_ACTIVE_TIMEOUT_SECONDS
    while (_replica(dynamodb, table, region) or {}).get("ReplicaStatus") != "ACTIVE":
        if time.monotonic() >= deadline:
            raise TimeoutError(f"the {region} replica of {table} is not ACTIVE after {REPLICA_ACTIVE_TIMEOUT_SECONDS}s")
        time.sleep(REPLICA_POLL_SECONDS)
