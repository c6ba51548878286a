"""A client that follows the platform across regions (issue 15): `api.<zone>` as a real client resolves it, one
API key for both regions, one write home, and an `Idempotency-Key` that creates at most one payment wherever
each attempt lands.

Runs in the traffic phase, before the rollout and failover tests of `test_traffic.py` (whose failover test sends
through the same kind of client across the failover and the failback), and leaves the split 100/0 with the primary
region the write home.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.load import LEDGER_OF_CUSTOMER
from config.settings import Role, other_role
from harness.platform import Platform
from ops.client.api_client import ApiClient, Response
from ops.keys import api_key
from ops.local import postgres
from shared.api_names import base_url, origin_name

pytestmark = pytest.mark.phase("traffic")

PAYMENTS = 500
RETRY_EVERY = 5  # 20% of the keys are sent a second time, to the region their first attempt did not reach
REPLAYED = "Idempotent-Replayed"
REPLICATION_WAIT_SECONDS = 30
EVENT_WAIT_SECONDS = 60


@dataclass(frozen=True)
class Attempt:
    key: str
    response: Response

    @property
    def payment(self) -> dict[str, Any]:
        answer = self.response.json()
        assert isinstance(answer, dict), self.response
        return answer


def body(customer: str) -> str:
    return json.dumps({"amount": "12.34", "currency": "USD", "customer_id": customer, "payment_method": "pm_Card4242"})


def post(client: ApiClient, url: str, key: str, customer: str) -> Attempt:
    headers = {"Content-Type": "application/json", "Idempotency-Key": key}
    return Attempt(key, client.request("POST", url, body=body(customer), headers=headers))


@pytest.fixture(scope="module")
def split_50_50(platform: Platform, deployed: dict[str, Any]) -> Iterator[None]:
    """A 50/50 split held for this module's tests (one rollout there and one back: each waits for Route 53)."""
    platform.must("rollout", "--to", "secondary", "--steps", "50", "--bake", "0", "--hold", "yes")
    try:
        yield
    finally:
        platform.must("rollout", "--to", "primary", "--steps", "100", "--bake", "0")


def table_items(platform: Platform, role: Role, customer: str) -> dict[str, list[dict[str, Any]]]:
    """The customer's items in one region's table, by payment id (a list: more than one would be a duplicate)."""
    table = platform.outputs()[f"data-{role}"]["table_name"]
    found: dict[str, list[dict[str, Any]]] = {}
    pages = (
        platform.client("dynamodb", role)
        .get_paginator("scan")
        .paginate(
            TableName=table,
            FilterExpression="customer_id = :c",
            ExpressionAttributeValues={":c": {"S": customer}},
            ConsistentRead=True,
        )
    )
    for page in pages:
        for item in page["Items"]:
            found.setdefault(item["payment_id"]["S"], []).append(item)
    return found


def replicated(platform: Platform, customer: str, count: int) -> dict[Role, dict[str, list[dict[str, Any]]]]:
    """Both regions' items once each holds `count` of the customer's payments (the local table replication)."""
    deadline = time.monotonic() + REPLICATION_WAIT_SECONDS
    while True:
        items: dict[Role, dict[str, list[dict[str, Any]]]] = {
            role: table_items(platform, role, customer) for role in ("primary", "secondary")
        }
        if all(len(found) >= count for found in items.values()) or time.monotonic() > deadline:
            return items
        time.sleep(1)


def audit_versions(platform: Platform, role: Role, payment_ids: set[str]) -> Counter[str]:
    bucket = platform.outputs()[f"data-{role}"]["audit_bucket_name"]
    writes: Counter[str] = Counter()
    pages = platform.client("s3", role).get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix="audit/")
    for page in pages:
        for version in page.get("Versions", []):
            payment_id = Path(version["Key"]).stem
            if payment_id in payment_ids:
                writes[payment_id] += 1
    return writes


