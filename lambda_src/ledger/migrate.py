"""Versioned SQL migrations, applied in order under an advisory lock and recorded in ``schema_migrations``.

Files: ``migrations/<version>_<name>.sql`` (version: digits). Each is a template whose ``{{writer_role}}``
(a quoted identifier) and ``{{writer_role_literal}}`` (a string literal) name the application role. The
checksum is taken over the template, so it does not change with the role.

``apply(conn, writer_role=...)`` takes the session-level advisory lock ``LOCK_KEY`` (waiting at most
``lock_timeout_seconds``), checks every recorded migration against its file, applies the missing ones
each in its own transaction (the SQL and its ``schema_migrations`` row commit together), and returns
what it applied: a second runner, or a re-run, finds nothing to do. ``conn`` is a ``pg8000.native``
connection in autocommit (no transaction open), as ``ledger.connection`` makes them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# pg_advisory_lock's key: any fixed bigint that nothing else uses; this one spells "ledger".
LOCK_KEY = 0x6C6564676572
_FILE_NAME = re.compile(r"(?P<version>\d+)_(?P<name>[a-z0-9_]+)\.sql")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_MAX_IDENTIFIER_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(RuntimeError):
    """The migrations cannot be applied as they are (changed, unknown, locked, or an invalid role)."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    checksum: str
    template: str

    @property
    def file_name(self) -> str:
        return f"{self.version:04d}_{self.name}.sql"


@dataclass(frozen=True)
class Applied:
    version: int
    name: str
    checksum: str
    applied_at: Any  # datetime from the database

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "name": self.name, "applied_at": str(self.applied_at)}


def available(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files, by version; a file named otherwise or a repeated version is an error."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.fullmatch(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: a migration is named <version>_<name>.sql (e.g. 0002_add_index.sql)")
        version = int(match["version"])
        if version in found:
            raise MigrationError(f"{path.name}: version {version} is also {found[version].file_name}")
        content = path.read_bytes()
        found[version] = Migration(version, match["name"], hashlib.sha256(content).hexdigest(), content.decode())
    return [found[v] for v in sorted(found)]


def versions(directory: Path = MIGRATIONS_DIR) -> list[int]:
    """The migration versions this code has, in order (the last is the schema it expects)."""
    return [migration.version for migration in available(directory)]


def quote_identifier(name: str) -> str:
    """``name`` as a PostgreSQL quoted identifier (embedded quotes doubled)."""
    if not name or "\x00" in name or len(name.encode()) > _MAX_IDENTIFIER_BYTES:
        raise MigrationError(f"role name {name!r} is invalid: use 1 to {_MAX_IDENTIFIER_BYTES} bytes, no NUL")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """``value`` as a standard-conforming string literal (embedded quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def render(migration: Migration, *, writer_role: str) -> str:
    """The migration's SQL for this application role; an unknown placeholder is an error."""
    values = {"writer_role": quote_identifier(writer_role), "writer_role_literal": quote_literal(writer_role)}

    def substitute(match: re.Match[str]) -> str:
        if match[1] not in values:
            raise MigrationError(f"{migration.file_name}: unknown placeholder {{{{{match[1]}}}}}")
        return values[match[1]]

    return _PLACEHOLDER.sub(substitute, migration.template)


def applied(conn: Any) -> list[Applied]:
    """What ``schema_migrations`` records, by version (empty before the first run)."""
    exists = conn.run("SELECT to_regclass('schema_migrations') IS NOT NULL")[0][0]
    if not exists:
        return []
    rows = conn.run("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
    return [Applied(int(v), str(n), str(c), at) for v, n, c, at in rows]


def last_applied(conn: Any) -> Applied | None:
    recorded = applied(conn)
    return recorded[-1] if recorded else None


def _check_recorded(recorded: list[Applied], migrations: list[Migration]) -> None:
    by_version = {m.version: m for m in migrations}
    for row in recorded:
        migration = by_version.get(row.version)
        if migration is None:
            raise MigrationError(
                f"the database has migration {row.version} ({row.name}) that this code does not have: "
                "deploy the code that added it"
            )
        if migration.checksum != row.checksum:
            raise MigrationError(
                f"{migration.file_name} was changed after it was applied (checksum {row.checksum[:12]} recorded, "
                f"{migration.checksum[:12]} now): restore it and put the change in a new migration"
            )


def _lock(conn: Any, timeout_seconds: float) -> None:
    conn.run(f"SET lock_timeout = {int(timeout_seconds * 1000)}")
    try:
        conn.run("SELECT pg_advisory_lock(:key)", key=LOCK_KEY)
    except Exception as error:
        raise MigrationError(
            f"another migration runner held the ledger's advisory lock ({LOCK_KEY}) for over {timeout_seconds} s: "
            "wait for it and run again"
        ) from error
    finally:
        conn.run("RESET lock_timeout")


def _apply_one(conn: Any, migration: Migration, writer_role: str) -> None:
    sql = render(migration, writer_role=writer_role)
    conn.run("BEGIN")
    try:
        conn.run(sql)
        conn.run(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (:version, :name, :checksum)",
            version=migration.version,
            name=migration.name,
            checksum=migration.checksum,
        )
        conn.run("COMMIT")
    except BaseException:
        conn.run("ROLLBACK")
        raise


def apply(
    conn: Any, *, writer_role: str, directory: Path = MIGRATIONS_DIR, lock_timeout_seconds: float = 60
) -> list[Applied]:
    """Apply every migration not yet recorded, in version order; return those applied (empty: up to date)."""
    migrations = available(directory)
    quote_identifier(writer_role)  # a bad role name fails before anything is locked or written
    _lock(conn, lock_timeout_seconds)
    try:
        conn.run(CREATE_TABLE)
        recorded = applied(conn)
        _check_recorded(recorded, migrations)
        done = {row.version for row in recorded}
        for migration in migrations:
            if migration.version not in done:
                _apply_one(conn, migration, writer_role)
        return [row for row in applied(conn) if row.version not in done]
    finally:
        conn.run("SELECT pg_advisory_unlock(:key)", key=LOCK_KEY)
