"""`make bench`: this project's figures side by side with their stock-cdktf anchors, measured in one run.

Every deploy figure runs on private emulators (their own ports and output
directories), so the bench never touches `make deploy`'s emulator or state.
Figures, not assertions: tests check correctness, this prints numbers.

    python -m bench.run [--only synth,cache,cold,diff,noop,drift] [--repeat N]
"""

from __future__ import annotations

import argparse
import filecmp
import os
import platform
import re
import shutil
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.measure import Measurement, run
from harness.platform import free_port
from ops.core.paths import ROOT, VENV_BIN
from ops.core.tool_env import QUIET
from ops.terraform.cli_config import write_cli_config

PY = str(VENV_BIN / "python")
NPX = shutil.which("npx") or "npx"
RESULTS_DIR = ROOT / "bench" / "results"
# diff runs before noop: the no-op anchor (`npx cdktf deploy '*'`) applies, and a refreshing apply writes
# new state serials, after which `ops diff` rightly plans instead of answering from the deploy record.
FIGURES = ("synth", "cache", "cold", "diff", "noop", "drift")


@dataclass
class Row:
    figure: str
    ours: float
    anchor: float | None
    anchor_name: str
    target: str
    peak_ours: float
    peak_anchor: float | None

    @property
    def ratio(self) -> str:
        return f"{self.anchor / self.ours:.1f}x" if self.anchor and self.ours else "-"


class Bench:
    def __init__(self, workdir: Path, repeat: int) -> None:
        self.workdir = workdir
        self.repeat = repeat
        self.rows: list[Row] = []
        self.cli_config = str(write_cli_config())

    def env(self, port: int, outdir: Path, **extra: str) -> dict[str, str]:
        outdir.parent.mkdir(parents=True, exist_ok=True)  # cdktf's App creates only the last level
        base = {k: v for k, v in os.environ.items() if not k.startswith("PAYMENTS_")}
        return {
            **base,
            "PAYMENTS_DOTENV": "none",
            "PAYMENTS_LOCAL_PORT": str(port),
            "PAYMENTS_OUTDIR": str(outdir),
            "CDKTF_OUTDIR": str(outdir),
            "PAYMENTS_OUTPUTS_DIR": str(outdir.parent / "outputs"),
            "TF_CLI_CONFIG_FILE": self.cli_config,
            **QUIET,
            **extra,
        }

    def measure(self, label: str, command: list[str], env: dict[str, str], *, check: bool = True) -> Measurement:
        print(f"  {label}: {' '.join(command)}", flush=True)
        result = run(command, cwd=ROOT, env=env)
        print(f"    {result.seconds:.1f}s, peak {result.peak_mb:.0f} MB, exit {result.returncode}", flush=True)
        if check and result.returncode != 0:
            log = RESULTS_DIR / f"failed-{re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-')}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(result.output)
            raise SystemExit(f"bench step failed: {label} (whole output: {log})\n{result.output[-3000:]}")
        return result

    def repeated(self, label: str, command: list[str], env: dict[str, str]) -> tuple[float, float]:
        """Median seconds and largest peak of `repeat` runs, after one warm-up run that is not counted (the
        first synth of a checkout also builds the lazy provider index once, and the page cache is cold)."""
        self.measure(f"{label} (warm-up, not counted)", command, env)
        runs = [self.measure(f"{label} #{i + 1}", command, env) for i in range(self.repeat)]
        return statistics.median(r.seconds for r in runs), max(r.peak_mb for r in runs)

    # --- figures ----------------------------------------------------------------------------------

    def synth(self) -> None:
        ours_dir, stock_dir = self.workdir / "synth-selective", self.workdir / "synth-stock"
        ours = self.repeated("synth, selective import", [PY, "app.py"], self.env(4566, ours_dir))
        stock = self.repeated(
            "synth, stock import",
            [PY, "app.py"],
            self.env(4566, stock_dir, PAYMENTS_STOCK_PROVIDER_IMPORT="1"),
        )
        identical = not _tree_differences(ours_dir, stock_dir)
        self.rows.append(
            Row(
                f"synth, 8 stacks (output identical: {identical})",
                ours[0],
                stock[0],
                "stock provider import",
                ">= 4x",
                ours[1],
                stock[1],
            )
        )

    def cache(self) -> None:
        outdir = self.workdir / "synth-cache"
        env = self.env(4566, outdir)
        forced = self.measure("ops synth --force", [PY, "-m", "ops", "synth", "--force"], env)
        reuse = self.measure("ops synth (no change)", [PY, "-m", "ops", "synth"], env)
        self.rows.append(
            Row(
                "synth when nothing changed",
                reuse.seconds,
                forced.seconds,
                "synth every time",
                "reuse",
                reuse.peak_mb,
                forced.peak_mb,
            )
        )

    def deployed_env(self) -> dict[str, str]:
        if not hasattr(self, "_deployed"):
            port = free_port(3)  # the emulator and its PostgreSQL pair
            self._deployed = self.env(port, self.workdir / "ours" / "cdktf.out")
            self.measure("emulator", [PY, "-m", "ops", "local-up"], self._deployed)
            self._cold = self.measure("ops deploy all (cold)", [PY, "-m", "ops", "deploy", "all"], self._deployed)
        return self._deployed

    def cold(self) -> None:
        self.deployed_env()
        port = free_port(3)
        npx_env = self.env(port, self.workdir / "npx" / "cdktf.out")
        self.measure("emulator for the anchor", [PY, "-m", "ops", "local-up"], npx_env)
        anchor = self.measure(
            "npx cdktf deploy '*' (cold)",
            [NPX, "cdktf", "deploy", "*", "--auto-approve", *self._cdktf_options(npx_env)],
            npx_env,
        )
        self.measure("stop the anchor's emulator", [PY, "-m", "ops", "local-down"], npx_env, check=False)
        self.rows.append(
            Row(
                "cold deploy, both regions",
                self._cold.seconds,
                anchor.seconds,
                "npx cdktf deploy '*'",
                "report",
                self._cold.peak_mb,
                anchor.peak_mb,
            )
        )

    def noop(self) -> None:
        env = self.deployed_env()
        ours = self.measure("ops deploy all (no-op)", [PY, "-m", "ops", "deploy", "all"], env)
        anchor = self.measure(
            "npx cdktf deploy '*' (no-op)",
            [NPX, "cdktf", "deploy", "*", "--auto-approve", *self._cdktf_options(env)],
            env,
        )
        self.rows.append(
            Row(
                "no-op deploy, 8 stacks",
                ours.seconds,
                anchor.seconds,
                "npx cdktf deploy '*'",
                ">= 20x",
                ours.peak_mb,
                anchor.peak_mb,
            )
        )

    def diff(self) -> None:
        env = self.deployed_env()
        ours = self.measure("ops diff network-primary", [PY, "-m", "ops", "diff", "network-primary"], env)
        refreshed = self.measure(
            "ops diff network-primary --refresh", [PY, "-m", "ops", "diff", "network-primary", "--refresh"], env
        )
        anchor = self.measure(
            "npx cdktf diff network-primary", [NPX, "cdktf", "diff", "network-primary", *self._cdktf_options(env)], env
        )
        for label, measured in (("", ours), (", full plan (--refresh)", refreshed)):
            self.rows.append(
                Row(
                    f"diff of one stack, no change{label}",
                    measured.seconds,
                    anchor.seconds,
                    "npx cdktf diff",
                    ">= 2.5x" if not label else "report",
                    measured.peak_mb,
                    anchor.peak_mb,
                )
            )

    def drift(self) -> None:
        env = self.deployed_env()
        ours = self.measure("ops drift", [PY, "-m", "ops", "drift"], env)
        self.rows.append(Row("drift, all stacks (concurrent)", ours.seconds, None, "-", "report", ours.peak_mb, None))

    def close(self) -> None:
        if hasattr(self, "_deployed"):
            self.measure("stop the emulator", [PY, "-m", "ops", "local-down"], self._deployed, check=False)

    @staticmethod
    def _cdktf_options(env: dict[str, str]) -> list[str]:
        # Without --skip-provider-lock, cdktf follows the first `terraform init` of a stack with
        # `terraform providers lock`, which ignores the CLI config's mirror and asks the registry.
        return ["--output", env["PAYMENTS_OUTDIR"], "--skip-provider-lock"]


