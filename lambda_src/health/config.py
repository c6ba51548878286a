"""Settings of the health check, read from the environment once per container.

Environment: PAYMENTS_TABLE, AUDIT_BUCKET, REGION (falls back to AWS_REGION), LOG_LEVEL (optional).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..common.per_container import Once


class ConfigError(RuntimeError):
    """The function's environment is incomplete (a deployment problem)."""


@dataclass(frozen=True)
class Settings:
    table_name: str
    audit_bucket: str
    region: str


def region_from(environ: Mapping[str, str]) -> str:
    return environ.get("REGION", "").strip() or environ.get("AWS_REGION", "").strip()


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    settings = Settings(
        table_name=env.get("PAYMENTS_TABLE", "").strip(),
        audit_bucket=env.get("AUDIT_BUCKET", "").strip(),
        region=region_from(env),
    )
    missing = [
        name
        for name, value in (
            ("PAYMENTS_TABLE", settings.table_name),
            ("AUDIT_BUCKET", settings.audit_bucket),
            ("REGION", settings.region),
        )
        if not value
    ]
    if missing:
        raise ConfigError("not set: " + ", ".join(missing))
    return settings


_settings = Once(load_settings)


def get_settings() -> Settings:
    """The container's settings, loaded on first use (a failed load is retried on the next call)."""
    return _settings.get()


def reset() -> None:
    _settings.reset()
