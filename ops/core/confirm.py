"""Asking before a change to shared state: CONFIRM=yes skips the question, and without a terminal nobody is asked."""

from __future__ import annotations

import sys

from ops.core.errors import RefusedError, UsageError


def validate_confirm(command: str, confirm: str, what: str) -> None:
    if confirm not in {"", "yes"}:
        raise UsageError(f"{command}: CONFIRM={confirm!r} is invalid: use CONFIRM=yes to {what} without a prompt")


def confirmed(command: str, confirm: str, question: str, *, what: str, no_terminal: str | None = None) -> bool:
    """True for CONFIRM=yes or a `y` typed at the prompt; without a terminal, RefusedError(`no_terminal`, by
    default the question and how to answer it with CONFIRM=yes)."""
    validate_confirm(command, confirm, what)
    if confirm == "yes":
        return True
    if not sys.stdin.isatty():
        raise RefusedError(no_terminal or f"{question} -- refusing without a terminal; re-run with CONFIRM=yes")
    return input(f"{question} [y/N] ").strip().lower() in {"y", "yes"}
