"""The state bucket: the one place that reads, writes and lists its objects, with one not-found rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from config.settings import Settings
from ops.core.aws_access import BUCKET_MISSING, error_code
from ops.core.aws_clients import client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

NOT_FOUND = BUCKET_MISSING | {"NoSuchKey"}  # a missing bucket holds nothing either


def s3(settings: Settings) -> S3Client:
    return cast("S3Client", client(settings, "s3", settings.state_region))


def get_bytes(settings: Settings, key: str, version_id: str | None = None) -> bytes | None:
    """The object's content; None when it (or the bucket) does not exist."""
    bucket = settings.state_bucket
    try:
        if version_id:
            return s3(settings).get_object(Bucket=bucket, Key=key, VersionId=version_id)["Body"].read()
        return s3(settings).get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error_code(error) in NOT_FOUND:
            return None
        raise


def get_json(settings: Settings, key: str) -> Any:
    """The object's JSON; None when it does not exist or is empty."""
    body = get_bytes(settings, key)
    return json.loads(body) if body else None


def put_bytes(settings: Settings, key: str, body: bytes, content_type: str | None = None) -> None:
    if content_type:
        s3(settings).put_object(Bucket=settings.state_bucket, Key=key, Body=body, ContentType=content_type)
    else:
        s3(settings).put_object(Bucket=settings.state_bucket, Key=key, Body=body)


def put_json(settings: Settings, key: str, data: Any, *, trailing_newline: bool = False) -> None:
    text = json.dumps(data, indent=2) + ("\n" if trailing_newline else "")
    put_bytes(settings, key, text.encode(), "application/json")


def delete(settings: Settings, key: str) -> None:
    s3(settings).delete_object(Bucket=settings.state_bucket, Key=key)


def keys(settings: Settings, prefix: str) -> Iterator[str]:
    for page in s3(settings).get_paginator("list_objects_v2").paginate(Bucket=settings.state_bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield item["Key"]
