"""Importing only the provider bindings in use synthesizes byte-identical output to the stock import."""

from __future__ import annotations

import filecmp
import re
import subprocess
import sys
from pathlib import Path

from ops.build.synth import synth_app
from ops.core.tool_env import clean_environ
from shared.aws_bindings import lazy_index, publish
from tests.support import ROOT, Synth


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_stock_and_selective_imports_synthesize_identical_output(local_dev: Synth, tmp_path: Path) -> None:
    stock = tmp_path / "stock"
    result = synth_app(stock, PAYMENTS_STOCK_PROVIDER_IMPORT="1")
    assert result.returncode == 0, result.stderr
    selective, stock_files = tree(local_dev.outdir), tree(stock)
    assert sorted(selective) == sorted(stock_files)
    assert len(selective) >= 13, f"compared only {len(selective)} files"  # 13 today: 8 stacks, their assets, manifest
    differing = [name for name in selective if selective[name] != stock_files[name]]
    assert differing == []
    assert not filecmp.dircmp(local_dev.outdir, stock).diff_files


def test_building_the_app_loads_only_the_bindings_it_uses() -> None:
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
    # One module per resource or data source type the stacks use (156 with issue 15's certificates, custom domains
    # and the API key secret's data source): the bound is headroom for new types, the point is a small fraction
    # of the ~2,100.
    assert 0 < loaded < 200, f"{loaded} binding modules loaded; the package has ~2,100"


def test_the_node_side_index_becomes_lazy_only_when_every_export_is_a_plain_require() -> None:
    eager = 'Object.defineProperty(exports, "__esModule", { value: true });\nexports.vpc = require("./vpc");\n'
    lazy = lazy_index(eager)
    assert lazy is not None
    getter = '{ enumerable: true, configurable: true, get: () => require("./vpc") }'
    assert f'Object.defineProperty(exports, "vpc", {getter});' in lazy
    assert "exports.vpc = require" not in lazy
    assert lazy_index(eager + 'const x = require("./helper");\n') is None  # unknown shape: keep the stock index
    assert lazy_index("exports.a = 1;\n") is None


def test_the_kernel_runs_the_lazy_copy_of_the_provider_package() -> None:
    probe = (
        "import shared; "
        "from cdktf_cdktf_provider_aws.vpc import Vpc; "
        "print(sorted(p.name for p in shared.aws_bindings.LAZY_DIR.glob('*.lazy.tgz')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=clean_environ(PAYMENTS_DOTENV="none", JSII_DEBUG_TIMING="1"),
        capture_output=True,
        text=True,
        check=True,
    )
    output = result.stdout + result.stderr
    assert "['provider-aws@" in output
    assert re.search(r"tar\.extract\(\S+/\.local/jsii/provider-aws@[^)]+\.lazy\.tgz\)", output), output[-2000:]


def test_ops_commands_never_start_the_jsii_runtime() -> None:
    probe = "import sys, ops.cli, shared; print('jsii._runtime' in sys.modules, 'cdktf' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=clean_environ(), capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False False"


def test_a_finished_lazy_copy_never_replaces_one_already_published(tmp_path: Path) -> None:
    target = tmp_path / "provider.lazy.tgz"
    first, second = tmp_path / "first.part", tmp_path / "second.part"
    first.write_bytes(b"first")
    second.write_bytes(b"second")
    publish(first, target)
    published = target.stat()
    publish(second, target)  # another synth finishing its own copy while the kernel extracts the first
    assert target.read_bytes() == b"first"
    assert (target.stat().st_ino, target.stat().st_mtime_ns) == (published.st_ino, published.st_mtime_ns)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["provider.lazy.tgz"]
