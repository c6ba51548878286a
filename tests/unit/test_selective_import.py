"""Importing only the provider bindings in use synthesizes byte-identical output to the stock import."""

from __future__ import annotations

import filecmp
from pathlib import Path

from tests.support import Synth, synth_app


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_stock_and_selective_imports_synthesize_identical_output(local_dev: Synth, tmp_path: Path) -> None:
    stock = tmp_path / "stock"
    result = synth_app(stock, PAYMENTS_STOCK_PROVIDER_IMPORT="1")
    assert result.returncode == 0, result.stderr
    selective, stock_files = tree(local_dev.outdir), tree(stock)
    assert sorted(selective) == sorted(stock_files)
    differing = [name for name in selective if selective[name] != stock_files[name]]
    assert differing == []
    assert not filecmp.dircmp(local_dev.outdir, stock).diff_files


def test_building_the_app_loads_only_the_bindings_it_uses() -> None:
    import subprocess
    import sys

    from tests.support import ROOT, clean_environ

    probe = (
        "import sys, app; from cdktf import App; from config import load_settings; "
        "app.build(App(outdir=sys.argv[1]), load_settings()); "
        "print(len([m for m in sys.modules if m.startswith('cdktf_cdktf_provider_aws.')]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, "/tmp/unused-outdir"],
        cwd=ROOT,
        env=clean_environ(PAYMENTS_DOTENV="none"),
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = int(result.stdout.strip().splitlines()[-1])
    assert 0 < loaded < 150, f"{loaded} binding modules loaded; the package has ~2,100"
