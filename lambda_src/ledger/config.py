"""The ledger's settings, read from the environment (the contract the compute stack emits).

LEDGER_WRITER_HOSTS      comma-separated host:port candidates for the writer (aws: the Aurora global
                         writer endpoint; local: both local PostgreSQL instances, one a hot standby)
LEDGER_DATABASE          database name
LEDGER_USER              the application role; its password is an IAM auth token made per connection
LEDGER_TLS               verify-full (aws: the RDS CA bundle packaged at CA_BUNDLE, hostname checked)
                         or disable (local target only)
LEDGER_ADMIN_SECRET_ARN  ledger-admin only: Secrets Manager secret {"username", "password"} of the
                         master user (read by ``ledger.admin``, not here)
REGION                   this function's region; falls back to AWS_REGION
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

TLS_VERIFY_FULL = "verify-full"
TLS_DISABLE = "disable"
TLS_MODES = (TLS_VERIFY_FULL, TLS_DISABLE)
# Where the archive carries the RDS CA bundle (config data.rds_ca_bundle, copied in by the synth).
CA_BUNDLE = Path(__file__).resolve().parent / "rds-ca-bundle.pem"


class ConfigError(RuntimeError):
    """The function's environment is incomplete or invalid (a deployment problem, never the caller's)."""


@dataclass(frozen=True)
class LedgerSettings:
    writer_hosts: tuple[tuple[str, int], ...]
    database: str
    user: str
    tls: str
    region: str


def _hosts(raw: str, problems: list[str]) -> tuple[tuple[str, int], ...]:
    hosts: list[tuple[str, int]] = []
    for candidate in (c.strip() for c in raw.split(",") if c.strip()):
        host, _, port = candidate.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            problems.append(f"LEDGER_WRITER_HOSTS entry {candidate!r} is not host:port (e.g. db.example.com:5432)")
            continue
        hosts.append((host, int(port)))
    return tuple(hosts)


def load_settings(environ: Mapping[str, str] | None = None) -> LedgerSettings:
    """Build settings from ``environ`` (default ``os.environ``); raise ConfigError listing every problem."""
    env = os.environ if environ is None else environ
    problems: list[str] = []

    def required(name: str) -> str:
        value = env.get(name, "").strip()
        if not value:
            problems.append(f"{name} is not set")
        return value

    hosts = _hosts(required("LEDGER_WRITER_HOSTS"), problems)
    tls = required("LEDGER_TLS")
    if tls and tls not in TLS_MODES:
        problems.append(f"LEDGER_TLS must be one of {', '.join(TLS_MODES)}")
    region = env.get("REGION", "").strip() or env.get("AWS_REGION", "").strip()
    if not region:
        problems.append("REGION (or AWS_REGION) is not set")
    settings = LedgerSettings(hosts, required("LEDGER_DATABASE"), required("LEDGER_USER"), tls, region)
    if problems:
        raise ConfigError("; ".join(problems))
    return settings
