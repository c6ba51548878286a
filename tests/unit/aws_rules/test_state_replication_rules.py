"""The remote state's replica home on AWS: the request documents `make bootstrap` sends (two-way S3 replication of
the state buckets, its IAM role, the lock table's global-table replica), rule by rule, for dev and prod; and the
converging calls against the emulator in-process (moto) where it answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from config import Settings, load_settings
from config.settings import ROLES
from ops.state import state_replication
from ops.state.bootstrap import LOCK_TABLE_STREAM
from ops.state.bootstrap_key import Caller
from ops.state.state_replication import Home
from tests.conftest import AWS_ZONE

ACCOUNT = "123456789012"
CALLER = Caller(account_id=ACCOUNT, partition="aws")


@pytest.fixture(params=["dev", "prod"])
def settings(request: pytest.FixtureRequest) -> Settings:
    return load_settings(
        environ={
            "PAYMENTS_DOTENV": "none",
            "PAYMENTS_ENV": request.param,
            "PAYMENTS_TARGET": "aws",
            "PAYMENTS_AWS_ACCOUNT_ID": ACCOUNT,
            "PAYMENTS_DNS_ZONE_NAME": AWS_ZONE,
            "PAYMENTS_COMPUTE_ALARM_EMAIL": "oncall@example.com",
        }
    )


def _keys(settings: Settings) -> dict[Any, str]:
    return {role: f"arn:aws:kms:{settings.regions.of(role)}:{ACCOUNT}:key/{role}-key" for role in ROLES}


def _homes(settings: Settings) -> dict[Any, Home]:
    return state_replication.homes(settings, _keys(settings))


def _configurations(settings: Settings) -> list[tuple[Home, Home, dict[str, Any]]]:
    homes = _homes(settings)
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/{state_replication.replication_role_name(settings)}"
    found = [
        (homes[s], homes[d], state_replication.replication_configuration(role_arn, homes[s], homes[d], "aws"))
        for s, d in (("primary", "secondary"), ("secondary", "primary"))
    ]
    assert len(found) == 2  # count guard: one configuration per bucket
    return found


def _rules(settings: Settings) -> list[tuple[Home, Home, dict[str, Any]]]:
    rules = [(source, destination, rule) for source, destination, c in _configurations(settings) for rule in c["Rules"]]
    assert len(rules) == 2  # count guard: one rule per direction
    return rules


def _statements(settings: Settings) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = state_replication.replication_role_policy(CALLER, _homes(settings))["Statement"]
    assert len(statements) >= 3  # count guard
    return statements


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def test_the_replica_home_is_in_the_secondary_region_and_each_bucket_replicates_to_the_other(
    settings: Settings,
) -> None:
    """Two-way replication: "create a replication rule from the source bucket ... to the bucket containing the
    replicas. Then, create a second replication rule from the bucket containing the replicas ... to the source
    bucket"; the buckets may be in different Regions.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-for-metadata-changes.html
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/mrap-create-two-way-replication-rules.html"""
    homes = _homes(settings)
    assert (homes["primary"].region, homes["secondary"].region) == (
        settings.regions.primary,
        settings.regions.secondary,
    )
    assert homes["secondary"].bucket == settings.state_bucket_of("secondary") != homes["primary"].bucket
    for source, destination, rule in _rules(settings):
        assert rule["Status"] == "Enabled"
        assert rule["Destination"]["Bucket"] == f"arn:aws:s3:::{destination.bucket}"
        assert source.bucket != destination.bucket
        assert rule["Filter"] == {"Prefix": ""}  # every object: state, records, releases, the split


def test_kms_encrypted_objects_are_replicated_under_the_destination_regions_key(settings: Settings) -> None:
    """ "By default, Amazon S3 doesn't replicate objects that are stored at rest using server-side encryption with
    AWS KMS keys": the rule must enable SourceSelectionCriteria.SseKmsEncryptedObjects and name
    Destination.EncryptionConfiguration.ReplicaKmsKeyID, a key in the destination bucket's Region, by its full ARN
    (an alias resolves in the requester's account).
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_EncryptionConfiguration.html"""
    for _, destination, rule in _rules(settings):
        assert rule["SourceSelectionCriteria"] == {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
        replica_key = rule["Destination"]["EncryptionConfiguration"]["ReplicaKmsKeyID"]
        assert replica_key == destination.key_arn
        assert replica_key.startswith(f"arn:aws:kms:{destination.region}:")


def test_delete_markers_are_replicated_so_a_deleted_record_is_gone_on_both_sides(settings: Settings) -> None:
    """With the Filter element (the current schema of a rule), Amazon S3 does not replicate a delete marker unless
    DeleteMarkerReplication is Enabled, and a rule with a Filter must include the element (not allowed for
    tag-based rules, so the filter is a prefix). https://docs.aws.amazon.com/AmazonS3/latest/API/API_ReplicationRule.html
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-marker-replication.html"""
    for _, _, rule in _rules(settings):
        assert rule["DeleteMarkerReplication"] == {"Status": "Enabled"}
        assert "Tag" not in rule["Filter"]
        assert "And" not in rule["Filter"]


def test_two_way_replication_cannot_loop(settings: Settings) -> None:
    """What S3 does not replicate: "Objects in the source bucket that are replicas that were created by another
    replication rule" -- an object replicated into a bucket is not replicated back, so the two rules do not bounce
    it. Replica modification sync (which sends metadata changes of replicas back to the source) is not asked for.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html"""
    for _, _, rule in _rules(settings):
        assert "ReplicaModifications" not in rule.get("SourceSelectionCriteria", {})
    assert {s.bucket for s, _, _ in _rules(settings)} == {d.bucket for _, d, _ in _rules(settings)}


def test_the_role_is_assumable_by_s3_of_this_account_only(settings: Settings) -> None:
    """ "Amazon S3 assumes the role to replicate objects on your behalf": the trust policy names the
    s3.amazonaws.com service principal; aws:SourceAccount guards against the confused deputy.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html
    https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html"""
    (statement,) = state_replication.replication_trust_policy(CALLER)["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    }
    for _, _, configuration in _configurations(settings):
        assert configuration["Role"].endswith(f":role/{state_replication.replication_role_name(settings)}")


def test_the_role_reads_source_versions_and_replicates_to_the_destination_of_these_buckets_only(
    settings: Settings,
) -> None:
    """The replication role's permissions: s3:GetReplicationConfiguration and s3:ListBucket on the source bucket,
    s3:GetObjectVersionForReplication / GetObjectVersionAcl / GetObjectVersionTagging on its objects, and
    s3:ReplicateObject / ReplicateDelete / ReplicateTags on the destination's objects (each bucket is both here).
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html"""
    buckets = {f"arn:aws:s3:::{settings.state_bucket_of(role)}" for role in ROLES}
    s3_statements = [s for s in _statements(settings) if any(a.startswith("s3:") for a in _actions(s))]
    assert len(s3_statements) == 3  # count guard
    granted = {action: set(s["Resource"]) for s in s3_statements for action in _actions(s)}
    assert granted["s3:GetReplicationConfiguration"] == granted["s3:ListBucket"] == buckets
    for action in (
        "s3:GetObjectVersionForReplication",
        "s3:GetObjectVersionAcl",
        "s3:GetObjectVersionTagging",
        "s3:ReplicateObject",
        "s3:ReplicateDelete",
        "s3:ReplicateTags",
    ):
        assert granted[action] == {f"{bucket}/*" for bucket in buckets}
    assert not any("*" in action for action in granted)  # no wildcard actions
    assert all(s["Effect"] == "Allow" for s in _statements(settings))


def test_the_role_uses_each_key_only_through_s3_in_its_region_for_its_bucket(settings: Settings) -> None:
    """Replicating SSE-KMS objects: kms:Decrypt on the source object's key and kms:Encrypt on the replica key,
    limited by kms:ViaService (s3.<region>.amazonaws.com of the key's Region) and
    kms:EncryptionContext:aws:s3:arn (with an S3 Bucket Key the context is the bucket's ARN, else the object's).
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html"""
    kms_statements = [s for s in _statements(settings) if any(a.startswith("kms:") for a in _actions(s))]
    assert len(kms_statements) == 4  # count guard: decrypt and encrypt, each key
    homes = _homes(settings)
    for home in homes.values():
        mine = [s for s in kms_statements if s["Resource"] == home.key_arn]
        assert {tuple(_actions(s)) for s in mine} == {("kms:Decrypt",), ("kms:Encrypt", "kms:GenerateDataKey")}
        for statement in mine:
            assert statement["Condition"]["StringEquals"] == {"kms:ViaService": f"s3.{home.region}.amazonaws.com"}
            assert statement["Condition"]["StringLike"] == {
                "kms:EncryptionContext:aws:s3:arn": [f"arn:aws:s3:::{home.bucket}", f"arn:aws:s3:::{home.bucket}/*"]
            }


def test_the_lock_table_becomes_a_global_table_with_its_replica_under_the_secondarys_key(settings: Settings) -> None:
    """Global tables version 2019.11.21 add a replica with UpdateTable's ReplicaUpdates (Create: RegionName,
    KMSMasterKeyId -- a key of the replica's Region; UpdateGlobalTable is the legacy 2017.11.29 API). Replication
    works from the table's stream of new and old images.
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ReplicaUpdate.html
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateReplicationGroupMemberAction.html
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables.DetermineVersion.html"""
    key = _keys(settings)["secondary"]
    update = state_replication.lock_table_replica_update(settings.regions.secondary, key)
    assert update == {"Create": {"RegionName": settings.regions.secondary, "KMSMasterKeyId": key}}
    assert LOCK_TABLE_STREAM == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


class RecordingTable:
    """DynamoDB in one region as the global-table calls see it (the emulator ignores replicas: gap
    dynamodb-replica); records UpdateTable and PITR calls."""

    def __init__(self, region: str, replicas: list[dict[str, Any]] | None = None) -> None:
        self.meta = type("Meta", (), {"region_name": region})()
        self.replicas = replicas or []
        self.updates: list[dict[str, Any]] = []
        self.pitr = False

    def describe_table(self, TableName: str) -> dict[str, Any]:
        return {"Table": {"TableName": TableName, "Replicas": self.replicas}}

    def update_table(self, **kwargs: Any) -> None:
        self.updates.append(kwargs)
        for update in kwargs["ReplicaUpdates"]:
            action = update.get("Create") or update["Update"]
            self.replicas = [r for r in self.replicas if r["RegionName"] != action["RegionName"]]
            self.replicas.append({**action, "ReplicaStatus": "ACTIVE"})

    def describe_continuous_backups(self, TableName: str) -> dict[str, Any]:
        status = "ENABLED" if self.pitr else "DISABLED"
        return {
            "ContinuousBackupsDescription": {"PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": status}}
        }

    def update_continuous_backups(self, **_: Any) -> None:
        self.pitr = True


def test_the_replica_is_added_once_and_gets_point_in_time_recovery(settings: Settings) -> None:
    """PITR is a setting of each replica, not of the global table (a global table's
    PointInTimeRecoverySpecification sits in each ReplicaSpecification), so the replica's is enabled in its Region.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-dynamodb-globaltable-replicaspecification.html"""
    primary, secondary = RecordingTable(settings.regions.primary), RecordingTable(settings.regions.secondary)
    key = _keys(settings)["secondary"]
    changes = state_replication.ensure_lock_table_replica(settings, primary, secondary, key)
    assert changes == [
        f"added the {settings.regions.secondary} replica of lock table {settings.state.lock_table} (global table)",
        f"enabled point-in-time recovery of {settings.state.lock_table} in {settings.regions.secondary}",
    ]
    assert primary.updates == [
        {
            "TableName": settings.state.lock_table,
            "ReplicaUpdates": [{"Create": {"RegionName": settings.regions.secondary, "KMSMasterKeyId": key}}],
        }
    ]
    assert state_replication.ensure_lock_table_replica(settings, primary, secondary, key) == []
    assert len(primary.updates) == 1


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        yield


def test_bootstrap_sets_the_role_and_both_configurations_once(moto: None, settings: Settings) -> None:
    """Replication "requires versioning to be enabled on both the source and destination buckets": bootstrap
    versions both homes before it names them (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication.html,
    requirements). Only the first run is checked here: the in-process emulator reads a configuration back without
    DeleteMarkerReplication and SourceSelectionCriteria (gaps `s3-replication-delete-markers`,
    `s3-replication-source-selection`)."""
    homes = _homes(settings)

    def make(service: str, region: str) -> Any:
        return boto3.client(service, region_name=region)  # type: ignore[call-overload]

    for home in homes.values():
        s3 = make("s3", home.region)
        config = (
            {} if home.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": home.region}}
        )
        s3.create_bucket(Bucket=home.bucket, **config)
        s3.put_bucket_versioning(Bucket=home.bucket, VersioningConfiguration={"Status": "Enabled"})
    changes = state_replication.ensure_bucket_replication(settings, make, CALLER, _keys(settings))
    name = state_replication.replication_role_name(settings)
    assert changes[:2] == [f"created IAM role {name}", f"set the replicate-state policy of IAM role {name}"]
    assert len(changes) == 4  # and one configuration per bucket
    for home in homes.values():
        stored = make("s3", home.region).get_bucket_replication(Bucket=home.bucket)["ReplicationConfiguration"]
        assert stored["Role"] == f"arn:aws:iam::{ACCOUNT}:role/{name}"
        assert make("s3", home.region).get_bucket_versioning(Bucket=home.bucket)["Status"] == "Enabled"
    policy = make("iam", settings.regions.primary).get_role_policy(RoleName=name, PolicyName="replicate-state")
    assert policy["PolicyDocument"] == json.loads(json.dumps(state_replication.replication_role_policy(CALLER, homes)))
