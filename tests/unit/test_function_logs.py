"""Functions run in-process log to their own file, and only the thread running one does: a client paying on a
thread of its own (the drill) must not send the other threads' output into the log (or a closed file)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from config import load_settings
from ops.client import transport


def test_only_the_thread_running_a_function_writes_to_the_function_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(environ={"PAYMENTS_DOTENV": "none"})
    log = tmp_path / "function-logs.log"
    monkeypatch.setattr(transport, "function_log", lambda _: log)
    inside, release = threading.Event(), threading.Event()

    def function() -> None:
        with transport._function_logs(settings):
            print("from the function")
            inside.set()
            release.wait(5)
            print("still from the function")

    thread = threading.Thread(target=function)
    thread.start()
    assert inside.wait(5)
    print("from the client, meanwhile")
    release.set()
    thread.join(5)
    print("from the client, after")

    assert capsys.readouterr().out == "from the client, meanwhile\nfrom the client, after\n"
    assert log.read_text() == "from the function\nstill from the function\n"
    assert log.stat().st_mode & 0o777 == 0o600
