"""Local table replication (gap `dynamodb-global-replication`) against a private emulator started by the project's
own launcher (ops/local/emulator.py): both directions, deletes, last writer wins, no ping-pong, tables coming and
going, an emulator restart, the process's start/stop and its stats file."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from config.settings import LocalTarget
from harness.platform import free_port
from ops.core.errors import ToolError
from ops.local import emulator, replication
from ops.local.replication_server import emulator_client
from ops.local.table_replication import (
    POLL_SECONDS,
    REPLICATED_VIEW,
    ReplicationStats,
    Replicator,
    percentile,
    stats,
    stats_file,
)

PRIMARY, SECONDARY = "eu-west-1", "eu-central-1"
BOUND_SECONDS = 2.0  # what the tests wait at most: the poll interval plus a loaded test machine's margin


@pytest.fixture(scope="module")
def local() -> Iterator[LocalTarget]:
    target = LocalTarget("127.0.0.1", free_port())
    emulator.up(target)
    try:
        yield target
    finally:
        replication.down(target)
        emulator.down(target)


def _client(local: LocalTarget) -> Callable[[str, str], Any]:
    return emulator_client(local.endpoint)  # type: ignore[no-any-return]


def _create(local: LocalTarget, name: str, regions: tuple[str, ...] = (PRIMARY, SECONDARY), **stream: Any) -> None:
    spec = stream or {"StreamEnabled": True, "StreamViewType": REPLICATED_VIEW}
    for region in regions:
        _client(local)("dynamodb", region).create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "payment_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "payment_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification=spec,
        )


def _item(payment_id: str, **values: str) -> dict[str, Any]:
    return {"payment_id": {"S": payment_id}, **{name: {"S": value} for name, value in values.items()}}


def _get(local: LocalTarget, region: str, table: str, payment_id: str) -> dict[str, Any] | None:
    answer = _client(local)("dynamodb", region).get_item(
        TableName=table, Key={"payment_id": {"S": payment_id}}, ConsistentRead=True
    )
    return answer.get("Item")  # type: ignore[no-any-return]


def _wait_for(check: Callable[[], bool], seconds: float = BOUND_SECONDS) -> float:
    """Seconds until `check()` held; fails after `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():
            return time.monotonic() - started
        time.sleep(0.01)
    raise AssertionError(f"not within {seconds}s")


def _stream_records(local: LocalTarget, region: str, table: str) -> int:
    dynamodb, streams = _client(local)("dynamodb", region), _client(local)("dynamodbstreams", region)
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return len(streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"])


class Running:
    """A Replicator polling on a thread (the process runs the same loop)."""

    def __init__(self, local: LocalTarget, stats_path: Path | None = None) -> None:
        self.replicator = Replicator(_client(local), (PRIMARY, SECONDARY), stats_path)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.replicator.run, args=(self._stop.is_set,), daemon=True)

    def __enter__(self) -> Replicator:
        self._thread.start()
        return self.replicator

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


@pytest.fixture
def table(local: LocalTarget) -> str:
    name = f"payments-{uuid.uuid4().hex[:8]}"
    _create(local, name)
    return name


def test_a_write_in_either_region_reaches_the_other_within_the_bound(local: LocalTarget, table: str) -> None:
    """Global tables propagate a write in one replica to the others ("DynamoDB automatically propagates the write
    to the other replica tables in the other AWS Regions": developerguide/globaltables_HowItWorks.html)."""
    with Running(local):
        _client(local)("dynamodb", PRIMARY).put_item(TableName=table, Item=_item("pay_1", status="captured"))
        _wait_for(lambda: _get(local, SECONDARY, table, "pay_1") == _item("pay_1", status="captured"))
        _client(local)("dynamodb", SECONDARY).put_item(TableName=table, Item=_item("pay_2", status="pending"))
        _wait_for(lambda: _get(local, PRIMARY, table, "pay_2") == _item("pay_2", status="pending"))
        _client(local)("dynamodb", SECONDARY).update_item(
            TableName=table,
            Key={"payment_id": {"S": "pay_1"}},
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "refunded"}},
        )
        _wait_for(lambda: _get(local, PRIMARY, table, "pay_1") == _item("pay_1", status="refunded"))


def test_a_delete_propagates(local: LocalTarget, table: str) -> None:
    """A REMOVE stream record is applied to the other region as a DeleteItem."""
    with Running(local):
        _client(local)("dynamodb", PRIMARY).put_item(TableName=table, Item=_item("pay_1", status="captured"))
        _wait_for(lambda: _get(local, SECONDARY, table, "pay_1") is not None)
        _client(local)("dynamodb", PRIMARY).delete_item(TableName=table, Key={"payment_id": {"S": "pay_1"}})
        _wait_for(lambda: _get(local, SECONDARY, table, "pay_1") is None)


def test_no_ping_pong_one_write_makes_one_record_per_region(local: LocalTarget, table: str) -> None:
    """The replicated write's own stream record is never replicated back, and a write that would change nothing is
    never made (the emulator, unlike AWS, records a no-op PutItem): the record counts stay 1 and 1."""
    with Running(local) as replicator:
        time.sleep(5 * POLL_SECONDS)  # other tests' tables on this emulator are caught up
        before = replicator.count
        _client(local)("dynamodb", PRIMARY).put_item(TableName=table, Item=_item("pay_1", status="captured"))
        _wait_for(lambda: _get(local, SECONDARY, table, "pay_1") is not None)
        time.sleep(20 * POLL_SECONDS)  # many rounds: an echo would have bounced by now
        assert (_stream_records(local, PRIMARY, table), _stream_records(local, SECONDARY, table)) == (1, 1)
        assert replicator.count - before == 1


def test_concurrent_writes_on_both_sides_converge_on_one_writer(local: LocalTarget, table: str) -> None:
    """Concurrent updates of one item in two regions: last writer wins, and every replica ends with the same item
    ("DynamoDB global tables use a last writer wins reconciliation between concurrent updates":
    developerguide/globaltables_HowItWorks.html)."""
    keys = [f"pay_{n}" for n in range(20)]
    last: dict[str, dict[str, Any]] = {}

    def writer(region: str) -> None:
        dynamodb = _client(local)("dynamodb", region)
        for round_ in range(5):
            for key in keys:
                dynamodb.put_item(TableName=table, Item=_item(key, writer=region, round=str(round_)))
        last[region] = {key: _item(key, writer=region, round="4") for key in keys}

    with Running(local):
        threads = [threading.Thread(target=writer, args=(region,)) for region in (PRIMARY, SECONDARY)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        _wait_for(
            lambda: all(_get(local, PRIMARY, table, k) == _get(local, SECONDARY, table, k) for k in keys),
            seconds=3 * BOUND_SECONDS,
        )
        time.sleep(10 * POLL_SECONDS)  # still equal later: nothing keeps flipping
        for key in keys:
            final = _get(local, PRIMARY, table, key)
            assert final == _get(local, SECONDARY, table, key)
            assert final in (last[PRIMARY][key], last[SECONDARY][key])  # one side's last write, not an older one


def test_only_tables_in_both_regions_with_new_and_old_images_are_replicated(local: LocalTarget) -> None:
    """Global tables (version 2019.11.21) replicate through a stream of new and old images, between replicas with
    the same name and primary key schema ("All replicas have the same table name and the same primary key
    schema": developerguide/globaltables_HowItWorks.html); a table with another view, another key, or in one
    region only, is left alone."""
    paired, one_side, keys_only, other_key = (f"{k}-{uuid.uuid4().hex[:8]}" for k in ("pair", "one", "keys", "other"))
    _create(local, paired)
    _create(local, one_side, regions=(PRIMARY,))
    _create(local, keys_only, StreamEnabled=True, StreamViewType="KEYS_ONLY")
    _create(local, other_key, regions=(PRIMARY,))
    _client(local)("dynamodb", SECONDARY).create_table(
        TableName=other_key,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": REPLICATED_VIEW},
    )
    replicator = Replicator(_client(local), (PRIMARY, SECONDARY))
    replicator.discover()
    assert paired in replicator.tables
    assert one_side not in replicator.tables
    assert keys_only not in replicator.tables
    assert other_key not in replicator.tables  # a replica has the same key schema


def test_tables_appearing_and_disappearing_are_followed(local: LocalTarget) -> None:
    """A table pair created after the start is replicated; one deleted (in one region) is dropped without an
    error; re-created, it is replicated again from its new stream's start."""
    name = f"later-{uuid.uuid4().hex[:8]}"
    with Running(local) as replicator:
        time.sleep(3 * POLL_SECONDS)
        _create(local, name)
        _client(local)("dynamodb", PRIMARY).put_item(TableName=name, Item=_item("pay_1"))
        _wait_for(lambda: _get(local, SECONDARY, name, "pay_1") is not None, seconds=3 * BOUND_SECONDS)
        _client(local)("dynamodb", SECONDARY).delete_table(TableName=name)
        _wait_for(lambda: name not in replicator.tables, seconds=3 * BOUND_SECONDS)
        _create(local, name, regions=(SECONDARY,))
        _client(local)("dynamodb", SECONDARY).put_item(TableName=name, Item=_item("pay_2"))
        _wait_for(lambda: _get(local, PRIMARY, name, "pay_2") is not None, seconds=3 * BOUND_SECONDS)
        assert _get(local, SECONDARY, name, "pay_1") == _item("pay_1")  # the primary's item, copied again
        assert replicator.errors == 0


def test_percentiles_are_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([float(n) for n in range(1, 101)], 0.99) == 99.0


def test_stats_without_a_running_replication_say_how_to_start_it(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="make local-up"):
        stats(LocalTarget("127.0.0.1", free_port()))


def test_the_process_starts_replicates_survives_an_emulator_restart_and_reports_lag(local: LocalTarget) -> None:
    """`replication.up` starts the process (pid and log under .local/), which writes its stats file; after the
    emulator restarts (everything it held is gone) the re-created tables are replicated again; `down` stops it.
    The lag of 500 writes is printed (pytest -s) and bounded."""
    line = replication.up(local, (PRIMARY, SECONDARY))
    assert "started" in line
    assert "already running" in replication.up(local, (PRIMARY, SECONDARY))
    try:
        name = f"payments-{uuid.uuid4().hex[:8]}"
        _create(local, name)
        _client(local)("dynamodb", PRIMARY).put_item(TableName=name, Item=_item("pay_0"))
        _wait_for(lambda: _get(local, SECONDARY, name, "pay_0") is not None, seconds=3 * BOUND_SECONDS)

        emulator.down(local)
        time.sleep(5 * POLL_SECONDS)
        emulator.up(local)
        _create(local, name)
        dynamodb = _client(local)("dynamodb", PRIMARY)
        dynamodb.put_item(TableName=name, Item=_item("pay_first"))  # found by the next discovery (<= 1 s)
        _wait_for(lambda: _get(local, SECONDARY, name, "pay_first") is not None, seconds=3 * BOUND_SECONDS)
        for n in range(500):
            dynamodb.put_item(TableName=name, Item=_item(f"pay_{n}", amount=str(n)))
        _wait_for(lambda: _get(local, SECONDARY, name, "pay_499") is not None, seconds=10 * BOUND_SECONDS)
        time.sleep(1.5)  # the next stats write
        figures = stats(local)
        print(f"\nlag over {figures.count} writes: p50 {figures.p50_ms} p99 {figures.p99_ms} max {figures.max_ms} ms")
        assert isinstance(figures, ReplicationStats)
        assert figures.count >= 500
        assert figures.tables == [name]
        assert figures.p50_ms is not None
        assert figures.p99_ms is not None
        assert figures.max_ms is not None
        assert figures.p50_ms <= figures.p99_ms <= figures.max_ms
        assert figures.p99_ms < 1000 * BOUND_SECONDS
        assert figures.last_poll is not None
        data = json.loads(stats_file(local).read_text())
        assert set(data) >= {"count", "p50_ms", "p99_ms", "max_ms", "last_poll"}
        assert "error" in replication.log_file(local).read_text()  # the restart was noticed and logged
    finally:
        assert "stopped" in replication.down(local)
    assert replication.running_pid(local) is None
