"""A command's `--json` summary (`ops apply`, `ops drift`) as a markdown table for a job's summary page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _cell(value: Any) -> str:
    if isinstance(value, list):
        value = ", ".join(map(str, value)) or "-"
    elif isinstance(value, float):
        value = f"{value:.1f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(title: str, document: Any) -> str:
    """`### title` and one row per entry of the document's `stacks` (columns: the first entry's keys)."""
    rows = document.get("stacks") if isinstance(document, dict) else None
    if not isinstance(rows, list) or not rows or not all(isinstance(row, dict) for row in rows):
        return f"### {title}\n\nno stack was reported (see the job's log)\n"
    columns = list(rows[0])
    lines = [f"### {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(column, "")) for column in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def from_file(path: Path, title: str) -> str:
    """The table of a summary file; a file the command never finished writing gives a one-line note instead."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"### {title}\n\nno summary: {path} is missing or not JSON (the command stopped early; see the log)\n"
    return table(title, document)
