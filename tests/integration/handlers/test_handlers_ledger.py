"""The ledger of record: each payment lands once, balanced, on the writer and replicates to the standby.

The database is real: the local target's two PostgreSQL instances (gap `rds-engine`), reached with the LEDGER_*
variables the stacks gave the deployed payment function.
"""

from __future__ import annotations

import json
import os
import time
from decimal import Decimal
from typing import Any

from harness.platform import Platform
from ops.local import postgres
from tests.integration.handlers.test_handlers_retries import _sqs_event

LEDGER_ROW = (
    "SELECT p.amount, p.currency, p.origin_region, count(e.*), "
    "sum(CASE e.direction WHEN 'debit' THEN e.amount ELSE -e.amount END) "
    "FROM payments p JOIN ledger_entries e USING (payment_id) WHERE p.payment_id = :id "
    "GROUP BY p.amount, p.currency, p.origin_region"
)


def _instances(platform: Platform) -> tuple[postgres.Instance, postgres.Instance]:
    """(writer, standby) of the local pair, as they are now."""
    found = postgres.instances(platform.settings.local)
    writer = postgres.writer(platform.settings.local)
    assert writer is not None, "no local writer"
    return found[writer], found["secondary" if writer == "primary" else "primary"]


def _ledger(platform: Platform, instance: postgres.Instance, payment_id: str) -> list[list[Any]]:
    return postgres.query(instance, LEDGER_ROW, database=platform.settings.data.database_name, id=payment_id)


def _ledger_status(observer: Any, payment_id: str) -> str:
    return str(observer.item(payment_id)["ledger_status"]["S"])


def test_a_payment_lands_once_balanced_on_the_writer_and_replicates_to_the_standby(
    api: Any, observer: Any, platform: Platform
) -> None:
    key = api.new_key()
    created = api.post(api.valid_body(amount="42.10", currency="EUR"), key=key)
    assert created.status == 201
    payment_id = created.body["payment_id"]
    assert _ledger_status(observer, payment_id) == "done"

    writer, standby = _instances(platform)
    [[amount, currency, origin, entries, balance]] = _ledger(platform, writer, payment_id)
    assert (Decimal(amount), currency, origin, entries, Decimal(balance)) == (
        Decimal("42.10"),
        "EUR",
        api.region,
        2,
        Decimal(0),
    )
    lag = postgres.wait_for_replay(standby, writer)
    print(f"\nledger row of {api.region} visible on the standby after {lag * 1000:.1f} ms")
    assert _ledger(platform, standby, payment_id) == _ledger(platform, writer, payment_id)

    # The same Idempotency-Key again: the stored payment is answered, the ledger is not written twice.
    again = api.post(api.valid_body(amount="42.10", currency="EUR"), key=key)
    assert again.body["payment_id"] == payment_id
    assert _ledger(platform, writer, payment_id)[0][3] == 2


def test_a_failed_ledger_write_is_retried_through_the_queue_to_exactly_one_entry(
    api: Any, observer: Any, platform: Platform
) -> None:
    deployed_hosts = os.environ["LEDGER_WRITER_HOSTS"]
    dead = f"127.0.0.1:{postgres.instances(platform.settings.local)['primary'].port + 100}"
    api.configure(LEDGER_WRITER_HOSTS=dead)
    created = api.post(api.valid_body(amount="7.00"))
    assert created.status == 201, created.body  # the ledger failing never fails the payment: it is stored
    payment_id = created.body["payment_id"]
    assert _ledger_status(observer, payment_id) == "retry_queued"
    writer, _ = _instances(platform)
    assert _ledger(platform, writer, payment_id) == []
    (message,) = observer.retry_messages_for(payment_id)
    assert json.loads(message["Body"]) == {"step": "ledger", "payment_id": payment_id, "attempt": 1}

    # Still failing: the message goes back to the queue (reported as a batch failure), nothing is written.
    assert api.handler.retry_handler(_sqs_event(message), None) == {
        "batchItemFailures": [{"itemIdentifier": message["MessageId"]}]
    }
    api.configure(LEDGER_WRITER_HOSTS=deployed_hosts)
    started = time.monotonic()
    assert api.handler.retry_handler(_sqs_event(message), None) == {"batchItemFailures": []}
    assert _ledger_status(observer, payment_id) == "done"
    assert _ledger(platform, writer, payment_id)[0][3] == 2
    # Delivered once more (SQS is at-least-once): still exactly one payment and two entries.
    assert api.handler.retry_handler(_sqs_event(message), None) == {"batchItemFailures": []}
    rows = postgres.query(
        writer,
        "SELECT count(*) FROM ledger_entries WHERE payment_id = :id",
        database=platform.settings.data.database_name,
        id=payment_id,
    )
    assert rows == [[2]], f"redrive after {time.monotonic() - started:.2f}s"
