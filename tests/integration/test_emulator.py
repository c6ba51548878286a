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
from ops import emulator
from tests.integration.platform import free_port

ROUNDS, WRITERS = 25, 16


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    local = LocalTarget(host="127.0.0.1", port=free_port())
    emulator.up(local)
    yield local.endpoint
    emulator.down(local)


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
