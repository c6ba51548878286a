"""A signal to `ops` while a child runs: the child gets one graceful interrupt and its last words are still read."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys

import pytest

from ops.core import interrupt

# Stands in for Terraform's own handling: on SIGINT it finishes (prints, exits 3); SIGTERM would kill it silently.
CHILD = """
import signal, sys, time
def stop(signum, frame):
    print("stopped cleanly after", signal.Signals(signum).name, flush=True)
    sys.exit(3)
signal.signal(signal.SIGINT, stop)
print("ready", flush=True)
time.sleep(60)
sys.exit(0)
"""


def run_child_and_signal(signum: int) -> tuple[str, int]:
    with interrupt.child_process([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
        os.kill(os.getpid(), signum)  # what `kill <ops pid>` or Ctrl-C does to ops
        return process.stdout.read(), process.wait(timeout=30)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_child_is_interrupted_gracefully_and_read_to_the_end(signum: int) -> None:
    with interrupt.handled():
        rest, code = run_child_and_signal(signum)
        assert interrupt.received() == signum
    assert (rest, code) == ("stopped cleanly after SIGINT\n", 3)


def test_nothing_new_starts_after_an_interrupt() -> None:
    with interrupt.handled():
        run_child_and_signal(signal.SIGTERM)
        with pytest.raises(interrupt.Interrupted) as raised:  # noqa: SIM117
            with interrupt.child_process([sys.executable, "-c", "pass"]):
                pass
    assert raised.value.exit_code == 128 + signal.SIGTERM
    assert "run the same command again" in str(raised.value).lower()


def test_with_no_child_running_a_signal_ends_the_command_at_once() -> None:
    with interrupt.handled(), pytest.raises(interrupt.Interrupted) as raised:
        os.kill(os.getpid(), signal.SIGINT)  # the handler runs on the next bytecode
    assert raised.value.exit_code == 130


def test_the_handlers_and_the_record_are_restored_afterwards() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with interrupt.handled():
        assert signal.getsignal(signal.SIGTERM) is not before
        run_child_and_signal(signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is before
    assert interrupt.received() is None


def test_the_cli_exits_with_the_shells_code_for_the_signal(monkeypatch: pytest.MonkeyPatch) -> None:
    cli = importlib.import_module("ops.cli.main")
    monkeypatch.setattr(cli, "cmd_check_config", lambda _: os.kill(os.getpid(), signal.SIGTERM) or 0)
    assert cli.main(["check-config"]) == 143
