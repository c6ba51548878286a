"""The local runner keeps SDK clients across the resets before each in-process call, each only under the environment
it was made in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.config import Config

from lambda_src.common import per_container
from ops.ledger.local_lambda import KeptClients, environment

CONFIG = Config(connect_timeout=2, read_timeout=5)
EMULATOR = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
}


@pytest.fixture
def pooled() -> Iterator[KeptClients]:
    pool = KeptClients()
    per_container.CLIENT_POOL = pool
    try:
        yield pool
    finally:
        per_container.CLIENT_POOL = None


def test_a_reset_container_gets_the_client_made_under_the_same_environment(pooled: KeptClients) -> None:
    clients = per_container.Clients(CONFIG)
    with environment(EMULATOR):
        first = clients.get("sqs", "us-east-1")
        clients.reset()  # the next in-process call's cold start
        assert clients.get("sqs", "us-east-1") is first
        assert clients.get("sqs", "us-west-2") is not first
        assert per_container.Clients(Config(connect_timeout=9)).get("sqs", "us-east-1") is not first
    with environment({**EMULATOR, "AWS_ENDPOINT_URL": "http://127.0.0.1:2"}):
        clients.reset()
        moved = clients.get("sqs", "us-east-1")
        assert moved is not first
        assert moved.meta.endpoint_url == "http://127.0.0.1:2"
    with environment({**EMULATOR, "AWS_SECRET_ACCESS_KEY": "rotated"}):
        clients.reset()
        assert clients.get("sqs", "us-east-1") not in (first, moved)


def test_without_a_pool_each_container_makes_its_own_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(per_container, "CLIENT_POOL", None)  # as on Lambda
    clients = per_container.Clients(CONFIG)
    with environment(EMULATOR):
        first = clients.get("sqs", "us-east-1")
        assert clients.get("sqs", "us-east-1") is first
        clients.reset()
        assert clients.get("sqs", "us-east-1") is not first
