"""Local PostgreSQL 15 standing in for each region's Aurora cluster (gap `rds-engine` in shared/local_target.py).

The emulator has RDS control-plane resources but no database engine, so `make local-up` (and every deploy on the
local target) also runs two real PostgreSQL instances on loopback: the primary region's cluster on
`local.port + 1` and a streaming-replication hot standby (`pg_basebackup -R`) for the secondary region's on
`local.port + 2` (`LocalTarget.postgres_port`). Data lives under `.local/postgres/<emulator port>/`, and goes
with `make local-down`, like everything the emulator holds.

`make failover` / `failback` move the writer for real: `promote` the standby, then `rejoin_as_standby` turns the
old writer into the new writer's standby (`pg_rewind`, or a fresh base backup when a rewind is not possible).

PostgreSQL refuses to run as root: as root every server binary runs as the `postgres` user (`runuser`).
Authentication is `trust` on 127.0.0.1 only (gap `rds-iam-auth`) and there is no TLS (gap `rds-tls`).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pg8000.native

from config.settings import ROLES, LocalTarget, Role, other_role
from ops.core.errors import ToolError
from ops.core.paths import LOCAL_DIR
from shared.local_target import LOOPBACK as HOST  # the address the functions' LEDGER_WRITER_HOSTS name

MAJOR_VERSION = 15
DEFAULT_BINDIR = Path(f"/usr/lib/postgresql/{MAJOR_VERSION}/bin")
SERVER_USER = "postgres"  # the superuser the instances are initialised with, and the OS user they run as (as root)
START_TIMEOUT_SECONDS = 30
INSTALL_HINT = (
    f"PostgreSQL {MAJOR_VERSION} is not installed (no {DEFAULT_BINDIR}/postgres): install it with "
    f"`apt-get install -y postgresql-{MAJOR_VERSION}` (Debian/Ubuntu), or put its bin directory first on PATH"
)
# Settings both instances share (a base backup copies them to the standby): replication with hot-standby reads,
# wal_log_hints for pg_rewind, no Unix socket (loopback TCP only), and a log line per connection.
SERVER_SETTINGS: dict[str, str] = {
    "listen_addresses": f"'{HOST}'",
    "unix_socket_directories": "''",
    "wal_level": "replica",
    "max_wal_senders": "10",
    "hot_standby": "on",
    "wal_log_hints": "on",
    "wal_keep_size": "'128MB'",  # pg_rewind reads the old writer's WAL back to where the timelines diverged
    "max_connections": "200",
    "log_connections": "off",
    "fsync": "off",  # a local stand-in: speed over crash safety (the data goes with `make local-down` anyway)
    "full_page_writes": "on",  # pg_rewind needs it
}
HBA_LINES = (
    f"host all all {HOST}/32 trust",
    f"host replication all {HOST}/32 trust",
)


@dataclass(frozen=True)
class Instance:
    """One local PostgreSQL server: the stand-in for one region's Aurora cluster."""

    name: str
    port: int
    datadir: Path

    host = HOST
    user = SERVER_USER

    @property
    def log(self) -> Path:
        return self.datadir.parent / f"{self.name}.log"

    def conninfo(self, database: str = "postgres") -> str:
        return f"host={HOST} port={self.port} user={SERVER_USER} dbname={database}"


def bindir() -> Path:
    """The PostgreSQL 15 binaries: `pg_config --bindir` when that is version 15, else the Debian package's path."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--version", "--bindir"], capture_output=True, text=True, check=False)
        lines = result.stdout.split()
        if result.returncode == 0 and f"{MAJOR_VERSION}." in result.stdout and lines:
            candidate = Path(lines[-1])
            if (candidate / "postgres").exists():
                return candidate
    if (DEFAULT_BINDIR / "postgres").exists():
        return DEFAULT_BINDIR
    raise ToolError(INSTALL_HINT)


def root_dir(local: LocalTarget) -> Path:
    return LOCAL_DIR / "postgres" / str(local.port)


def instances(local: LocalTarget) -> dict[Role, Instance]:
    """Each region's instance; the name says which cluster it stands in for, not whether it is the writer."""
    root = root_dir(local)
    return {role: Instance(role, local.postgres_port(role), root / role) for role in ROLES}


def _as_server_user() -> list[str]:
    return ["runuser", "-u", SERVER_USER, "--"] if os.geteuid() == 0 else []