def _tree_differences(a: Path, b: Path) -> list[str]:
    comparison = filecmp.dircmp(a, b)
    found = comparison.diff_files + comparison.left_only + comparison.right_only
    for name in comparison.common_dirs:
        found += _tree_differences(a / name, b / name)
    return found


def render(rows: list[Row]) -> str:
    header = "| figure | this project | anchor | anchor time | ratio | target | peak MB (ours / anchor) |"
    lines = [header, "|---|---|---|---|---|---|---|"]
    for r in rows:
        anchor = f"{r.anchor:.1f} s" if r.anchor is not None else "-"
        peak = f"{r.peak_ours:.0f} / {r.peak_anchor:.0f}" if r.peak_anchor is not None else f"{r.peak_ours:.0f}"
        lines.append(f"| {r.figure} | {r.ours:.1f} s | {r.anchor_name} | {anchor} | {r.ratio} | {r.target} | {peak} |")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {_memory_gib()} GiB, Python {platform.python_version()}"
    lines.append(f"\nMeasured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}.")
    return "\n".join(lines)


def _memory_gib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(FIGURES), help=f"comma list of: {', '.join(FIGURES)}")
    parser.add_argument("--repeat", type=int, default=3, help="runs per synth figure (median)")
    args = parser.parse_args()
    chosen = [f.strip() for f in args.only.split(",") if f.strip()]
    unknown = sorted(set(chosen) - set(FIGURES))
    if unknown or args.repeat < 1:
        parser.error(f"--only takes {', '.join(FIGURES)} (got {', '.join(unknown)}); --repeat >= 1")
    with tempfile.TemporaryDirectory(prefix="payments-bench-") as tmp:
        bench = Bench(Path(tmp), args.repeat)
        steps: dict[str, Callable[[], None]] = {name: getattr(bench, name) for name in FIGURES}
        try:
            for name in FIGURES:
                if name in chosen:
                    print(f"== {name}", flush=True)
                    steps[name]()
        finally:
            bench.close()
    table = render(bench.rows)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "latest.md").write_text(table + "\n")
    print("\n" + table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
