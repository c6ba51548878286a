"""Migrations on a real PostgreSQL 15: in order, recorded, idempotent, one runner at a time, tamper-evident."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pg8000.native
import pytest

from lambda_src.ledger import migrate
from lambda_src.ledger.migrate import LOCK_KEY, MIGRATIONS_DIR, MigrationError
from tests.unit.conftest import APP_ROLE, LedgerDatabase


def _versions(conn: Any) -> list[int]:
    return [row.version for row in migrate.applied(conn)]


def _copy_migrations(tmp_path: Path) -> Path:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    return directory


def test_apply_runs_every_migration_once_and_records_it(ledger_database: LedgerDatabase) -> None:
    conn = ledger_database.connect()
    first = migrate.apply(conn, writer_role=APP_ROLE)
    files = migrate.available()
    assert [(row.version, row.name, row.checksum) for row in first] == [(m.version, m.name, m.checksum) for m in files]
    assert migrate.apply(conn, writer_role=APP_ROLE) == [], "re-running is a no-op"
    assert _versions(conn) == [m.version for m in files]
    assert migrate.last_applied(conn) == first[-1]
    assert conn.run("SELECT rolcanlogin FROM pg_roles WHERE rolname = :r", r=APP_ROLE) == [[True]]


def test_two_concurrent_runners_apply_once(ledger_database: LedgerDatabase) -> None:
    """Both runners start while a third session holds the lock; released, one applies, the other finds nothing."""
    holder = ledger_database.connect()
    holder.run("SELECT pg_advisory_lock(:key)", key=LOCK_KEY)
    results: dict[int, Any] = {}

    def run(index: int) -> None:
        try:
            results[index] = migrate.apply(ledger_database.connect(), writer_role=APP_ROLE)
        except Exception as error:  # reported by the assertion below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in (1, 2)]
    for thread in threads:
        thread.start()
    waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    deadline = time.monotonic() + 20
    while holder.run(waiting)[0][0] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert holder.run(waiting)[0][0] == 2, "both runners wait for the lock"
    holder.run("SELECT pg_advisory_unlock(:key)", key=LOCK_KEY)
    for thread in threads:
        thread.join(30)
    outcomes = sorted(len(result) if isinstance(result, list) else repr(result) for result in results.values())
    assert outcomes == [0, len(migrate.available())], results
    assert _versions(holder) == [m.version for m in migrate.available()]
    assert holder.run("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == [[0]], "the lock is released"


def test_a_held_lock_times_out_with_a_clear_error(ledger_database: LedgerDatabase) -> None:
    holder = ledger_database.connect()
    holder.run("SELECT pg_advisory_lock(:key)", key=LOCK_KEY)
    conn = ledger_database.connect()
    with pytest.raises(MigrationError, match="another migration runner held the ledger's advisory lock"):
        migrate.apply(conn, writer_role=APP_ROLE, lock_timeout_seconds=0.2)
    assert _versions(conn) == []
    assert conn.run("SHOW lock_timeout") == [["0"]], "the session's lock timeout is restored"


def test_a_changed_applied_migration_is_a_clear_error(ledger_database: LedgerDatabase, tmp_path: Path) -> None:
    directory = _copy_migrations(tmp_path)
    conn = ledger_database.connect()
    migrate.apply(conn, writer_role=APP_ROLE, directory=directory)
    edited = directory / "0001_ledger.sql"
    edited.write_text(edited.read_text() + "\n-- an edit after the fact\n")
    with pytest.raises(MigrationError, match=r"0001_ledger\.sql was changed after it was applied .* new migration"):
        migrate.apply(conn, writer_role=APP_ROLE, directory=directory)


def test_a_recorded_migration_the_code_lacks_is_a_clear_error(ledger_database: LedgerDatabase, tmp_path: Path) -> None:
    directory = _copy_migrations(tmp_path)
    (directory / "0002_extra.sql").write_text("CREATE TABLE extra (id int);\n")
    conn = ledger_database.connect()
    migrate.apply(conn, writer_role=APP_ROLE, directory=directory)
    (directory / "0002_extra.sql").unlink()
    with pytest.raises(MigrationError, match=r"has migration 2 \(extra\) that this code does not have"):
        migrate.apply(conn, writer_role=APP_ROLE, directory=directory)


def test_a_failing_migration_rolls_back_alone_and_releases_the_lock(
    ledger_database: LedgerDatabase, tmp_path: Path
) -> None:
    directory = _copy_migrations(tmp_path)
    (directory / "0002_broken.sql").write_text("CREATE TABLE half_done (id int);\nSELECT 1 / 0;\n")
    conn = ledger_database.connect()
    with pytest.raises(pg8000.native.DatabaseError):
        migrate.apply(conn, writer_role=APP_ROLE, directory=directory)
    assert _versions(conn) == [1], "the first committed; the broken one left no record"
    assert conn.run("SELECT to_regclass('half_done')") == [[None]], "and none of its statements"
    assert conn.run("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == [[0]]
    (directory / "0002_broken.sql").write_text("CREATE TABLE half_done (id int);\n")
    assert [row.version for row in migrate.apply(conn, writer_role=APP_ROLE, directory=directory)] == [2]


def test_migrations_apply_in_version_order(ledger_database: LedgerDatabase, tmp_path: Path) -> None:
    directory = _copy_migrations(tmp_path)
    (directory / "0010_later.sql").write_text("ALTER TABLE early ADD COLUMN note text;\n")
    (directory / "0002_early.sql").write_text("CREATE TABLE early (id int);\n")
    applied = migrate.apply(ledger_database.connect(), writer_role=APP_ROLE, directory=directory)
    assert [row.version for row in applied] == [1, 2, 10]


@pytest.mark.parametrize("name", ["0003-dash.sql", "three_x.sql", "0003_Upper.sql"])
def test_a_misnamed_file_is_refused(tmp_path: Path, name: str) -> None:
    directory = _copy_migrations(tmp_path)
    (directory / name).write_text("SELECT 1;\n")
    with pytest.raises(MigrationError, match=rf"{name}: a migration is named <version>_<name>\.sql"):
        migrate.available(directory)


def test_the_role_name_is_quoted_not_interpolated(ledger_database: LedgerDatabase) -> None:
    """A name with quotes and spaces becomes exactly that role: nothing of it runs as SQL."""
    role = "ledger app\"; DROP TABLE x; --'s"
    conn = ledger_database.connect()
    migrate.apply(conn, writer_role=role)
    assert conn.run("SELECT count(*) FROM pg_roles WHERE rolname = :r", r=role) == [[1]]
    grants = conn.run(
        "SELECT privilege_type FROM information_schema.role_table_grants "
        "WHERE grantee = :r AND table_name = 'payments' ORDER BY 1",
        r=role,
    )
    assert grants == [["INSERT"], ["SELECT"]]  # the role stays on the throwaway server (roles are cluster-wide)


@pytest.mark.parametrize("role", ["", "x" * 64, "nul\x00"])
def test_an_invalid_role_name_is_refused_before_anything_runs(ledger_database: LedgerDatabase, role: str) -> None:
    conn = ledger_database.connect()
    with pytest.raises(MigrationError, match=r"role name .* is invalid"):
        migrate.apply(conn, writer_role=role)
    assert conn.run("SELECT to_regclass('schema_migrations')") == [[None]]