def _run(binary: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    command = [*_as_server_user(), str(bindir() / binary), *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise ToolError(f"{binary} failed (exit {result.returncode}): {detail[-1] if detail else 'no output'}")
    return result


def _server_owned(path: Path, mode: int) -> None:
    """Create `path` (and parents) owned by the server user (when running as root) with `mode`."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(path, user.pw_uid, user.pw_gid)
    path.chmod(mode)


def _owned_directory(path: Path) -> None:
    """A data directory: PostgreSQL refuses one that others may read (0700)."""
    _server_owned(path, 0o700)


def _shared_parent(path: Path) -> None:
    """The directory holding data directories and logs: the server user writes logs there."""
    _server_owned(path, 0o755)


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def is_running(instance: Instance) -> bool:
    if not (instance.datadir / "PG_VERSION").exists():
        return False
    return _run("pg_ctl", "status", "-D", str(instance.datadir), check=False).returncode == 0


def initdb(instance: Instance) -> None:
    """A new, empty cluster with the shared settings and loopback-only trust authentication."""
    _shared_parent(instance.datadir.parent)
    _owned_directory(instance.datadir)
    _run("initdb", "-D", str(instance.datadir), "-U", SERVER_USER, "--auth=trust", "--encoding=UTF8", "--no-locale")
    settings = "".join(f"{name} = {value}\n" for name, value in SERVER_SETTINGS.items())
    _append(instance.datadir / "postgresql.conf", f"\n# payments platform (ops/local/postgres.py)\n{settings}")
    (instance.datadir / "pg_hba.conf").write_text("\n".join(HBA_LINES) + "\n")


def _append(path: Path, text: str) -> None:
    with path.open("a") as handle:
        handle.write(text)


def start(instance: Instance) -> None:
    if is_running(instance):
        return
    if _port_taken(instance.port):
        raise ToolError(
            f"port {instance.port} on {HOST} is taken by another program: the local PostgreSQL instance "
            f"{instance.name!r} needs it; stop that program or set another local.port (PostgreSQL takes the two "
            "ports after it)"
        )
    _shared_parent(instance.datadir.parent)
    instance.log.touch()
    if os.geteuid() == 0:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(instance.log, user.pw_uid, user.pw_gid)  # written by the server, read by whoever runs ops
    _run(
        "pg_ctl",
        "start",
        "-D",
        str(instance.datadir),
        "-l",
        str(instance.log),
        "-w",
        "-t",
        str(START_TIMEOUT_SECONDS),
        "-o",
        f"-p {instance.port}",
    )


def stop(instance: Instance, mode: str = "fast") -> None:
    if is_running(instance):
        _run("pg_ctl", "stop", "-D", str(instance.datadir), "-m", mode, "-w", "-t", str(START_TIMEOUT_SECONDS))


def base_backup(standby: Instance, source: Instance) -> None:
    """Make `standby` a streaming replica of `source` from a fresh base backup (`-R` writes the standby config)."""
    stop(standby)
    if standby.datadir.exists():
        shutil.rmtree(standby.datadir)
    _owned_directory(standby.datadir)
    _run(
        "pg_basebackup",
        "-h",
        HOST,
        "-p",
        str(source.port),
        "-U",
        SERVER_USER,
        "-D",
        str(standby.datadir),
        "-R",
        "-X",
        "stream",
        "--checkpoint=fast",
    )


@contextmanager
def connect(instance: Instance, database: str = "postgres") -> Iterator[pg8000.native.Connection]:
    import pg8000.native  # noqa: PLC0415  # a tenth of a second: only the commands that talk to PostgreSQL pay it

    connection = pg8000.native.Connection(SERVER_USER, host=HOST, port=instance.port, database=database, timeout=10)
    try:
        yield connection
    finally:
        connection.close()


def query(instance: Instance, sql: str, database: str = "postgres", **params: Any) -> list[list[Any]]:
    with connect(instance, database) as connection:
        return list(connection.run(sql, **params) or [])


def in_recovery(instance: Instance) -> bool | None:
    """True on a standby, False on a writer, None when the instance does not answer."""
    import pg8000.native  # noqa: PLC0415  # see connect

    try:
        return bool(query(instance, "SELECT pg_is_in_recovery()")[0][0])
    except (pg8000.native.InterfaceError, pg8000.native.DatabaseError, OSError):
        return None


def writer(local: LocalTarget) -> Role | None:
    """The region whose instance accepts writes (exactly one, or None)."""
    writers = [role for role, instance in instances(local).items() if in_recovery(instance) is False]
    return writers[0] if len(writers) == 1 else None


def _identifier(name: str) -> str:
    import pg8000.native  # noqa: PLC0415  # see connect

    return str(pg8000.native.identifier(name))


def ensure_database(instance: Instance, database: str, owner: str) -> bool:
    """Create the master user and `database` owned by it on the writer, unless they exist: what an Aurora cluster
    creates from `master_username` and `database_name` (the master user may create roles, not a superuser)."""
    if query(instance, "SELECT 1 FROM pg_database WHERE datname = :name", name=database):
        return False
    with connect(instance) as connection:
        if not connection.run("SELECT 1 FROM pg_roles WHERE rolname = :name", name=owner):
            connection.run(f"CREATE ROLE {_identifier(owner)} LOGIN CREATEROLE")
        connection.run(f"CREATE DATABASE {_identifier(database)} OWNER {_identifier(owner)}")
    return True


def up(local: LocalTarget, database: str, master_user: str) -> list[str]:
    """Start both instances (creating them on first use): the primary region's writer and its hot standby."""
    bindir()
    found = instances(local)
    lines: list[str] = []
    existing = {role: (instance.datadir / "PG_VERSION").exists() for role, instance in found.items()}
    if not any(existing.values()):
        initdb(found["primary"])
        lines.append(f"postgres: created the primary region's instance in {found['primary'].datadir}")
    for role, instance in found.items():
        if existing[role] or (role == "primary" and not any(existing.values())):
            was_running = is_running(instance)
            start(instance)
            if not was_running:
                lines.append(f"postgres: {role} region's instance started on {HOST}:{instance.port}")
    current = writer(local)
    if current is None:
        raise ToolError(
            f"local PostgreSQL: no writer among {', '.join(str(i.port) for i in found.values())}; "
            "run `make local-down` and `make local-up` to start afresh (the local data goes)"
        )
    if ensure_database(found[current], database, master_user):
        lines.append(f"postgres: created database {database} (owner {master_user}) on the {current} region's instance")
    standby_role = other_role(current)
    standby = found[standby_role]
    if not existing[standby_role]:
        base_backup(standby, found[current])
        start(standby)
        lines.append(
            f"postgres: {standby.name} region's instance started on {HOST}:{standby.port} as a hot standby of "
            f"{HOST}:{found[current].port}"
        )
    if not lines:
        lines.append(
            f"postgres: running (writer: {current} region on {HOST}:{found[current].port}, "
            f"standby on {HOST}:{standby.port})"
        )
    return lines


def down(local: LocalTarget) -> list[str]:
    root = root_dir(local)
    if not root.exists():
        return []
    for instance in instances(local).values():
        stop(instance, mode="immediate")
    shutil.rmtree(root)
    return [f"postgres: both local instances stopped; {root} removed"]


def promote(instance: Instance) -> None:
    """Make a standby the writer (it stops replaying and starts a new timeline)."""
    _run("pg_ctl", "promote", "-D", str(instance.datadir), "-w", "-t", str(START_TIMEOUT_SECONDS))


def rejoin_as_standby(instance: Instance, source: Instance) -> str:
    """Turn a former writer into a hot standby of `source`: pg_rewind, else a fresh base backup. Says which."""
    stop(instance)
    with connect(source) as connection:
        connection.run("CHECKPOINT")  # pg_rewind reads the new timeline from the control file a checkpoint writes
    rewind = _run(
        "pg_rewind",
        f"--target-pgdata={instance.datadir}",
        f"--source-server={source.conninfo()}",
        "--write-recovery-conf",
        check=False,
    )
    how = "pg_rewind"
    if rewind.returncode != 0:
        base_backup(instance, source)
        how = "a fresh base backup (pg_rewind could not rewind it)"
    start(instance)
    return how


def wait_for_replay(standby: Instance, writer_instance: Instance, timeout: float = 10.0) -> float:
    """Seconds until the standby has replayed everything the writer had written when called."""
    target = query(writer_instance, "SELECT pg_current_wal_insert_lsn()::text")[0][0]
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        caught_up = query(standby, "SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)", lsn=target)[0][0]
        if caught_up:
            return time.monotonic() - began
        time.sleep(0.01)
    raise ToolError(f"the standby on port {standby.port} did not replay the writer's WAL within {timeout:.0f}s")


@dataclass(frozen=True)
class Replication:
    """What the writer says of its standby (pg_stat_replication) and the standby of itself."""

    state: str | None
    lag_bytes: int | None
    replay_lag_ms: float | None
    last_replay: str | None


def replication(writer_instance: Instance, standby: Instance) -> Replication:
    rows = query(
        writer_instance,
        "SELECT state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint, "
        "EXTRACT(EPOCH FROM replay_lag) * 1000 FROM pg_stat_replication WHERE client_port IS NOT NULL",
    )
    state, lag_bytes, replay_lag = (rows[0] if rows else [None, None, None])[:3]
    last = query(standby, "SELECT pg_last_xact_replay_timestamp()::text")[0][0] if is_running(standby) else None
    return Replication(
        state,
        None if lag_bytes is None else int(lag_bytes),
        None if replay_lag is None else float(replay_lag),
        last,
    )


def scratch(directory: Path, port: int, name: str = "scratch") -> Instance:
    """A throwaway started writer in `directory` (tests); stop it with `stop` and remove the directory."""
    instance = Instance(name, port, directory / name)
    initdb(instance)
    start(instance)
    return instance
