"""Two-way replication of the two remote-state buckets for the local target (gap `s3-state-replication`).

The emulator stores a replication configuration but copies nothing. `BucketReplicator` stands in for S3's two-way
replication of the state homes: each round lists both buckets (ListObjectsV2; a HeadObject only for an object not
seen before in that version) and, key by key:

- an object on one side only is copied to the other, unless it is itself a copy whose original is gone, or the key
  was in step on both sides before: then the key was deleted on the other side, and the delete is replicated;
- an object on both sides whose contents differ: the newest original wins (an original's time is its
  LastModified; a copy's is its original's, carried in its marker) and is copied over the other.

Loop-safe as S3 is ("objects that are replicas are not replicated"): every copy carries the metadata marker
`REPLICA_MARKER` naming its original (bucket, ETag, LastModified), and an object carrying it is never copied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

ClientFactory = Callable[[str, str], Any]  # (service, region) -> boto3 client
REPLICA_MARKER = "payments-replica-of"  # x-amz-meta-payments-replica-of: "<bucket> <etag> <last-modified ISO>"
POLL_SECONDS = 0.3
MISSING_BUCKET = {"NoSuchBucket", "404"}


@dataclass(frozen=True)
class Side:
    region: str
    bucket: str


@dataclass(frozen=True)
class _Object:
    etag: str
    modified: datetime
    origin: tuple[str, str, str] | None  # a copy's (bucket, etag, last-modified ISO); None for an original

    def origin_time(self) -> datetime:
        """When the content was written: a copy's original's LastModified, an original's own."""
        return datetime.fromisoformat(self.origin[2]) if self.origin else self.modified


def _marker(bucket: str, etag: str, modified: datetime) -> str:
    return f"{bucket} {etag} {modified.isoformat()}"


def _parse_marker(value: str | None) -> tuple[str, str, str] | None:
    parts = (value or "").split(" ")
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else None


class BucketReplicator:
    """Keeps `sides` (two (region, bucket) pairs) in step both ways through `client`."""

    def __init__(self, client: ClientFactory, sides: tuple[Side, Side]) -> None:
        self.sides = sides
        self._s3 = {side: client("s3", side.region) for side in sides}
        self._heads: dict[tuple[Side, str, str, datetime], tuple[str, str, str] | None] = {}
        self._in_step: set[str] = set()  # keys both sides held in step at the end of the last round
        self.copies = 0
        self.deletes = 0

    @property
    def buckets(self) -> list[str]:
        return [side.bucket for side in self.sides]

    def poll_once(self) -> int:
        """One round; returns the copies and deletes made (0 while a bucket does not exist yet)."""
        listed = {side: self._list(side) for side in self.sides}
        a, b = self.sides
        left, right = listed[a], listed[b]
        if left is None or right is None:
            return 0  # bootstrap has not created both homes yet
        done = 0
        in_step: set[str] = set()
        for key in sorted(left.keys() | right.keys()):
            here, there = left.get(key), right.get(key)
            if here is None or there is None:
                present, absent, obj = (a, b, here) if there is None else (b, a, there)
                assert obj is not None
                if obj.origin is not None or key in self._in_step:  # deleted on `absent`: delete here too
                    self._s3[present].delete_object(Bucket=present.bucket, Key=key)
                    self.deletes += 1
                elif self._copy(present, absent, key, obj):
                    in_step.add(key)
                done += 1
                continue
            if self._same(a, here, there) or self._same(b, there, here):
                in_step.add(key)
                continue
            winner, loser, won = (a, b, here) if here.origin_time() >= there.origin_time() else (b, a, there)
            if won.origin is None and self._copy(winner, loser, key, won):  # a copy is never copied
                in_step.add(key)
                done += 1
        self._in_step = in_step
        current = {
            (side, key, obj.etag, obj.modified) for side, objs in ((a, left), (b, right)) for key, obj in objs.items()
        }
        self._heads = {head: value for head, value in self._heads.items() if head in current}  # only live versions
        return done

    @staticmethod
    def _same(source: Side, original: _Object, copy: _Object) -> bool:
        """Whether `copy` is a copy of `original`'s current content in `source`."""
        return copy.origin is not None and copy.origin[:2] == (source.bucket, original.etag)

    def _list(self, side: Side) -> dict[str, _Object] | None:
        s3 = self._s3[side]
        objects: dict[str, _Object] = {}
        try:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=side.bucket):
                for entry in page.get("Contents", []):
                    key, etag, modified = entry["Key"], str(entry["ETag"]), entry["LastModified"]
                    objects[key] = _Object(etag, modified, self._origin(side, key, etag, modified))
        except s3.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in MISSING_BUCKET:
                return None
            raise
        return objects

    def _origin(self, side: Side, key: str, etag: str, modified: datetime) -> tuple[str, str, str] | None:
        head = (side, key, etag, modified)
        if head not in self._heads:
            metadata = self._s3[side].head_object(Bucket=side.bucket, Key=key).get("Metadata", {})
            self._heads[head] = _parse_marker(metadata.get(REPLICA_MARKER))
        return self._heads[head]

    def _copy(self, source: Side, destination: Side, key: str, obj: _Object) -> bool:
        """Copy the original `obj` (False when it changed since the listing: the next round sees the new one); the
        destination bucket's default encryption (its region's key) applies."""
        answer = self._s3[source].get_object(Bucket=source.bucket, Key=key)
        if str(answer["ETag"]) != obj.etag:
            return False
        metadata = dict(answer.get("Metadata", {}))
        metadata[REPLICA_MARKER] = _marker(source.bucket, obj.etag, obj.modified)
        extra = {"ContentType": answer["ContentType"]} if answer.get("ContentType") else {}
        self._s3[destination].put_object(
            Bucket=destination.bucket, Key=key, Body=answer["Body"].read(), Metadata=metadata, **extra
        )
        self.copies += 1
        return True
