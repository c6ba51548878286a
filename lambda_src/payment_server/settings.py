"""The server's settings, from its environment (the launch template's environment file, or the local stand-in's).

    PROCESSOR_BIND         address to listen on (default 0.0.0.0)
    PROCESSOR_PORT         port (default 8080: the target group's port)
    PROCESSOR_HEALTH_PATH  the target group's health check path, no key (default /health)
    API_BASE_PATH          the base path every API route sits under, as on the custom domain (default v1)
    API_KEY_SECRET_NAME    the API key secret ({"keys": {id: value}, "current": id}); required
    REGION                 this region (falls back to AWS_REGION); required
Everything else (PAYMENTS_TABLE, LEDGER_*, ...) is the payment processor's and the health check's own contract.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_BIND = "0.0.0.0"  # noqa: S104 -- an instance serves the load balancer on its private address
DEFAULT_PORT = 8080
DEFAULT_HEALTH_PATH = "/health"
DEFAULT_BASE_PATH = "v1"


class SettingsError(ValueError):
    """The environment cannot run the server; the message names the variable and the fix."""


@dataclass(frozen=True)
class ServerSettings:
    bind: str
    port: int
    health_path: str
    base_path: str
    api_key_secret_name: str
    region: str


def _port(raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SettingsError(f"PROCESSOR_PORT={raw!r}: set a port number from 1 to 65535")
    return int(raw)


def load_settings(environ: Mapping[str, str] | None = None) -> ServerSettings:
    env = os.environ if environ is None else environ
    health_path = env.get("PROCESSOR_HEALTH_PATH", "").strip() or DEFAULT_HEALTH_PATH
    if not health_path.startswith("/") or health_path == "/":
        raise SettingsError(f"PROCESSOR_HEALTH_PATH={health_path!r}: set a path such as {DEFAULT_HEALTH_PATH}")
    base_path = env.get("API_BASE_PATH", "").strip().strip("/") or DEFAULT_BASE_PATH
    if "/" in base_path:
        raise SettingsError(f"API_BASE_PATH={base_path!r}: set one path segment such as {DEFAULT_BASE_PATH}")
    secret_name = env.get("API_KEY_SECRET_NAME", "").strip()
    if not secret_name:
        raise SettingsError("API_KEY_SECRET_NAME is not set: set it to the name of the region's API key secret")
    region = env.get("REGION", "").strip() or env.get("AWS_REGION", "").strip()
    if not region:
        raise SettingsError("REGION is not set: set it (or AWS_REGION) to this deployment's region")
    return ServerSettings(
        bind=env.get("PROCESSOR_BIND", "").strip() or DEFAULT_BIND,
        port=_port(env.get("PROCESSOR_PORT", "").strip() or str(DEFAULT_PORT)),
        health_path=health_path,
        base_path=base_path,
        api_key_secret_name=secret_name,
        region=region,
    )
