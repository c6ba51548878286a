"""DynamoDB global-table replication for the local target (gap `dynamodb-global-replication`).

The emulator has no global tables: each region holds an independent table of the same name (gap
`dynamodb-replica`). `Replicator` makes them behave like one global table, both ways: every table that exists
under the same name in both regions with a `NEW_AND_OLD_IMAGES` stream (the view a global table needs) is
replicated from its streams. An INSERT/MODIFY is applied to the other region as a PutItem of its NewImage, a
REMOVE as a DeleteItem, and only when the other side differs (a write that changes nothing is never made).

Last writer wins by the records' `ApproximateCreationDateTime` (milliseconds in the emulator, one clock for both
regions). No ping-pong: the replicator remembers each write it makes (`_echoes`), and the stream record that
write produces is recognised and never replicated back. A record that arrives after a newer winner, and an echo
that overwrote a newer local write, make the replicator re-write the winner where it is missing (`_repairs`), so
both sides converge on the winner.

The same loop also drives the two-way replication of the state buckets (`ops.local.bucket_replication`, gap
`s3-state-replication`) when it is given one.

Tables are found every `DISCOVER_SECONDS` (ListTables + DescribeTable in both regions); a table that disappears is
dropped, and a stream whose ARN changes (table re-created, emulator restarted) is read again from its start
(TRIM_HORIZON), as is every stream when the process starts. Streams are polled every `POLL_SECONDS`. Lag (apply
time - ApproximateCreationDateTime) is written with the counts to a JSON file (`stats_file`) that `stats` reads.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.settings import LocalTarget
from ops.core.errors import ToolError
from ops.core.paths import LOCAL_DIR
from ops.local.bucket_replication import POLL_SECONDS as BUCKET_POLL_SECONDS
from ops.local.bucket_replication import BucketReplicator

POLL_SECONDS = 0.1  # stream poll interval: a write is replicated within this plus one poll's work (see docs)
# The emulator keeps every shard iterator it hands out (measured: +32 KB/s, ~115 MB an hour, for one table pair
# polled every 100 ms): after IDLE_AFTER_SECONDS without a record, streams are polled every IDLE_POLL_SECONDS.
IDLE_AFTER_SECONDS = 10.0
IDLE_POLL_SECONDS = 0.5
DISCOVER_SECONDS = 1.0  # how often the table pairs are listed again
MEMORY_SECONDS = 60.0  # how long a key's winner and the replicator's own pending writes are remembered
REPLICATED_VIEW = "NEW_AND_OLD_IMAGES"  # the stream view a global table's replication needs (AWS docs)
LAG_SAMPLES = 100_000  # the lag percentiles are over at most this many latest applied writes
STATS_EVERY_SECONDS = 1.0
GIVE_UP_SECONDS = 300.0  # failing this long without a good round (emulator gone for good): the process ends

ClientFactory = Callable[[str, str], Any]  # (service, region) -> boto3 client


def stats_file(local: LocalTarget) -> Path:
    return LOCAL_DIR / f"replication-{local.port}.json"


@dataclass(frozen=True)
class ReplicationStats:
    """What the replicator wrote last: applied writes, their lag (ms), the tables it replicates, its last poll."""

    count: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    last_poll: str | None  # ISO 8601 UTC
    tables: list[str]
    errors: int = 0
    last_error: str | None = None
    poll_seconds: float = POLL_SECONDS

    def lag(self) -> str:
        """The measured lag in one phrase (`p99 .. ms, max .. ms over N writes`), as failovers and the drill say it."""
        return f"p99 {self.p99_ms or 0:.0f} ms, max {self.max_ms or 0:.0f} ms over {self.count} writes"

    buckets: list[str] = field(
        default_factory=list
    )  # the state buckets replicated both ways (gap s3-state-replication)
    objects: int = 0  # copies and deletes made between them


def stats(local: LocalTarget) -> ReplicationStats:
    """The replication stats of the local target on `local`'s port."""
    path = stats_file(local)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ToolError(f"no replication stats at {path}: start the local target with `make local-up`") from None
    return ReplicationStats(**data)


