"""The local PostgreSQL pair that stands in for Aurora (ops/local/postgres.py), run for real on loopback ports."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import LocalTarget
from harness.platform import free_port
from ops.core.errors import ToolError
from ops.local import postgres

DATABASE = "payments"
MASTER = "payments_admin"


@pytest.fixture
def local() -> Iterator[LocalTarget]:
    target = LocalTarget("127.0.0.1", free_port(3))
    try:
        yield target
    finally:
        postgres.down(target)


def _count(instance: postgres.Instance) -> int:
    return int(postgres.query(instance, "SELECT count(*) FROM t", database=DATABASE)[0][0])


def test_up_starts_a_writer_and_a_streaming_hot_standby_and_is_idempotent(local: LocalTarget) -> None:
    lines = postgres.up(local, DATABASE, MASTER)
    assert any("hot standby" in line for line in lines), lines
    found = postgres.instances(local)
    assert [found[role].port for role in ("primary", "secondary")] == [local.port + 1, local.port + 2]
    assert postgres.writer(local) == "primary"
    assert postgres.in_recovery(found["secondary"]) is True
    owner = postgres.query(
        found["primary"], "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :d", d=DATABASE
    )
    assert owner == [[MASTER]]
    ports = (local.port + 1, local.port + 2)
    assert postgres.up(local, DATABASE, MASTER) == [
        f"postgres: running (writer: primary region on 127.0.0.1:{ports[0]}, standby on 127.0.0.1:{ports[1]})"
    ]

    postgres.query(found["primary"], "CREATE TABLE t (x int)", database=DATABASE)
    postgres.query(found["primary"], "INSERT INTO t VALUES (1)", database=DATABASE)
    postgres.wait_for_replay(found["secondary"], found["primary"])
    assert _count(found["secondary"]) == 1
    replication = postgres.replication(found["primary"], found["secondary"])
    assert replication.state == "streaming"
    assert replication.lag_bytes == 0
    with pytest.raises(Exception, match="read-only transaction"):
        postgres.query(found["secondary"], "INSERT INTO t VALUES (2)", database=DATABASE)


def test_promote_and_rejoin_move_the_writer_and_back_keeping_every_row(local: LocalTarget) -> None:
    postgres.up(local, DATABASE, MASTER)
    found = postgres.instances(local)
    postgres.query(found["primary"], "CREATE TABLE t (x int)", database=DATABASE)
    postgres.wait_for_replay(found["secondary"], found["primary"])

    postgres.promote(found["secondary"])
    assert postgres.rejoin_as_standby(found["primary"], found["secondary"]) == "pg_rewind"
    assert postgres.writer(local) == "secondary"
    postgres.query(found["secondary"], "INSERT INTO t VALUES (1)", database=DATABASE)
    postgres.wait_for_replay(found["primary"], found["secondary"])
    assert _count(found["primary"]) == 1

    postgres.promote(found["primary"])
    postgres.rejoin_as_standby(found["secondary"], found["primary"])
    assert postgres.writer(local) == "primary"
    assert postgres.in_recovery(found["secondary"]) is True
    assert postgres.up(local, DATABASE, MASTER)[0].startswith("postgres: running (writer: primary region")


def test_down_stops_both_and_removes_their_data(local: LocalTarget) -> None:
    postgres.up(local, DATABASE, MASTER)
    assert postgres.down(local) == [f"postgres: both local instances stopped; {postgres.root_dir(local)} removed"]
    assert not postgres.root_dir(local).exists()
    assert postgres.writer(local) is None
    assert postgres.down(local) == []


def test_a_taken_port_is_one_line_naming_it_and_the_setting(local: LocalTarget) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", local.port + 1))
        squatter.listen()
        with pytest.raises(ToolError, match=rf"port {local.port + 1} on 127.0.0.1 is taken .* local.port"):
            postgres.up(local, DATABASE, MASTER)


def test_missing_binaries_say_how_to_install_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(postgres, "DEFAULT_BINDIR", tmp_path / "absent")
    with pytest.raises(ToolError, match=r"apt-get install -y postgresql-15"):
        postgres.bindir()


def test_the_scratch_fixture_is_a_writer_and_its_standby_reads_only(
    postgres_server: postgres.Instance, postgres_standby: postgres.Instance
) -> None:
    assert postgres.in_recovery(postgres_server) is False
    assert postgres.in_recovery(postgres_standby) is True
