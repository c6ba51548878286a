"""The project's own errors. Library code raises these; only `ops.cli` turns them into a message and an exit code."""

from __future__ import annotations


class OpsError(Exception):
    """A command cannot go on: `str(error)` is the one line (or block) to show, `exit_code` what the CLI exits with."""

    exit_code = 1


class UsageError(OpsError):
    """A bad command-line or environment value: names the argument and the fix."""

    exit_code = 2


class NotDeployedError(OpsError):
    """Something the command reads has not been deployed yet."""


class RefusedError(OpsError):
    """The command refuses to go ahead: a confirmation, a lock or a safety check is missing."""


class ToolError(OpsError):
    """An external tool (app.py, checkov, the emulator) failed; its own output is the message."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
