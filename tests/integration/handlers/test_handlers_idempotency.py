"""Idempotency: replays return the original response, conflicts are 409, concurrent retries write once."""

from __future__ import annotations

import json
import threading
from typing import Any


def test_replay_returns_the_original_response_and_writes_nothing(api: Any, observer: Any) -> None:
    key = api.new_key()
    first = api.post(api.valid_body(), key=key)
    assert first.status == 201
    after_first = observer.snapshot()

    replay = api.post(api.valid_body(), key=key)

    assert replay.status == 201
    assert replay.raw_body == first.raw_body
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert observer.snapshot() == after_first
    assert len(observer.events_for(first.body["payment_id"])) == 1
    assert observer.audit_writes(_audit_key(observer, first.body["payment_id"])) == 1


def test_replay_matches_the_normalised_request_not_its_spelling(api: Any) -> None:
    key = api.new_key()
    first = api.post(api.valid_body(amount="12.50", description=None), key=key)
    respelled = '{"payment_method": "pm_Card4242", "customer_id": "cus_Test1234", "currency": "USD", "amount": 12.5}'
    replay = api.post(raw=respelled, key=key)
    assert replay.status == 201
    assert replay.raw_body == first.raw_body


def test_same_key_with_a_different_request_is_a_conflict(api: Any, observer: Any) -> None:
    key = api.new_key()
    first = api.post(api.valid_body(amount="10.00"), key=key)
    stored = observer.item(first.body["payment_id"])
    before = observer.snapshot()

    conflict = api.post(api.valid_body(amount="10.01"), key=key)

    assert conflict.status == 409
    assert conflict.body == {
        "error": "idempotency_conflict",
        "message": conflict.body["message"],
        "request_id": conflict.headers["X-Request-Id"],
    }
    assert observer.snapshot() == before
    assert observer.item(first.body["payment_id"]) == stored
    assert len(observer.events_for(first.body["payment_id"])) == 1


def test_concurrent_retries_of_one_key_write_exactly_once(api: Any, observer: Any) -> None:
    key, body, threads = api.new_key(), api.valid_body(amount="99.99"), 16
    items_before = observer.item_count()
    start = threading.Barrier(threads)

    def attempt() -> Any:
        start.wait(timeout=30)
        return api.post(body, key=key)

    responses = api.concurrently([attempt] * threads)

    assert [r.status for r in responses] == [201] * threads
    assert len({r.raw_body for r in responses}) == 1
    assert sum("Idempotent-Replayed" not in r.headers for r in responses) == 1
    payment_id = responses[0].body["payment_id"]
    assert observer.item_count() == items_before + 1
    assert observer.audit_writes(_audit_key(observer, payment_id)) == 1
    assert len(observer.events_for(payment_id)) == 1
    assert observer.retry_messages_for(payment_id) == []


def _audit_key(observer: Any, payment_id: str) -> str:
    (key,) = [k for k in observer.audit_keys() if k.endswith(f"/{payment_id}.json")]
    return key


def test_audit_object_is_encrypted_with_the_audit_key_and_matches_the_payment(
    api: Any, observer: Any, deployed_region: dict[str, str]
) -> None:
    created = api.post(api.valid_body(description="audit me"))
    payment_id, created_at = created.body["payment_id"], created.body["created_at"]
    key = _audit_key(observer, payment_id)
    assert key == f"audit/payments/{created_at[:4]}/{created_at[5:7]}/{created_at[8:10]}/{payment_id}.json"

    stored = observer.s3.get_object(Bucket=deployed_region["bucket"], Key=key)
    assert stored["ServerSideEncryption"] == "aws:kms"
    assert stored["SSEKMSKeyId"] == deployed_region["kms_key_id"]
    record = json.loads(stored["Body"].read())
    assert {k: record[k] for k in created.body} == created.body
    assert record["request_id"] == created.headers["X-Request-Id"]


def test_event_describes_the_payment(api: Any, observer: Any, deployed_region: dict[str, str]) -> None:
    created = api.post(api.valid_body(currency="EUR"))
    (event,) = observer.events_for(created.body["payment_id"])
    assert event["source"] == "payments.api"
    assert event["detail-type"] == "payment.created"
    assert event["detail"] == {
        "payment_id": created.body["payment_id"],
        "status": "created",
        "amount": "12.50",
        "currency": "EUR",
        "customer_id": "cus_Test1234",
        "created_at": created.body["created_at"],
        "region": deployed_region["region"],
    }
