"""A failing audit or event step never fails the payment: it is queued, and ``redrive`` completes it."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest


def _sqs_event(*messages: dict[str, Any]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": message.get("MessageId", str(uuid.uuid4())),
                "receiptHandle": "handle",
                "body": message["Body"],
                "attributes": {"ApproximateReceiveCount": "1"},
                "eventSource": "aws:sqs",
            }
            for message in messages
        ]
    }


def _status(observer: Any, payment_id: str) -> tuple[str, str]:
    item = observer.item(payment_id)
    return item["audit_status"]["S"], item["event_status"]["S"]


def test_audit_failure_still_creates_the_payment_once_and_redrive_completes_it(
    api: Any, observer: Any, payment_modules: dict[str, Any], deployed_region: dict[str, str]
) -> None:
    api.configure(AUDIT_BUCKET=f"missing-audit-{uuid.uuid4().hex[:8]}")
    items_before = observer.item_count()

    created = api.post(api.valid_body())

    assert created.status == 201
    payment_id = created.body["payment_id"]
    assert observer.item_count() == items_before + 1
    assert _status(observer, payment_id) == ("retry_queued", "done")
    assert not [k for k in observer.audit_keys() if payment_id in k]
    assert len(observer.events_for(payment_id)) == 1
    (message,) = observer.retry_messages_for(payment_id)
    assert json.loads(message["Body"]) == {"step": "audit", "payment_id": payment_id, "attempt": 1}

    api.configure(AUDIT_BUCKET=deployed_region["bucket"])
    result = payment_modules["retry"].redrive(message["Body"])

    assert result == {"payment_id": payment_id, "step": "audit", "status": "done", "skipped": False}
    assert _status(observer, payment_id) == ("done", "done")
    (key,) = [k for k in observer.audit_keys() if k.endswith(f"/{payment_id}.json")]
    assert observer.audit_writes(key) == 1
    # A second delivery of the same message changes nothing.
    assert payment_modules["retry"].redrive(json.loads(message["Body"]))["skipped"] is True
    assert observer.audit_writes(key) == 1
    assert len(observer.events_for(payment_id)) == 1


def test_event_failure_is_queued_and_the_retry_handler_redrives_it(api: Any, observer: Any) -> None:
    api.configure(EVENT_BUS_NAME=f"missing-bus-{uuid.uuid4().hex[:8]}")
    created = api.post(api.valid_body())
    assert created.status == 201
    payment_id = created.body["payment_id"]
    assert _status(observer, payment_id) == ("done", "retry_queued")
    assert observer.events_for(payment_id) == []
    (message,) = observer.retry_messages_for(payment_id)
    assert json.loads(message["Body"])["step"] == "event"

    # Still failing: the message is reported back so SQS redelivers it; a useless message is dropped.
    junk = {"MessageId": "junk", "Body": '{"step": "refund", "payment_id": "x"}'}
    result = api.handler.retry_handler(_sqs_event(message, junk), None)
    assert result == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}

    api.configure(EVENT_BUS_NAME=api.names["bus"])
    assert api.handler.retry_handler(_sqs_event(message), None) == {"batchItemFailures": []}
    assert len(observer.events_for(payment_id)) == 1
    assert _status(observer, payment_id) == ("done", "done")


def test_rejected_event_entry_counts_as_a_failure(
    api: Any, observer: Any, payment_modules: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    class RejectingEvents:
        def put_events(self, **_: Any) -> dict[str, Any]:
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "x"}]}

    monkeypatch.setattr(payment_modules["clients"], "events", RejectingEvents)
    created = api.post(api.valid_body())
    assert created.status == 201
    assert _status(observer, created.body["payment_id"]) == ("done", "retry_queued")
    (message,) = observer.retry_messages_for(created.body["payment_id"])
    assert json.loads(message["Body"])["step"] == "event"


def test_when_the_retry_queue_fails_too_the_step_is_logged_and_left_pending(
    api: Any, observer: Any, log_lines: Any
) -> None:
    missing_queue = api.names["retry_queue_url"].rsplit("/", 1)[0] + f"/missing-{uuid.uuid4().hex[:8]}"
    api.configure(AUDIT_BUCKET=f"missing-audit-{uuid.uuid4().hex[:8]}", AUDIT_RETRY_QUEUE_URL=missing_queue)
    log_lines()

    created = api.post(api.valid_body())

    assert created.status == 201
    payment_id = created.body["payment_id"]
    assert _status(observer, payment_id) == ("pending", "done")
    errors = [line for line in log_lines() if line["level"] == "ERROR"]
    assert [line["message"] for line in errors] == [
        "payment step failed; queueing retry",
        "could not queue retry; step left pending",
    ]
    assert all(line["payment_id"] == payment_id and line["step"] == "audit" for line in errors)
    assert observer.retry_messages_for(payment_id) == []
