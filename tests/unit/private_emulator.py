"""A private emulator for unit tests that need real AWS API round trips (moto server on a free loopback port,
started and stopped by the project's own launcher)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from config import load_settings
from config.settings import Settings
from harness.platform import free_port
from ops.local import emulator


@contextmanager
def private_emulator() -> Iterator[Settings]:
    """Settings of the local target pointed at an emulator of its own, stopped afterwards."""
    settings = load_settings(environ={"PAYMENTS_DOTENV": "none", "PAYMENTS_LOCAL_PORT": str(free_port())})
    emulator.up(settings.local)
    try:
        yield settings
    finally:
        emulator.down(settings.local)
