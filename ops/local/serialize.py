"""DynamoDB requests to the emulator applied one at a time, and a retried write answered as it was the first time.

moto serves every request on its own thread and does not lock items, so two
concurrent conditional PutItems on one key can both succeed (seen with
Terraform's state lock and the payment idempotency write). DynamoDB applies
each request atomically; serializing only DynamoDB calls restores that without
slowing the other services (SQS long polls, for one, must not block the rest).

A client that loses the answer to a write retries it under the same SDK
invocation id. Re-executing that retry turns a won conditional write into a lost
one: Terraform then waits out its lock timeout on the lock it took itself, and
leaves that lock behind. The retry therefore gets the first attempt's answer
again, as an idempotent server would give it, and the emulator log says so.
"""

from __future__ import annotations

import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

WRITE_ACTIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems", "ExecuteStatement"}
)
ANSWERS_KEPT = 4096
ATTEMPT = re.compile(r"attempt=(\d+)")


@dataclass(frozen=True)
class Answer:
    status: str
    headers: list[tuple[str, str]]
    body: list[bytes]


def _attempt(environ: dict[str, Any]) -> int:
    found = ATTEMPT.search(environ.get("HTTP_AMZ_SDK_REQUEST", ""))
    return int(found.group(1)) if found else 1


def serialize_dynamodb(app: WsgiApp, log: Callable[[str], None] | None = None) -> WsgiApp:
    lock = threading.Lock()
    answered: OrderedDict[str, Answer] = OrderedDict()
    say = log or (lambda line: print(line, file=sys.stderr, flush=True))

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB_"):
            return app(environ, start_response)
        action = target.rpartition(".")[2]
        invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID", "")
        attempt = _attempt(environ)
        with lock:
            earlier = answered.get(invocation) if invocation and attempt > 1 else None
            if attempt > 1:
                outcome = f"replayed attempt 1's {earlier.status}" if earlier else "executed"
                say(f"DynamoDB {action} retried (attempt {attempt}, invocation {invocation or '-'}): {outcome}")
            if earlier is not None:
                start_response(earlier.status, earlier.headers)
                return earlier.body
            seen: dict[str, Any] = {}

            def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                seen["status"], seen["headers"] = status, list(headers)
                return start_response(status, headers, exc_info)

            # Materialize the body inside the lock: the write happens while the response is produced.
            body = list(app(environ, capture))
            if invocation and action in WRITE_ACTIONS and str(seen.get("status", "")).startswith("2"):
                answered[invocation] = Answer(seen["status"], seen["headers"], body)
                while len(answered) > ANSWERS_KEPT:
                    answered.popitem(last=False)
            return body

    return middleware
