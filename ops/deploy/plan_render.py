"""The plan report as files: `plan-report.json` (the rows as data) and `plan-report.md` (a summary table, then a
section per stack that changes, waits or failed, replaced and destroyed resources flagged, drift apart)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ops.deploy.plan_report import StackReport, exit_code

MARKDOWN_FILE = "plan-report.md"
JSON_FILE = "plan-report.json"
REPLACE_FLAG = "**REPLACE**"
DESTROY_FLAG = "**DESTROY**"


def document(environment: str, target: str, reports: list[StackReport]) -> dict[str, Any]:
    return {
        "environment": environment,
        "target": target,
        "stacks": [asdict(r) for r in reports],
        "exit_code": exit_code(reports),
    }


def _cell(items: list[str]) -> str:
    return ", ".join(f"`{i}`" for i in items) if items else "-"


def _drift_line(item: dict[str, Any]) -> str:
    if item["action"] == "delete":
        return f"`{item['address']}`: deleted outside Terraform"
    return f"`{item['address']}`: {', '.join(item['attributes'])}"


def _section(report: StackReport) -> list[str]:
    lines = [f"### {report.stack}: {report.status}", ""]
    if report.status == "waits":
        for producer, names in report.waits_on.items():
            lines.append(f"- waits on **{producer}**: {_cell(names)} (known only once {producer} is applied)")
    if report.error:
        lines.append(f"- error: {report.error}")
    lines += [f"- {REPLACE_FLAG} `{a}`" for a in report.replace]
    lines += [f"- {DESTROY_FLAG} `{a}`" for a in report.destroyed]
    routine = [f"- update `{a}`" for a in report.changed] + [f"- create `{a}`" for a in report.created]
    if report.outputs:
        routine.append(f"- outputs that change: {_cell(report.outputs)}")
    if routine:  # folded: a pull-request comment stays short, the replacements and destroys above stay in view
        summary = f"{len(report.changed)} to update, {len(report.created)} to create, {len(report.outputs)} outputs"
        lines += ["", f"<details><summary>{summary}</summary>", "", *routine, "", "</details>"]
    return [*lines, ""]


def markdown(environment: str, target: str, reports: list[StackReport]) -> str:
    lines = [
        f"## Plan report: {environment} ({target})",
        "",
        "| stack | status | + | ~ | - | replaced | drift |",
        "|---|---|--:|--:|--:|---|---|",
    ]
    for r in reports:
        drift = str(len(r.drift)) if r.drift else "-"
        lines.append(f"| {r.stack} | {r.status} | {r.add} | {r.change} | {r.destroy} | {_cell(r.replace)} | {drift} |")
    lines.append("")
    notable = [r for r in reports if r.status in ("changes", "waits", "error")]
    for r in notable:
        lines += _section(r)
    drifted = [r for r in reports if r.drift]
    if drifted:
        lines += ["### Drift: changed outside Terraform", ""]
        for r in drifted:
            lines += [f"- {r.stack}: {_drift_line(item)}" for item in r.drift]
        lines.append("")
    lines.append(
        "`unchanged`: configuration, state and the outputs it reads are what its last apply left (not planned). "
        "Drift is looked for only in the stacks planned here: `make drift` checks every stack."
    )
    return "\n".join(lines) + "\n"


def write(directory: Path, environment: str, target: str, reports: list[StackReport]) -> tuple[Path, Path]:
    """Both files in `directory` (created if missing); their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    md_path, json_path = directory / MARKDOWN_FILE, directory / JSON_FILE
    md_path.write_text(markdown(environment, target, reports))
    json_path.write_text(json.dumps(document(environment, target, reports), indent=2) + "\n")
    return md_path, json_path