def events(platform: Platform, role: Role, payment_ids: set[str], wait: float = EVENT_WAIT_SECONDS) -> Counter[str]:
    """payment.created events of these payments on the region's events queue, drained until all arrived (or
    `wait` seconds passed)."""
    sqs = platform.client("sqs", role)
    queue = platform.outputs()[f"compute-{role}"]["events_queue_url"]
    seen: Counter[str] = Counter()
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and len(seen) < len(payment_ids):
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for message in messages:
            payment_id = json.loads(message["Body"])["detail"]["payment_id"]
            if payment_id in payment_ids:
                seen[payment_id] += 1
        if messages:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
            sqs.delete_message_batch(QueueUrl=queue, Entries=entries)
    return seen


def test_one_key_one_payment_wherever_each_attempt_lands(
    platform: Platform, split_50_50: None, ops_here: Platform
) -> None:
    """500 payments at 50/50, a fifth of them retried through the other region's origin name: every first attempt
    201, every retry a replayed 201, and per key one item in each table, one ledger payment with two entries,
    one audit object and one event."""
    settings = platform.settings
    client = ApiClient(settings, api_key.current(settings, "primary"))
    customer = f"cus_{uuid.uuid4().hex[:16]}"
    firsts = [post(client, client.url("/payments"), f"it-{customer}-{n}", customer) for n in range(PAYMENTS)]
    retries = []
    for first in firsts[::RETRY_EVERY]:
        assert first.response.entered is not None
        elsewhere = base_url(origin_name(settings.dns, other_role(first.response.entered)))
        retries.append((first, post(client, elsewhere + "/payments", first.key, customer)))

    assert Counter(a.response.status for a in firsts) == {201: PAYMENTS}
    assert not [a for a in firsts if a.response.header(REPLAYED)]
    entered = Counter(a.response.entered for a in firsts)
    assert min(entered["primary"], entered["secondary"]) > PAYMENTS // 4, entered  # DNS splits them about evenly
    assert Counter(a.response.role for a in firsts) == {"primary": PAYMENTS}  # the write home answers every write
    assert len(retries) == PAYMENTS // RETRY_EVERY
    for first, retry in retries:
        assert retry.response.entered == other_role(first.response.entered or "primary")
        assert (retry.response.status, retry.response.header(REPLAYED)) == (201, "true"), retry.response.trail
        assert retry.payment == first.payment  # the original answer, byte for byte the same payment

    payment_ids = {a.payment["payment_id"] for a in firsts}
    assert len(payment_ids) == PAYMENTS
    items = replicated(platform, customer, PAYMENTS)
    for role, found in items.items():
        assert set(found) == payment_ids, role
        assert all(len(copies) == 1 for copies in found.values()), role
    created = {a.payment["payment_id"]: a.payment["created_at"] for a in firsts}
    for role in ("primary", "secondary"):
        assert {pid: copies[0]["created_at"]["S"] for pid, copies in items[role].items()} == created, role

    writer = postgres.instances(settings.local)[postgres.writer(settings.local) or "primary"]
    rows = postgres.query(writer, LEDGER_OF_CUSTOMER, database=settings.data.database_name, customer=customer)
    ledger = {str(r[0]): (int(r[1]), int(r[2]), bool(r[3])) for r in rows}
    assert set(ledger) == payment_ids
    assert set(ledger.values()) == {(2, 1, False)}  # two entries, one payment row, balanced

    assert audit_versions(platform, "primary", payment_ids) == dict.fromkeys(payment_ids, 1)
    assert events(platform, "primary", payment_ids) == dict.fromkeys(payment_ids, 1)
    assert not events(platform, "secondary", payment_ids, wait=3)  # the secondary's function wrote none


def test_smoke_at_50_50_enters_both_regions_and_the_write_home_answers(
    platform: Platform, split_50_50: None, ops_here: Platform
) -> None:
    log = platform.must("smoke", "--count", "20")
    assert "201: 20 of 20; duplicates: 0" in log
    assert "answered by primary (us-east-1): 20" in log
    assert re.search(r"^entered \(DNS's choice\): primary \d+, secondary \d+$", log, re.M), log
    assert api_key.current(platform.settings, "primary") not in log
