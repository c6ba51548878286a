"""Steady payments through the client for the length of a drill, as a careful customer sends them.

One payment at a time, each with its own Idempotency-Key; an attempt that does not end in 201 (refused, timed out,
5xx, a redirect into the lost region) is sent again with the same key after RETRY_SECONDS until it is acknowledged
or the stream stops. So a payment is either acknowledged once, or still pending at the end, and the key makes the
retries safe: a payment created twice (once in each region) is a duplicate the drill counts.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field

from ops.client.api_client import ApiClient, Response

RETRY_SECONDS = 1.0
PAUSE_SECONDS = 0.2  # between two acknowledged payments: a steady trickle, not a load test


@dataclass
class Payment:
    key: str
    first_sent: float
    attempts: int = 0
    acknowledged_at: float | None = None
    answer: dict[str, str] = field(default_factory=dict)
    answered_by: str | None = None  # the role whose function acknowledged it
    last_failure: str = ""


def _describe(response: Response) -> str:
    return f"{response.status} from {response.role or '?'}: {response.body[:80]}"


class PaymentStream:
    """Sends payments on a thread of its own; `payments` grows as it goes (read it after `stop`)."""

    def __init__(self, api: ApiClient, customer: str) -> None:
        self.api = api
        self.customer = customer
        self.payments: list[Payment] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="drill-payments", daemon=True)
        self.lock = threading.Lock()

    def start(self) -> PaymentStream:
        self.thread.start()
        return self

    def stop(self) -> list[Payment]:
        self.stopping.set()
        self.thread.join(timeout=120)
        with self.lock:
            return list(self.payments)

    def acknowledged(self) -> list[Payment]:
        with self.lock:
            return [p for p in self.payments if p.acknowledged_at is not None]

    def first_acknowledged_after(self, moment: float) -> Payment | None:
        return min(
            (p for p in self.acknowledged() if p.acknowledged_at is not None and p.acknowledged_at > moment),
            key=lambda p: p.acknowledged_at or 0.0,
            default=None,
        )

    def wait_for(self, count: int, after: float, timeout: float) -> bool:
        """Until `count` payments were acknowledged after `after` (monotonic), or `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(1 for p in self.acknowledged() if (p.acknowledged_at or 0.0) > after) >= count:
                return True
            time.sleep(0.2)
        return False

    def _body(self) -> str:
        return json.dumps(
            {"amount": "10.00", "currency": "USD", "customer_id": self.customer, "payment_method": "pm_Card4242"}
        )

    def _attempt(self, payment: Payment) -> bool:
        payment.attempts += 1
        headers = {"Content-Type": "application/json", "Idempotency-Key": payment.key}
        try:
            response = self.api.request("POST", self.api.url("/payments"), body=self._body(), headers=headers)
        except Exception as error:  # whatever stops a request (refused, timed out), a customer sees a failure
            payment.last_failure = f"{type(error).__name__}: {str(error)[:80]}"
            return False
        if response.status != 201:
            payment.last_failure = _describe(response)
            return False
        answer = response.json()
        with self.lock:
            payment.answer = answer if isinstance(answer, dict) else {}
            payment.answered_by = response.role
            payment.acknowledged_at = time.monotonic()
        return True

    def _run(self) -> None:
        while not self.stopping.is_set():
            payment = Payment(key=f"drill-{uuid.uuid4().hex}", first_sent=time.monotonic())
            with self.lock:
                self.payments.append(payment)
            while not self.stopping.is_set() and not self._attempt(payment):
                self.stopping.wait(RETRY_SECONDS)
            self.stopping.wait(PAUSE_SECONDS)
