"""The bench's timer and memory sampler (the figures themselves are printed by `make bench`, not asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.measure import _children, _tree_rss_kb, run


def test_a_process_that_exits_while_its_tree_is_walked_has_no_children_and_no_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert _children(gone.pid) == []
    assert _tree_rss_kb(gone.pid) == 0

    # The race a long deploy hit: /proc/<pid>/task vanishes between finding the process and listing it.
    for lister in ("scandir", "listdir"):
        real = getattr(os, lister)

        def vanishing(path: object = ".", real: object = real) -> object:
            if str(path).endswith("/task"):
                raise FileNotFoundError(2, "No such file or directory", str(path))
            return real(path)  # type: ignore[operator]

        monkeypatch.setattr(os, lister, vanishing)
    assert _children(os.getpid()) == []


def test_peak_memory_counts_the_children_of_the_measured_command(tmp_path: Path) -> None:
    # The parent stays small; a child holds about 200 MB for a moment, then both exit with 3.
    child = "b = bytearray(200 * 1024 * 1024); import time; time.sleep(0.5)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}]); print('done'); sys.exit(3)"
    measured = run([sys.executable, "-c", parent], cwd=tmp_path)
    assert measured.returncode == 3
    assert measured.output.strip() == "done"
    assert measured.peak_mb > 200
    assert measured.seconds >= 0.5
