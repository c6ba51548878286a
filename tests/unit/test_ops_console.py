"""Every ops command prints through one console: human lines, or with --json one JSON document on stdout."""

from __future__ import annotations

import json
import threading

import pytest

from ops.core.console import Console
from ops.deploy.engine import StackResult, print_summary, summary_json


def test_human_lines_go_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    Console().say("--> synthesizing")
    assert capsys.readouterr() == ("--> synthesizing\n", "")


def test_json_mode_keeps_stdout_for_the_document(capsys: pytest.CaptureFixture[str]) -> None:
    console = Console(json_mode=True)
    console.say("==> network-primary: applying")
    console.json({"ok": True})
    out, err = capsys.readouterr()
    assert json.loads(out) == {"ok": True}
    assert err == "==> network-primary: applying\n"


def test_a_buffered_console_collects_whole_lines_from_many_threads(capsys: pytest.CaptureFixture[str]) -> None:
    quiet = Console.buffered()
    threads = [threading.Thread(target=lambda n=n: [quiet.say(f"line {n}") for _ in range(50)]) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(quiet.lines())) == [f"line {n}" for n in range(4)]
    assert len(quiet.lines()) == 200
    assert capsys.readouterr() == ("", "")


def test_the_deploy_summary_as_json_has_the_rows_of_the_table() -> None:
    results = [StackResult("network-primary", "ok", 3, 1, 0, 12.5), StackResult("data-primary", "not run")]
    quiet = Console.buffered()
    print_summary(results, quiet)
    table = [line.split() for line in quiet.lines() if line.startswith(("network-", "data-"))]
    assert table == [
        ["network-primary", "ok", "3", "1", "0", "12.5"],
        ["data-primary", "not", "run", "0", "0", "0", "0.0"],
    ]
    document = summary_json(results)
    assert document["ok"] is False
    assert [(r["stack"], r["result"], r["added"], r["changed"]) for r in document["stacks"]] == [
        ("network-primary", "ok", 3, 1),
        ("data-primary", "not run", 0, 0),
    ]
