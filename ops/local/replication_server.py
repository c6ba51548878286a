"""The local table replication process (`ops.local.table_replication`), started and stopped with the emulator.

python -m ops.local.replication_server --endpoint http://127.0.0.1:4566 --regions eu-west-1 eu-central-1 \
    --stats .local/replication-4566.json [--buckets payments-state payments-state-replica]
"""

from __future__ import annotations

import argparse
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from ops.local.bucket_replication import BucketReplicator, Side
from ops.local.fault_proxy import REPLICATION_AGENT
from ops.local.table_replication import Replicator
from shared.local_target import FAKE_ACCESS_KEY, FAKE_SECRET_KEY

# One attempt and short timeouts: a failed round is retried by the next poll (100 ms later), not by botocore.
CLIENT_CONFIG = Config(
    retries={"max_attempts": 1, "mode": "standard"},
    connect_timeout=2,
    read_timeout=10,
    user_agent_extra=REPLICATION_AGENT,
)


def emulator_client(endpoint: str) -> Any:
    def make(service: str, region: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=region,
            endpoint_url=endpoint,
            aws_access_key_id=FAKE_ACCESS_KEY,
            aws_secret_access_key=FAKE_SECRET_KEY,
            config=CLIENT_CONFIG,
        )

    return make


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Replicate DynamoDB tables (and the state buckets) between two emulator regions"
    )
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--regions", nargs=2, required=True, metavar="REGION")
    parser.add_argument("--stats", type=Path, required=True)
    parser.add_argument("--buckets", nargs=2, metavar="BUCKET", help="the state buckets of the two regions, in order")
    args = parser.parse_args(argv)
    stopping: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    client = emulator_client(args.endpoint)
    buckets = None
    if args.buckets:
        sides = tuple(Side(region, bucket) for region, bucket in zip(args.regions, args.buckets, strict=True))
        buckets = BucketReplicator(client, (sides[0], sides[1]))
    replicator = Replicator(client, (args.regions[0], args.regions[1]), args.stats, buckets)
    what = f" and buckets {' <-> '.join(args.buckets)}" if args.buckets else ""
    print(
        f"{datetime.now(UTC).isoformat()} replicating {' <-> '.join(args.regions)}{what} on {args.endpoint}", flush=True
    )
    replicator.run(lambda: bool(stopping))


if __name__ == "__main__":
    main()
