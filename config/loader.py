"""Load one environment's settings: TOML defaults, then `.env`, then the process environment.

Precedence (last wins): ``config/environments/<env>.toml`` < ``.env`` < real
environment variables. The environment itself is chosen by ``PAYMENTS_ENV``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from config.schema import FIELDS, FIELDS_BY_PATH, KIND_NAMES, REQUIRED_TAGS
from config.settings import (
    AwsTarget,
    Compute,
    Data,
    Dns,
    LocalTarget,
    Migration,
    Network,
    Pipeline,
    Regions,
    Role,
    Settings,
    State,
)
from config.validation import ConfigError, validate

CONFIG_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = CONFIG_DIR.parent
ENVIRONMENTS_DIR = CONFIG_DIR / "environments"
ENV_SELECTOR = "PAYMENTS_ENV"
DOTENV_SELECTOR = "PAYMENTS_DOTENV"  # another .env file, or "none" to read none
TAG_PREFIX = "PAYMENTS_TAGS_"
# Forces the state copy ops uses (`State.home`); unset, `ops.state.home` probes the primary home and chooses.
STATE_HOME_SELECTOR = "PAYMENTS_STATE_HOME"
# Keys that steer tooling rather than the infrastructure; accepted, never validated here.
TOOLING_KEYS = frozenset(
    {
        ENV_SELECTOR,
        DOTENV_SELECTOR,
        "PAYMENTS_OUTDIR",
        "PAYMENTS_OUTPUTS_DIR",
        "PAYMENTS_PARALLELISM",
        "PAYMENTS_OUTPUTS_FILE",
        "PAYMENTS_STOCK_PROVIDER_IMPORT",
        STATE_HOME_SELECTOR,
    }
)


def available_environments() -> list[str]:
    return sorted(p.stem for p in ENVIRONMENTS_DIR.glob("*.toml"))


def read_overrides(dotenv_path: Path | None, environ: Mapping[str, str]) -> dict[str, str]:
    """`PAYMENTS_*` keys from `.env` overlaid by the process environment."""
    merged: dict[str, str] = {}
    if dotenv_path is not None and dotenv_path.is_file():
        merged.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    merged.update(environ)
    return {k: v for k, v in merged.items() if k.startswith("PAYMENTS_")}


def _chosen_dotenv(chosen: str) -> Path:
    """The file PAYMENTS_DOTENV names; naming none is an error (only the default `.env` may be absent)."""
    path = Path(chosen)
    if not path.is_file():
        raise ConfigError(
            [
                f"{DOTENV_SELECTOR}={chosen!r} names no file ({path.absolute()} does not exist or is not a file); "
                f"fix the path, or set {DOTENV_SELECTOR}=none to read no .env file"
            ]
        )
    return path


def load_settings(
    environment: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    dotenv_path: Path | None = PROJECT_ROOT / ".env",
) -> Settings:
    """Return validated settings, or raise ConfigError with one line per bad field."""
    overrides = _overrides(environ, dotenv_path)
    env_name = environment or overrides.get(ENV_SELECTOR, "dev")
    known = available_environments()
    if env_name not in known:
        raise ConfigError([f"{ENV_SELECTOR}={env_name!r} is not a known environment; use one of: {', '.join(known)}"])
    with (ENVIRONMENTS_DIR / f"{env_name}.toml").open("rb") as fh:
        raw: dict[str, Any] = tomllib.load(fh)
    errors = _apply_overrides(raw, overrides)
    errors += validate(raw, env_name)
    if errors:
        raise ConfigError(errors)
    settings = _build(raw)
    home = _state_home(overrides)
    return settings if home is None else replace(settings, state=replace(settings.state, home=home))


def _overrides(environ: Mapping[str, str] | None, dotenv_path: Path | None) -> dict[str, str]:
    source = os.environ if environ is None else environ
    chosen = source.get(DOTENV_SELECTOR)
    if chosen:
        dotenv_path = None if chosen == "none" else _chosen_dotenv(chosen)
    return read_overrides(dotenv_path, source)


def _state_home(overrides: Mapping[str, str]) -> Role | None:
    value = overrides.get(STATE_HOME_SELECTOR)
    if not value:
        return None
    if value not in ("primary", "secondary"):
        raise ConfigError(
            [
                f"{STATE_HOME_SELECTOR}={value!r} is not a state home: set it to primary or secondary, "
                f"or unset it to let ops probe the primary home"
            ]
        )
    return "primary" if value == "primary" else "secondary"


def forced_state_home(
    environ: Mapping[str, str] | None = None, dotenv_path: Path | None = PROJECT_ROOT / ".env"
) -> Role | None:
    """The home PAYMENTS_STATE_HOME forces (process environment or `.env`), or None: ops probes and chooses."""
    return _state_home(_overrides(environ, dotenv_path))


def _apply_overrides(raw: dict[str, Any], overrides: Mapping[str, str]) -> list[str]:
    by_env_key = {f.env_key: f for f in FIELDS}
    errors: list[str] = []
    for key, value in sorted(overrides.items()):
        if key in TOOLING_KEYS:
            continue
        if key.startswith(TAG_PREFIX):
            tag = key[len(TAG_PREFIX) :]
            existing = {t.upper(): t for t in raw.setdefault("tags", {})}
            raw["tags"][existing.get(tag.upper(), tag)] = value
            continue
        spec = by_env_key.get(key)
        if spec is None:
            errors.append(f"{key} is not a known setting; see .env.example for the keys")
            continue
        section, _, name = spec.path.rpartition(".")
        target = raw.setdefault(section, {}) if section else raw
        try:
            target[name] = _coerce(value, spec.kind)
        except ValueError:
            errors.append(f"{spec.path}={value!r} (from {key}) must be {KIND_NAMES[spec.kind]}; fix {key}")
    return errors


def _coerce(value: str, kind: type) -> object:
    if kind is bool:
        lowered = value.strip().lower()
        if lowered not in {"true", "false", "1", "0", "yes", "no"}:
            raise ValueError(value)
        return lowered in {"true", "1", "yes"}
    if kind is int:
        return int(value)
    if kind is tuple:
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _section(raw: Mapping[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in raw.get(name, {}).items() if f"{name}.{k}" in FIELDS_BY_PATH}


def _with_tuples(section: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in section.items()}


def _build(raw: dict[str, Any]) -> Settings:
    project, suffix = raw["project"], raw["environment_suffix"]
    aws = AwsTarget(**_section(raw, "aws"))
    state_raw = _section(raw, "state")
    account_part = f"-{aws.account_id}" if raw["target"] == "aws" and aws.account_id else ""
    state = State(
        bucket=state_raw.get("bucket") or f"{project}-{suffix}-tfstate{account_part}",
        lock_table=state_raw.get("lock_table") or f"{project}-{suffix}-tflock",
        lock_timeout_seconds=state_raw["lock_timeout_seconds"],
    )
    compute_raw = _section(raw, "compute")
    compute_raw["allowed_currencies"] = tuple(compute_raw["allowed_currencies"])
    return Settings(
        project=project,
        environment=raw["environment"],
        environment_suffix=suffix,
        target=raw["target"],
        regions=Regions(**_section(raw, "regions")),
        network=Network(**_with_tuples(_section(raw, "network"))),
        tags={k: str(v) for k, v in raw.get("tags", {}).items()},
        local=LocalTarget(**_section(raw, "local")),
        aws=aws,
        state=state,
        data=Data(**_section(raw, "data")),
        compute=Compute(**compute_raw),
        dns=Dns(**_section(raw, "dns")),
        migration=Migration(**_section(raw, "migration")),
        pipeline=Pipeline(**_section(raw, "pipeline")),
    )


__all__ = ["REQUIRED_TAGS", "ConfigError", "available_environments", "forced_state_home", "load_settings"]
