"""`python -m ops <command>`: argument parsing, the commands, and the only place exit codes are decided."""

from ops.cli.main import main

__all__ = ["main"]
