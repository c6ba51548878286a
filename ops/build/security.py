"""`make security`: checkov over every synthesized stack, offline; failures not consciously skipped fail the gate."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.build.synth import synth_app
from ops.core.console import console
from ops.core.errors import ToolError
from ops.core.paths import ROOT
from shared.checkov import SKIP_KEY

CHECKOV = ROOT / ".venv-security" / "bin" / "checkov"
OFFLINE = {"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": ""}


@dataclass(frozen=True)
class Finding:
    stack: str
    check_id: str
    resource: str
    name: str


def run_checkov(stacks_dir: Path) -> list[dict[str, Any]]:
    if not CHECKOV.exists():
        raise ToolError("checkov is not installed; run `make security` (it installs .venv-security)")
    result = subprocess.run(
        [
            str(CHECKOV),
            "-d",
            str(stacks_dir),
            "--framework",
            "terraform_json",
            "--skip-download",
            "--output",
            "json",
            "--compact",
        ],
        env={**os.environ, **OFFLINE},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise ToolError(f"checkov failed ({result.returncode}):\n{result.stderr[-3000:]}")
    report = json.loads(result.stdout)
    return report if isinstance(report, list) else [report]


def _skip_reason(stacks_dir: Path, stack: str, resource: str, check_id: str) -> str | None:
    config = json.loads((stacks_dir / stack / "cdk.tf.json").read_text())
    kind = "data" if resource.startswith("data.") else "resource"  # a data source's finding is `data.<name>`
    blocks = config.get(kind, {})
    rtype, _, name = resource.removeprefix(f"{kind}.").partition(".")
    if name:
        block = blocks.get(rtype, {}).get(name, {})
    else:  # checkov names some findings `<kind>.<name>`, without the type
        block = next((items[rtype] for items in blocks.values() if rtype in items), {})
    reason: str | None = block.get("//", {}).get(SKIP_KEY, {}).get(check_id)
    return reason


def evaluate(stacks_dir: Path) -> tuple[int, list[Finding], list[tuple[Finding, str]]]:
    passed, failed, skipped = 0, [], []
    for report in run_checkov(stacks_dir):
        results = report.get("results", {})
        passed += len(results.get("passed_checks", []))
        for check in results.get("failed_checks", []):
            stack = Path(check["file_path"]).parts[1]
            finding = Finding(stack, check["check_id"], check["resource"], check.get("check_name", ""))
            reason = _skip_reason(stacks_dir, stack, check["resource"], check["check_id"])
            if reason:
                skipped.append((finding, reason))
            else:
                failed.append(finding)
    return passed, failed, skipped


def report(label: str, passed: int, failed: list[Finding], skipped: list[tuple[Finding, str]]) -> int:
    console.say(f"checkov ({label}): {passed} passed, {len(failed)} failed, {len(skipped)} skipped in code")
    for finding in failed:
        console.say(f"  FAILED {finding.check_id} {finding.stack} {finding.resource}: {finding.name}")
    by_check = Counter(f.check_id for f, _ in skipped)
    for check_id, count in sorted(by_check.items()):
        reason = next(r for f, r in skipped if f.check_id == check_id)
        console.say(f"  skipped {check_id} x{count}: {reason.split(': ', 1)[-1]}")
    return 1 if failed else 0


# (environment, compute.runtime): both environments as configured, and prod's other front door (load balancer + fleet).
SCANNED: tuple[tuple[str, str], ...] = (("prod", "lambda"), ("dev", "lambda"), ("prod", "ec2"))


def synth_for_scan(environment: str, outdir: Path, runtime: str = "lambda") -> Path:
    """The aws target's output (what reaches real AWS), with a placeholder account, zone and alarm address (prod on aws
    requires one)."""
    result = synth_app(
        outdir,
        PAYMENTS_ENV=environment,
        PAYMENTS_COMPUTE_RUNTIME=runtime,
        PAYMENTS_TARGET="aws",
        PAYMENTS_AWS_ACCOUNT_ID="111122223333",
        PAYMENTS_DNS_ZONE_NAME="payments.acme-payments.com",  # aws refuses reserved zones (.internal)
        PAYMENTS_COMPUTE_ALARM_EMAIL="payments-oncall@example.com",
    )
    if result.returncode != 0:
        raise ToolError(result.stderr)
    return outdir / "stacks"


def _scan(environment: str, runtime: str) -> tuple[int, list[Finding], list[tuple[Finding, str]]]:
    return evaluate(synth_for_scan(environment, ROOT / ".local" / "security" / f"{environment}-{runtime}", runtime))


def main() -> int:
    """The scans run side by side (each is a synth and a checkov process); their reports print in SCANNED's order."""
    with ThreadPoolExecutor(max_workers=len(SCANNED)) as pool:
        scans = [pool.submit(_scan, environment, runtime) for environment, runtime in SCANNED]
        codes = [
            report(f"aws target, {environment}, compute.runtime = {runtime}", *scan.result())
            for (environment, runtime), scan in zip(SCANNED, scans, strict=True)
        ]
    return max(codes)
