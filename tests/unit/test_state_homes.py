"""The remote state's two homes on the local target, against a private emulator: bootstrap creates and converges
both (buckets hardened, the lock table with a stream in both regions), and the replication process keeps them in
step both ways (gaps `s3-state-replication`, `dynamodb-replica`): copies, deletes, no loop, newest wins."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from config import Settings
from config.settings import Role
from ops.core.aws_clients import client
from ops.local import replication
from ops.local.bucket_replication import REPLICA_MARKER, BucketReplicator, Side
from ops.local.replication_server import emulator_client
from ops.local.table_replication import REPLICATED_VIEW, Replicator, stats
from ops.state import bootstrap
from shared.local_target import GAPS_BY_KEY, replicates_state_buckets_itself
from tests.unit.private_emulator import private_emulator

BOUND_SECONDS = 3.0


@pytest.fixture(scope="module")
def settings() -> Iterator[Settings]:
    with private_emulator() as local:
        yield local


@pytest.fixture(scope="module")
def bootstrapped(settings: Settings) -> tuple[list[str], list[str]]:
    first, second = bootstrap.bootstrap_state(settings), bootstrap.bootstrap_state(settings)
    return first, second


def _s3(settings: Settings, role: Role) -> Any:
    return client(settings, "s3", settings.regions.of(role))


def _key_arn(settings: Settings, region: str) -> str:
    return str(client(settings, "kms", region).describe_key(KeyId=settings.bootstrap_key_alias)["KeyMetadata"]["Arn"])


def _wait_for(check: Callable[[], bool], seconds: float = BOUND_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"not within {seconds}s")


# -- bootstrap: both homes ------------------------------------------------------------------------------------------


def test_bootstrap_creates_both_homes_then_changes_nothing(
    settings: Settings, bootstrapped: tuple[list[str], list[str]]
) -> None:
    first, second = bootstrapped
    primary, secondary = settings.regions.primary, settings.regions.secondary
    table = settings.state.lock_table
    for line in (
        f"created state bucket {settings.state_bucket_of('primary')}",
        f"created state bucket {settings.state_bucket_of('secondary')}",
        f"created lock table {table} in {primary}",
        f"created lock table {table} in {secondary}",
        f"created KMS key {settings.bootstrap_key_alias} in {secondary}",
    ):
        assert line in first
    assert second == [
        f"no change: state buckets {settings.state_bucket_of('primary')} and {settings.state_bucket_of('secondary')} "
        f"and lock table {table} in both regions already in place"
    ]


@pytest.mark.parametrize("role", ["primary", "secondary"])
def test_each_home_is_versioned_private_owner_enforced_and_encrypted_with_its_regions_key(
    settings: Settings, bootstrapped: object, role: Role
) -> None:
    s3, bucket = _s3(settings, role), settings.state_bucket_of(role)
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] in (settings.regions.of(role), None)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    key_arn = _key_arn(settings, settings.regions.of(role))
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}
    assert f":{settings.regions.of(role)}:" in key_arn
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}
    ]
    # Gap s3-state-replication: no replication configuration locally (the replication process copies instead).
    assert replicates_state_buckets_itself(settings)
    with pytest.raises(s3.exceptions.ClientError, match="ReplicationConfigurationNotFound"):
        s3.get_bucket_replication(Bucket=bucket)


@pytest.mark.parametrize("role", ["primary", "secondary"])
def test_the_lock_table_exists_in_both_regions_with_its_key_pitr_and_a_replicable_stream(
    settings: Settings, bootstrapped: object, role: Role
) -> None:
    region = settings.regions.of(role)
    dynamodb = client(settings, "dynamodb", region)
    table = dynamodb.describe_table(TableName=settings.state.lock_table)["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": REPLICATED_VIEW}
    assert table["SSEDescription"]["KMSMasterKeyArn"] == _key_arn(settings, region)
    backups = dynamodb.describe_continuous_backups(TableName=settings.state.lock_table)
    assert backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == (
        "ENABLED"
    )


def test_a_lock_table_made_before_the_stream_gets_it(settings: Settings) -> None:
    """A lock table bootstrapped before this change has no stream: bootstrap adds it, once."""
    dynamodb = client(settings, "dynamodb", settings.regions.primary)
    name = f"old-lock-{uuid.uuid4().hex[:8]}"
    old = dataclasses.replace(settings, state=dataclasses.replace(settings.state, lock_table=name))
    key_arn = _key_arn(settings, settings.regions.primary)
    dynamodb.create_table(  # as bootstrap made it before: its key, no stream
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn},
    )
    changes = bootstrap.ensure_lock_table(old, dynamodb, key_arn)
    assert changes == [
        f"enabled the NEW_AND_OLD_IMAGES stream of lock table {name} in {settings.regions.primary}",
        f"enabled point-in-time recovery of {name} in {settings.regions.primary}",
    ]
    assert bootstrap.ensure_lock_table(old, dynamodb, key_arn) == []


def test_the_replication_process_keeps_both_homes_in_step(settings: Settings, bootstrapped: object) -> None:
    """What bootstrap made is what the process replicates: a lock item and a state object written in the primary
    reach the secondary (the lock tables are discovered as a pair, the buckets polled)."""
    regions = (settings.regions.primary, settings.regions.secondary)
    make = emulator_client(settings.local.endpoint)
    sides = (
        Side(regions[0], settings.state_bucket_of("primary")),
        Side(regions[1], settings.state_bucket_of("secondary")),
    )
    replicator = Replicator(make, regions, buckets=BucketReplicator(make, sides))
    stop = threading.Event()
    thread = threading.Thread(target=replicator.run, args=(stop.is_set,), daemon=True)
    thread.start()
    try:
        key = f"dev/state-homes-{uuid.uuid4().hex[:8]}"
        client(settings, "dynamodb", regions[0]).put_item(
            TableName=settings.state.lock_table, Item={"LockID": {"S": key}, "Digest": {"S": "abc"}}
        )
        _s3(settings, "primary").put_object(Bucket=sides[0].bucket, Key=f"{key}.tfstate", Body=b"{}")
        secondary_table = client(settings, "dynamodb", regions[1])
        _wait_for(
            lambda: (
                "Item"
                in secondary_table.get_item(
                    TableName=settings.state.lock_table, Key={"LockID": {"S": key}}, ConsistentRead=True
                )
            )
        )
        _wait_for(lambda: _body(_s3(settings, "secondary"), sides[1].bucket, f"{key}.tfstate") == b"{}")
        assert settings.state.lock_table in replicator.tables
        assert replicator.snapshot().buckets == [side.bucket for side in sides]
    finally:
        stop.set()
        thread.join(timeout=10)


def test_the_gap_is_listed() -> None:
    assert "replication process" in GAPS_BY_KEY["s3-state-replication"].local_handling


# -- bucket replication, round by round -------------------------------------------------------------------------------


@pytest.fixture
def pair(settings: Settings) -> tuple[BucketReplicator, Side, Side, Any, Any]:
    """Two fresh versioned buckets in the two regions and a replicator between them."""
    suffix = uuid.uuid4().hex[:8]
    a = Side(settings.regions.primary, f"homes-a-{suffix}")
    b = Side(settings.regions.secondary, f"homes-b-{suffix}")
    s3a, s3b = client(settings, "s3", a.region), client(settings, "s3", b.region)
    for s3, side in ((s3a, a), (s3b, b)):
        config = (
            {} if side.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": side.region}}
        )
        s3.create_bucket(Bucket=side.bucket, **config)
        s3.put_bucket_versioning(Bucket=side.bucket, VersioningConfiguration={"Status": "Enabled"})
    return BucketReplicator(emulator_client(settings.local.endpoint), (a, b)), a, b, s3a, s3b


def _body(s3: Any, bucket: str, key: str) -> bytes | None:
    try:
        return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def _versions(s3: Any, bucket: str, key: str) -> int:
    return len(s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", []))


def test_objects_are_copied_both_ways_and_marked(pair: tuple[BucketReplicator, Side, Side, Any, Any]) -> None:
    replicator, a, b, s3a, s3b = pair
    s3a.put_object(Bucket=a.bucket, Key="releases/r1.json", Body=b"one", ContentType="application/json")
    s3b.put_object(Bucket=b.bucket, Key="records/d1.json", Body=b"two")
    assert replicator.poll_once() == 2
    assert _body(s3b, b.bucket, "releases/r1.json") == b"one"
    assert _body(s3a, a.bucket, "records/d1.json") == b"two"
    copy = s3b.head_object(Bucket=b.bucket, Key="releases/r1.json")
    assert copy["Metadata"][REPLICA_MARKER].startswith(f"{a.bucket} ")
    assert copy["ContentType"] == "application/json"


def test_a_copy_is_never_copied_back(pair: tuple[BucketReplicator, Side, Side, Any, Any]) -> None:
    """S3 does not replicate replicas; neither does the local replication: one write makes one version on each
    side, however many rounds follow."""
    replicator, a, b, s3a, s3b = pair
    s3a.put_object(Bucket=a.bucket, Key="split.json", Body=b"50/50")
    assert replicator.poll_once() == 1
    for _ in range(5):
        assert replicator.poll_once() == 0
    assert (_versions(s3a, a.bucket, "split.json"), _versions(s3b, b.bucket, "split.json")) == (1, 1)
    assert replicator.copies == 1


def test_deletes_replicate_from_either_side(pair: tuple[BucketReplicator, Side, Side, Any, Any]) -> None:
    """Delete-marker replication: a key deleted on one side (the original's or the copy's) is gone on both."""
    replicator, a, b, s3a, s3b = pair
    s3a.put_object(Bucket=a.bucket, Key="records/one.json", Body=b"1")
    s3a.put_object(Bucket=a.bucket, Key="records/two.json", Body=b"2")
    replicator.poll_once()
    s3a.delete_object(Bucket=a.bucket, Key="records/one.json")  # the original
    s3b.delete_object(Bucket=b.bucket, Key="records/two.json")  # the copy
    assert replicator.poll_once() == 2
    for s3, side in ((s3a, a), (s3b, b)):
        assert s3.list_objects_v2(Bucket=side.bucket).get("KeyCount", 0) == 0
    assert replicator.poll_once() == 0  # nothing comes back
    assert replicator.deletes == 2


def test_the_copy_of_a_deleted_original_is_deleted_by_a_fresh_replicator(
    settings: Settings, pair: tuple[BucketReplicator, Side, Side, Any, Any]
) -> None:
    """The marker alone decides after a restart (nothing remembered): a copy whose original is gone is deleted."""
    replicator, a, b, s3a, s3b = pair
    s3a.put_object(Bucket=a.bucket, Key="k", Body=b"v")
    replicator.poll_once()
    s3a.delete_object(Bucket=a.bucket, Key="k")
    fresh = BucketReplicator(emulator_client(settings.local.endpoint), (a, b))
    assert fresh.poll_once() == 1
    assert _body(s3b, b.bucket, "k") is None


def test_the_newest_write_wins_on_both_sides(pair: tuple[BucketReplicator, Side, Side, Any, Any]) -> None:
    """Both sides written before a round: the later LastModified (the emulator's is in seconds) wins everywhere;
    later an update of the copy's key on the other side wins over the older original."""
    replicator, a, b, s3a, s3b = pair
    s3b.put_object(Bucket=b.bucket, Key="split.json", Body=b"old")
    time.sleep(1.1)
    s3a.put_object(Bucket=a.bucket, Key="split.json", Body=b"new")
    replicator.poll_once()
    assert (_body(s3a, a.bucket, "split.json"), _body(s3b, b.bucket, "split.json")) == (b"new", b"new")
    time.sleep(1.1)
    s3b.put_object(Bucket=b.bucket, Key="split.json", Body=b"newer")  # overwrites the copy
    assert replicator.poll_once() == 1
    assert (_body(s3a, a.bucket, "split.json"), _body(s3b, b.bucket, "split.json")) == (b"newer", b"newer")
    assert replicator.poll_once() == 0


def test_missing_buckets_are_waited_for(settings: Settings) -> None:
    """The process starts before bootstrap: while a home does not exist, a round does nothing and fails nothing."""
    sides = (
        Side(settings.regions.primary, f"absent-{uuid.uuid4().hex[:8]}"),
        Side(settings.regions.secondary, "x-y-z"),
    )
    assert BucketReplicator(emulator_client(settings.local.endpoint), sides).poll_once() == 0


def test_the_process_started_with_the_buckets_replicates_them(settings: Settings, bootstrapped: object) -> None:
    """`make local-up` starts the process with both homes (`ops.local.target.up`): an object written in the
    secondary's home reaches the primary's within the poll bound, and the stats name the buckets."""
    buckets = (settings.state_bucket_of("primary"), settings.state_bucket_of("secondary"))
    assert "started" in replication.up(settings.local, (settings.regions.primary, settings.regions.secondary), buckets)
    try:
        key = f"records/{uuid.uuid4().hex[:8]}.json"
        _s3(settings, "secondary").put_object(Bucket=buckets[1], Key=key, Body=b"written during an outage")
        _wait_for(lambda: _body(_s3(settings, "primary"), buckets[0], key) == b"written during an outage")
        _wait_for(lambda: stats(settings.local).objects >= 1)
        assert stats(settings.local).buckets == list(buckets)
    finally:
        assert "stopped" in replication.down(settings.local)
