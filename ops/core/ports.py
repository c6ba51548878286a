"""Free loopback ports for a private local target (the integration suite's, and `make drill`'s)."""

from __future__ import annotations

import random
import socket
from pathlib import Path

EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_PORT = 10000


def _ephemeral_start() -> int:
    """Where the kernel's range of ports for outgoing connections starts (Linux's default when unreadable)."""
    try:
        return int(EPHEMERAL_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port(count: int = 1) -> int:
    """The first of `count` consecutive loopback ports free now, below the ephemeral range: a port the kernel
    hands out for outgoing connections (Terraform and boto3 open thousands) could be taken before a server
    binds it. A private emulator takes three: its own and its two PostgreSQL instances' (local.port + 1, + 2);
    four with fault injection (the emulator moves to local.port + 3 behind the fault proxy)."""
    top = _ephemeral_start() - count
    for _ in range(500):
        port = random.randrange(LOWEST_PORT, top)  # noqa: S311  # a port number, not a secret
        if all(_bindable(candidate) for candidate in range(port, port + count)):
            return port
    raise RuntimeError(f"no {count} consecutive free loopback ports between {LOWEST_PORT} and {top}")
