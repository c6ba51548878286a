"""Ctrl-C and SIGTERM while Terraform runs: Terraform stops at a safe point, writes its state and releases the lock.

Killing `ops` used to kill Terraform with it: both sat in one process group, so Terraform got the signal, began
its graceful stop, wrote to the pipe of an `ops` already gone and died of SIGPIPE -- holding the state lock. Now
each Terraform runs in its own process group; the CLI's handler passes the first signal on as the interrupt
Terraform expects (graceful stop), a second one too (Terraform's immediate stop), keeps reading Terraform's
output until it exits, and starts no further Terraform run. With no Terraform running, a signal ends the command
at once, as it always did.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any

from ops.core.errors import OpsError

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Record:
    def __init__(self) -> None:
        self.guard = threading.RLock()  # re-entrant: the handler runs on the main thread, which may hold it
        self.running: set[subprocess.Popen[str]] = set()
        self.starting = 0  # children being started: a signal landing then must not orphan them
        self.received: int | None = None
        self.installed = False


_record = _Record()


class Interrupted(OpsError):
    """A signal stopped the command: the exit code is the shell's 128 + signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(
            f"interrupted by {signal.Signals(signum).name}; nothing further was started. Run the same command "
            "again to finish: stacks that completed are skipped"
        )
        self.exit_code = 128 + signum


@contextmanager
def handled() -> Iterator[None]:
    """SIGINT and SIGTERM handled as above for the duration (the CLI, on the main thread); then as before."""
    previous = {signum: signal.signal(signum, _handle) for signum in SIGNALS}
    _record.received, _record.installed = None, True
    try:
        yield
    finally:
        _record.received, _record.installed = None, False
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def received() -> int | None:
    """The signal that interrupted this command so far, if any."""
    return _record.received


def _handle(signum: int, _frame: FrameType | None) -> None:
    first = _record.received is None
    _record.received = signum
    with _record.guard:
        children, starting = list(_record.running), _record.starting
    if not children and not starting:
        raise Interrupted(signum)
    if first:
        os.write(
            2,
            f"\n{signal.Signals(signum).name} received: letting Terraform stop at a safe point and release the "
            "state lock (signal again to stop it at once)\n".encode(),
        )
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)


@contextmanager
def child_process(args: Sequence[str], **popen: Any) -> Iterator[subprocess.Popen[str]]:
    """Popen a child the handler stops gracefully; refuses to start one once the command was interrupted."""
    with _record.guard:
        if _record.received is not None:
            raise Interrupted(_record.received)
        _record.starting += 1
        try:
            process: subprocess.Popen[str] = subprocess.Popen(
                args, process_group=0 if _record.installed else None, **popen
            )
            _record.running.add(process)
        finally:
            _record.starting -= 1
    if _record.received is not None:
        process.send_signal(signal.SIGINT)
    try:
        yield process
    finally:
        with _record.guard:
            _record.running.discard(process)
