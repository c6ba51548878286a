"""The project's emulator launcher makes DynamoDB conditional writes atomic, as on AWS.

Plain moto serves requests on parallel threads without item locks; two
concurrent conditional PutItems on one key can both succeed there. Terraform's
state lock and the payment idempotency write both rely on that condition.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from config.settings import LocalTarget
from harness.platform import free_port
from ops.local import emulator

ROUNDS, WRITERS = 25, 16


@pytest.fixture(scope="module")
def local() -> Iterator[LocalTarget]:
    target = LocalTarget(host="127.0.0.1", port=free_port())
    emulator.up(target)
    yield target
    emulator.down(target)


@pytest.fixture(scope="module")
def endpoint(local: LocalTarget) -> str:
    return local.endpoint


def dynamodb(endpoint: str) -> Any:
    return boto3.client(
        "dynamodb", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="t", aws_secret_access_key="t"
    )


def race_one_key(clients: list, key: str) -> int:
    """All writers put the same new key at once; returns how many were told they won."""
    wins: list[int] = []
    barrier = threading.Barrier(len(clients))

    def put(client, writer: int) -> None:
        barrier.wait()
        try:
            client.put_item(
                TableName="race",
                Item={"k": {"S": key}, "writer": {"N": str(writer)}},
                ConditionExpression="attribute_not_exists(k)",
            )
            wins.append(writer)
        except client.exceptions.ConditionalCheckFailedException:
            pass

    threads = [threading.Thread(target=put, args=(c, i)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(wins)


def test_exactly_one_concurrent_conditional_write_wins(endpoint: str) -> None:
    dynamodb(endpoint).create_table(
        TableName="race",
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    clients = [dynamodb(endpoint) for _ in range(WRITERS)]
    assert [race_one_key(clients, f"round-{n}") for n in range(ROUNDS)] == [1] * ROUNDS


def test_a_retried_lock_write_gets_its_first_answer_not_a_lost_condition(local: LocalTarget) -> None:
    """What Terraform's SDK does when the answer to its lock PutItem is lost: the same invocation, attempt 2."""
    client = dynamodb(local.endpoint)
    client.create_table(
        TableName="locks",
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    attempt = {"n": 1}

    def as_one_invocation(request: Any, **_: Any) -> None:
        request.headers["amz-sdk-invocation-id"] = "lost-answer-0001"
        request.headers["amz-sdk-request"] = f"attempt={attempt['n']}; max=5"

    client.meta.events.register_last("before-send.dynamodb.PutItem", as_one_invocation)
    lock = {"LockID": {"S": "bucket/stack.tfstate"}, "Info": {"S": "{}"}}
    client.put_item(TableName="locks", Item=lock, ConditionExpression="attribute_not_exists(LockID)")
    attempt["n"] = 2
    client.put_item(TableName="locks", Item=lock, ConditionExpression="attribute_not_exists(LockID)")

    attempt["n"] = 1
    client.meta.events.unregister("before-send.dynamodb.PutItem", as_one_invocation)
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        client.put_item(TableName="locks", Item=lock, ConditionExpression="attribute_not_exists(LockID)")
    replays = [line for line in emulator.log_file(local).read_text().splitlines() if "retried" in line]
    assert replays == ["DynamoDB PutItem retried (attempt 2, invocation lost-answer-0001): replayed attempt 1's 200 OK"]