def percentile(samples: Iterable[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None without samples."""
    ordered = sorted(samples)
    if not ordered:
        return None
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _error_code(error: Exception) -> str | None:
    response = getattr(error, "response", None)  # botocore's ClientError
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def _canonical(image: dict[str, Any] | None) -> str | None:
    return None if image is None else json.dumps(image, sort_keys=True, separators=(",", ":"))


@dataclass
class _Shard:
    last_sequence: str | None = None  # of the last record applied: where reading resumes after an error
    read_sequence: str | None = None  # of the last record read
    iterator: str | None = None


@dataclass
class _Stream:
    arn: str
    shards: dict[str, _Shard] = field(default_factory=dict)


@dataclass(frozen=True)
class _Record:
    region: str
    table: str
    key: dict[str, Any]
    image: dict[str, Any] | None  # None: REMOVE
    created: float  # epoch seconds (ApproximateCreationDateTime)

    @property
    def ident(self) -> tuple[str, str]:
        return self.table, str(_canonical(self.key))


@dataclass
class _Winner:
    record: _Record
    decided: float


class Replicator:
    """Replicates every stream-enabled table pair between `regions` (two region names) through `client`."""

    def __init__(
        self,
        client: ClientFactory,
        regions: tuple[str, str],
        stats_path: Path | None = None,
        buckets: BucketReplicator | None = None,
    ) -> None:
        if regions[0] == regions[1]:
            raise ToolError(f"replication needs two different regions, got {regions[0]} twice")
        self.regions = regions
        self.buckets = buckets  # polled in the same loop, at most every BUCKET_POLL_SECONDS
        self._buckets_polled_at = -math.inf
        self._dynamodb = {region: client("dynamodb", region) for region in regions}
        self._streams_api = {region: client("dynamodbstreams", region) for region in regions}
        self.stats_path = stats_path
        self.streams: dict[tuple[str, str], _Stream] = {}  # (region, table) -> stream
        self.tables: list[str] = []
        self._discovered_at = -math.inf
        self._winners: dict[tuple[str, str], _Winner] = {}
        self._echoes: dict[tuple[str, tuple[str, str]], list[tuple[str | None, float]]] = {}
        self._repairs: set[tuple[str, tuple[str, str]]] = set()
        self.count = 0
        self.lags_ms: deque[float] = deque(maxlen=LAG_SAMPLES)
        self.errors = 0
        self.last_error: str | None = None
        self.last_poll: float | None = None
        self._stats_written_at = -math.inf

    # -- discovery ----------------------------------------------------------------------------------------------

    def discover(self) -> None:
        """Pair the tables both regions hold under one name with a NEW_AND_OLD_IMAGES stream; keep known streams."""
        described: dict[str, dict[str, str]] = {}  # table -> region -> stream ARN
        names = [set(self._table_names(region)) for region in self.regions]
        for name in sorted(names[0] & names[1]):
            found = {region: self._describe(region, name) for region in self.regions}
            arns = {region: both[0] for region, both in found.items() if both}
            if len(arns) == len(self.regions) and len({both[1] for both in found.values() if both}) == 1:
                described[name] = arns  # same key schema on both sides
        streams: dict[tuple[str, str], _Stream] = {}
        for name, arns in described.items():
            for region, arn in arns.items():
                known = self.streams.get((region, name))
                streams[(region, name)] = known if known is not None and known.arn == arn else _Stream(arn)
        changed = {
            key[1] for key in self.streams.keys() | streams.keys() if self.streams.get(key) is not streams.get(key)
        }
        self._forget_tables(changed)  # a re-created table (or emulator) starts with nothing remembered
        self.streams = streams
        self.tables = sorted(described)
        self._discovered_at = time.monotonic()

    def _table_names(self, region: str) -> list[str]:
        pages = self._dynamodb[region].get_paginator("list_tables").paginate()
        return [name for page in pages for name in page["TableNames"]]

    def _describe(self, region: str, table: str) -> tuple[str, str] | None:
        """The table's stream ARN and key schema when its stream can be replicated; None otherwise."""
        try:
            description = self._dynamodb[region].describe_table(TableName=table)["Table"]
        except self._dynamodb[region].exceptions.ResourceNotFoundException:
            return None  # deleted between the listing and now
        spec = description.get("StreamSpecification") or {}
        arn = description.get("LatestStreamArn")
        if not spec.get("StreamEnabled") or spec.get("StreamViewType") != REPLICATED_VIEW or not arn:
            return None
        return str(arn), json.dumps(description["KeySchema"], sort_keys=True)

    # -- reading ------------------------------------------------------------------------------------------------

    def _read(self, region: str, table: str, stream: _Stream) -> list[_Record]:
        api = self._streams_api[region]
        if not stream.shards:  # the emulator gives a stream one shard for the table's life
            for described in api.describe_stream(StreamArn=stream.arn)["StreamDescription"]["Shards"]:
                stream.shards[described["ShardId"]] = _Shard()
        records: list[_Record] = []
        for shard_id, shard in stream.shards.items():
            if shard.iterator is None:
                where = (
                    {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": shard.last_sequence}
                    if shard.last_sequence
                    else {"ShardIteratorType": "TRIM_HORIZON"}
                )
                shard.iterator = api.get_shard_iterator(StreamArn=stream.arn, ShardId=shard_id, **where)[
                    "ShardIterator"
                ]
            answer = api.get_records(ShardIterator=shard.iterator, Limit=1000)
            shard.iterator = answer.get("NextShardIterator")
            for raw in answer["Records"]:
                shard.read_sequence = raw["dynamodb"]["SequenceNumber"]
                records.append(self._record(region, table, raw))
        return records

    @staticmethod
    def _record(region: str, table: str, raw: dict[str, Any]) -> _Record:
        body = raw["dynamodb"]
        created = body.get("ApproximateCreationDateTime")
        return _Record(
            region=region,
            table=table,
            key=body["Keys"],
            image=None if raw["eventName"] == "REMOVE" else body["NewImage"],
            created=created.timestamp() if isinstance(created, datetime) else time.time(),
        )

    # -- deciding -----------------------------------------------------------------------------------------------

    def _other(self, region: str) -> str:
        return self.regions[1] if region == self.regions[0] else self.regions[0]

    def _is_echo(self, record: _Record) -> bool:
        """Whether `record` is the stream record of a write this replicator made (consumes the remembered write)."""
        pending = self._echoes.get((record.region, record.ident), [])
        image = _canonical(record.image)
        for index, (expected, _) in enumerate(pending):
            if expected == image:
                del pending[index]
                return True
        return False

    def _decide(self, record: _Record, touched: dict[tuple[str, str], None]) -> None:
        winner = self._winners.get(record.ident)
        if self._is_echo(record):
            if winner is not None and _canonical(winner.record.image) != _canonical(record.image):
                self._repairs.add((record.region, record.ident))  # our write landed over a newer one
            return
        if winner is None or record.created >= winner.record.created:
            self._winners[record.ident] = _Winner(record, time.monotonic())
            touched[record.ident] = None
        else:
            self._repairs.add((record.region, record.ident))  # an older write: the region must hold the winner

    # -- applying -----------------------------------------------------------------------------------------------

    def _apply(self, touched: Iterable[tuple[str, str]]) -> None:
        """Make each new winner's other region, and each region needing a repair, hold the winner's image."""
        wanted: dict[tuple[str, str], dict[str, _Record]] = {}  # (region, table) -> key -> winner
        replicated: set[tuple[str, tuple[str, str]]] = set()  # what counts as a replication (lag), not a repair
        for ident in touched:
            winner = self._winners[ident].record
            region = self._other(winner.region)
            wanted.setdefault((region, ident[0]), {})[ident[1]] = winner
            replicated.add((region, ident))
        repairs, self._repairs = self._repairs, set()
        for region, ident in repairs:
            if ident in self._winners:
                wanted.setdefault((region, ident[0]), {})[ident[1]] = self._winners[ident].record
        for (region, table), winners in wanted.items():
            for record in self._ensure(region, table, list(winners.values())):
                if (region, record.ident) in replicated:
                    self.count += 1
                    self.lags_ms.append(max(0.0, (time.time() - record.created) * 1000))

    def _ensure(self, region: str, table: str, winners: list[_Record]) -> list[_Record]:
        """Write the winners whose image `region` does not hold yet (batched); returns those written."""
        current = self._current(region, table, winners)
        changes = [w for w in winners if _canonical(current.get(w.ident[1])) != _canonical(w.image)]
        requests = [
            {"DeleteRequest": {"Key": w.key}} if w.image is None else {"PutRequest": {"Item": w.image}} for w in changes
        ]
        for start in range(0, len(requests), 25):  # BatchWriteItem's limit
            pending: dict[str, Any] = {table: requests[start : start + 25]}
            while pending:
                pending = self._dynamodb[region].batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        now = time.monotonic()
        for w in changes:
            self._echoes.setdefault((region, w.ident), []).append((_canonical(w.image), now))
        return changes

    def _current(self, region: str, table: str, winners: list[_Record]) -> dict[str, dict[str, Any]]:
        """`region`'s items for the winners' keys (consistent, batched), by canonical key."""
        key_names = list(winners[0].key)
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(winners), 100):  # BatchGetItem's limit
            keys = [w.key for w in winners[start : start + 100]]
            pending: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
            while pending:
                answer = self._dynamodb[region].batch_get_item(RequestItems=pending)
                for item in answer["Responses"].get(table, []):
                    found[str(_canonical({name: item[name] for name in key_names}))] = item
                pending = answer.get("UnprocessedKeys") or {}
        return found

    def _forget_tables(self, tables: set[str]) -> None:
        self._winners = {ident: w for ident, w in self._winners.items() if ident[0] not in tables}
        self._echoes = {key: pending for key, pending in self._echoes.items() if key[1][0] not in tables}
        self._repairs = {repair for repair in self._repairs if repair[1][0] not in tables}

    def _forget(self) -> None:
        horizon = time.monotonic() - MEMORY_SECONDS
        self._winners = {ident: w for ident, w in self._winners.items() if w.decided >= horizon}
        for pending_key, pending in list(self._echoes.items()):
            pending[:] = [(image, at) for image, at in pending if at >= horizon]
            if not pending:
                del self._echoes[pending_key]

    # -- the loop -----------------------------------------------------------------------------------------------

    def poll_once(self) -> int:
        """One round: discover when due, read every stream, decide, apply; returns the records read."""
        if time.monotonic() - self._discovered_at >= DISCOVER_SECONDS:
            self.discover()
        records: list[_Record] = []
        for (region, table), stream in list(self.streams.items()):
            records += self._read(region, table, stream)
        records.sort(key=lambda record: record.created)  # stable: each stream keeps its own order
        touched: dict[tuple[str, str], None] = {}
        for record in records:
            self._decide(record, touched)
        self._apply(touched)
        for stream in self.streams.values():
            for shard in stream.shards.values():
                shard.last_sequence = shard.read_sequence  # applied: an error from here on does not re-read them
        self._forget()
        done = len(records)
        if self.buckets is not None and time.monotonic() - self._buckets_polled_at >= BUCKET_POLL_SECONDS:
            self._buckets_polled_at = time.monotonic()
            done += self.buckets.poll_once()
        self.last_poll = time.time()
        return done

    def run(
        self, stop: Callable[[], bool], poll_seconds: float = POLL_SECONDS, idle_seconds: float = IDLE_POLL_SECONDS
    ) -> None:
        """Poll until `stop()`; an error (emulator down or restarted, a table going away) is counted, logged once
        per distinct message, and the streams are found again on the next round. Ends by itself after
        GIVE_UP_SECONDS without a good round (an emulator stopped without `make local-down`)."""
        last_good = last_record = time.monotonic()
        while not stop():
            started = time.monotonic()
            busy = False
            try:
                busy = self.poll_once() > 0
                last_good = time.monotonic()
            except Exception as error:  # any failure: rediscover and go on (the process must live)
                self._failed(error)
                if started - last_good > GIVE_UP_SECONDS:
                    print(f"no good round for {GIVE_UP_SECONDS:.0f}s: the emulator is gone; stopping", flush=True)
                    break
            self.write_stats()
            if busy:  # records keep coming: read on at once (a round takes all that is there, so this ends)
                last_record = time.monotonic()
                continue
            interval = poll_seconds if started - last_record < IDLE_AFTER_SECONDS else max(poll_seconds, idle_seconds)
            time.sleep(max(0.0, interval - (time.monotonic() - started)))
        self.write_stats(force=True)

    def _failed(self, error: Exception) -> None:
        """Count and log the error (once per distinct message); a table that went away (destroy) is no error."""
        if _error_code(error) != "ResourceNotFoundException":
            message = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            self.errors += 1
            if message != self.last_error:
                print(f"{datetime.now(UTC).isoformat()} replication error (rediscovering): {message}", flush=True)
            self.last_error = message
        for stream in self.streams.values():
            for shard in stream.shards.values():
                shard.iterator = None  # resume after the last record applied, if the stream is still the same
                shard.read_sequence = shard.last_sequence
        self._discovered_at = -math.inf

    def snapshot(self) -> ReplicationStats:
        lags = list(self.lags_ms)
        return ReplicationStats(
            count=self.count,
            p50_ms=percentile(lags, 0.50),
            p99_ms=percentile(lags, 0.99),
            max_ms=max(lags) if lags else None,
            last_poll=datetime.fromtimestamp(self.last_poll, UTC).isoformat() if self.last_poll else None,
            tables=list(self.tables),
            errors=self.errors,
            last_error=self.last_error,
            buckets=self.buckets.buckets if self.buckets else [],
            objects=self.buckets.copies + self.buckets.deletes if self.buckets else 0,
        )

    def write_stats(self, *, force: bool = False) -> None:
        """Write the stats file (atomically) at most every STATS_EVERY_SECONDS unless `force`."""
        if self.stats_path is None or (not force and time.monotonic() - self._stats_written_at < STATS_EVERY_SECONDS):
            return
        self.stats_path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.stats_path.with_suffix(".tmp")
        partial.write_text(json.dumps(asdict(self.snapshot()), indent=2) + "\n", encoding="utf-8")
        os.replace(partial, self.stats_path)
        self._stats_written_at = time.monotonic()
