"""Writer discovery against real servers: a refusing port and a hot standby are skipped, the writer chosen."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pg8000.native
import pytest

from lambda_src.ledger import connection
from lambda_src.ledger.config import ConfigError, LedgerSettings, load_settings
from lambda_src.ledger.connection import WriterNotFound, find_writer, is_connection_lost, signing_region
from ops.local import postgres
from tests.support import write_ca_bundle

DEAD = ("127.0.0.1", 1)  # nothing listens on port 1: connection refused


def _superuser(host: str, port: int) -> Any:
    return pg8000.native.Connection(postgres.SERVER_USER, host=host, port=port, timeout=10)


def _port(instance: postgres.Instance) -> tuple[str, int]:
    return (instance.host, instance.port)


def test_the_first_candidate_that_is_a_writer_is_chosen(postgres_server: postgres.Instance) -> None:
    conn, host, port = find_writer([DEAD, _port(postgres_server)], _superuser)
    try:
        assert (host, port) == _port(postgres_server)
        assert conn.run("SELECT pg_is_in_recovery()") == [[False]]
    finally:
        conn.close()


def test_a_standby_is_skipped_for_the_writer_behind_it(
    postgres_server: postgres.Instance, postgres_standby: postgres.Instance
) -> None:
    candidates = [_port(postgres_standby), DEAD, _port(postgres_server)]
    conn, host, port = find_writer(candidates, _superuser)
    conn.close()
    assert (host, port) == _port(postgres_server)


def test_no_writer_says_what_each_candidate_did(postgres_standby: postgres.Instance) -> None:
    with pytest.raises(WriterNotFound) as missing:
        find_writer([DEAD, _port(postgres_standby)], _superuser)
    assert str(missing.value) == (
        f"no ledger writer among the candidates: 127.0.0.1:1 did not connect (InterfaceError); "
        f"127.0.0.1:{postgres_standby.port} is in recovery (a standby)"
    )


def test_no_candidates_at_all_is_an_error() -> None:
    with pytest.raises(WriterNotFound, match="none given"):
        find_writer([], _superuser)


def test_connection_errors_are_told_from_query_errors(postgres_server: postgres.Instance) -> None:
    conn = _superuser(*_port(postgres_server))
    try:
        with pytest.raises(pg8000.native.DatabaseError) as division:
            conn.run("SELECT 1 / 0")
        assert not is_connection_lost(division.value), "a query error keeps the connection"
        with pytest.raises(pg8000.native.DatabaseError) as read_only:
            conn.run("BEGIN READ ONLY; CREATE TABLE demoted (x int)")
        assert is_connection_lost(read_only.value), "a read-only writer (demoted by a switchover) is dropped"
        conn.run("ROLLBACK")
    finally:
        conn.close()
    assert is_connection_lost(ConnectionResetError())
    assert is_connection_lost(pg8000.native.InterfaceError("network error"))


def test_settings_list_every_problem() -> None:
    with pytest.raises(ConfigError) as invalid:
        load_settings({"LEDGER_WRITER_HOSTS": "db:5432,nohost,db2:99999", "LEDGER_TLS": "require"})
    assert str(invalid.value) == (
        "LEDGER_WRITER_HOSTS entry 'nohost' is not host:port (e.g. db.example.com:5432); "
        "LEDGER_WRITER_HOSTS entry 'db2:99999' is not host:port (e.g. db.example.com:5432); "
        "LEDGER_TLS must be one of verify-full, disable; REGION (or AWS_REGION) is not set; "
        "LEDGER_DATABASE is not set; LEDGER_USER is not set"
    )


def test_settings_keep_the_candidates_in_order() -> None:
    settings = load_settings(
        {
            "LEDGER_WRITER_HOSTS": " 127.0.0.1:5433 , 127.0.0.1:5434",
            "LEDGER_DATABASE": "payments",
            "LEDGER_USER": "ledger_app",
            "LEDGER_TLS": "disable",
            "AWS_REGION": "us-east-1",
        }
    )
    assert settings == LedgerSettings(
        (("127.0.0.1", 5433), ("127.0.0.1", 5434)), "payments", "ledger_app", "disable", "us-east-1"
    )


@pytest.mark.parametrize(
    ("host", "region"),
    [
        ("ledger.cluster-abc.eu-west-1.rds.amazonaws.com", "eu-west-1"),
        ("ledger.cluster-abc.us-east-1.rds.amazonaws.com", "us-east-1"),
        ("127.0.0.1", "ap-south-1"),
    ],
)
def test_the_token_is_signed_for_the_endpoints_region(host: str, region: str) -> None:
    assert signing_region(host, "ap-south-1") == region


def test_the_token_is_a_fresh_presigned_connect_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    connection.reset()
    settings = LedgerSettings((), "payments", "ledger_app", "verify-full", "us-east-1")
    host = "ledger.cluster-abc.eu-west-1.rds.amazonaws.com"
    token = connection.auth_token(settings, host, 5432)
    parts = urlsplit("https://" + token)
    query = parse_qs(parts.query)
    assert parts.netloc == f"{host}:5432"
    assert query["Action"] == ["connect"]
    assert query["DBUser"] == ["ledger_app"]
    assert "/eu-west-1/rds-db/aws4_request" in query["X-Amz-Credential"][0]
    connection.reset()


def test_verify_full_checks_the_certificate_and_the_host_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(connection, "CA_BUNDLE", write_ca_bundle(tmp_path / "bundle.pem"))
    context = connection.ssl_context(LedgerSettings((), "d", "u", "verify-full", "us-east-1"))
    assert context is not None
    assert context.check_hostname is True
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert len(context.get_ca_certs()) == 1, "only the RDS bundle is trusted"
    assert connection.ssl_context(LedgerSettings((), "d", "u", "disable", "us-east-1")) is None


def test_verify_full_without_a_packaged_bundle_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(connection, "CA_BUNDLE", tmp_path / "absent.pem")
    expected = r"needs the RDS CA bundle at absent\.pem in the archive: set data\.rds_ca_bundle"
    with pytest.raises(ConfigError, match=expected):
        connection.ssl_context(LedgerSettings((), "d", "u", "verify-full", "us-east-1"))
