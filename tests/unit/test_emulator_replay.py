"""The emulator answers a retried DynamoDB write with its first answer instead of executing it again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ops.local.serialize import serialize_dynamodb


class ConditionalTable:
    """A stand-in WSGI app: the first PutItem of a key wins (200), any later one fails (400)."""

    def __init__(self) -> None:
        self.executed = 0
        self.held = False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.executed += 1
        if self.held:
            start_response("400 Bad Request", [("x-amz-crc32", "1")])
            return [b'{"__type": "ConditionalCheckFailedException"}']
        self.held = True
        start_response("200 OK", [("x-amz-crc32", "2")])
        return [b"{}"]


def call(app: Callable[..., Any], *, target: str, invocation: str = "", attempt: int = 1) -> tuple[str, bytes]:
    environ = {"HTTP_X_AMZ_TARGET": target, "HTTP_AMZ_SDK_REQUEST": f"attempt={attempt}; max=5"}
    if invocation:
        environ["HTTP_AMZ_SDK_INVOCATION_ID"] = invocation
    seen: list[str] = []
    body = b"".join(app(environ, lambda status, headers, exc_info=None: seen.append(status)))
    return seen[0], body


def test_a_retried_conditional_put_gets_the_first_attempts_answer() -> None:
    table, lines = ConditionalTable(), []
    app = serialize_dynamodb(table, log=lines.append)
    assert call(app, target="DynamoDB_20120810.PutItem", invocation="i-1") == ("200 OK", b"{}")
    assert call(app, target="DynamoDB_20120810.PutItem", invocation="i-1", attempt=2) == ("200 OK", b"{}")
    assert table.executed == 1
    assert lines == ["DynamoDB PutItem retried (attempt 2, invocation i-1): replayed attempt 1's 200 OK"]


def test_a_new_invocation_is_executed_and_loses_the_condition() -> None:
    table = ConditionalTable()
    app = serialize_dynamodb(table, log=lambda _: None)
    call(app, target="DynamoDB_20120810.PutItem", invocation="i-1")
    assert call(app, target="DynamoDB_20120810.PutItem", invocation="i-2")[0] == "400 Bad Request"
    assert table.executed == 2


def test_a_failed_first_attempt_is_executed_again() -> None:
    table = ConditionalTable()
    table.held = True
    app = serialize_dynamodb(table, log=lambda _: None)
    call(app, target="DynamoDB_20120810.PutItem", invocation="i-1")
    table.held = False
    assert call(app, target="DynamoDB_20120810.PutItem", invocation="i-1", attempt=2)[0] == "200 OK"
    assert table.executed == 2


def test_reads_and_requests_without_an_invocation_id_are_never_replayed() -> None:
    table, lines = ConditionalTable(), []
    app = serialize_dynamodb(table, log=lines.append)
    call(app, target="DynamoDB_20120810.GetItem", invocation="r-1")
    call(app, target="DynamoDB_20120810.GetItem", invocation="r-1", attempt=2)
    call(app, target="DynamoDB_20120810.PutItem")
    call(app, target="DynamoDB_20120810.PutItem", attempt=2)
    assert table.executed == 4
    assert lines == [
        "DynamoDB GetItem retried (attempt 2, invocation r-1): executed",
        "DynamoDB PutItem retried (attempt 2, invocation -): executed",
    ]


def test_other_services_pass_straight_through() -> None:
    table = ConditionalTable()
    app = serialize_dynamodb(table, log=lambda _: None)
    call(app, target="AmazonSQS.SendMessage", invocation="q-1")
    call(app, target="AmazonSQS.SendMessage", invocation="q-1", attempt=2)
    assert table.executed == 2
