"""Where every command's output goes. One lock per console, so lines from concurrent stacks never interleave.

Human lines go to stdout; with `--json` they go to stderr and stdout carries only the JSON document.
A buffered console collects lines instead, for a caller that decides later what to show.
"""

from __future__ import annotations

import io
import json
import sys
import threading
from collections.abc import Sequence
from typing import Any, TextIO


class Console:
    def __init__(self, *, json_mode: bool = False, buffer: io.StringIO | None = None) -> None:
        self.json_mode = json_mode
        self._buffer = buffer
        self._lock = threading.Lock()

    @classmethod
    def buffered(cls) -> Console:
        return cls(buffer=io.StringIO())

    def _out(self) -> TextIO:
        if self._buffer is not None:
            return self._buffer
        return sys.stderr if self.json_mode else sys.stdout

    def say(self, message: str = "", *, end: str = "\n") -> None:
        with self._lock:
            out = self._out()
            out.write(message + end)
            out.flush()

    def error(self, message: str) -> None:
        with self._lock:
            sys.stderr.write(message + "\n")
            sys.stderr.flush()

    def json(self, data: Any) -> None:
        """The machine-readable result of a command (`--json`): one document on stdout."""
        with self._lock:
            sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
            sys.stdout.flush()

    def value(self, text: str) -> None:
        """One value the user asked for by name (`make output`): stdout, alone, so `$(make output ...)` captures it."""
        with self._lock:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    def lines(self) -> list[str]:
        """What a buffered console collected."""
        return self._buffer.getvalue().splitlines() if self._buffer is not None else []


def columns(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A plain-text table: the header and each row as one line, columns padded to their widest value."""
    cells = [header, *rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return ["  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip() for row in cells]


console = Console()  # the process's console; `ops.cli` switches it to JSON mode for `--json`
