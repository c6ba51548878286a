"""The ledger's driver in the function archives: found from its top requirement, pure Python, importable from
the unpacked archive alone."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from lambda_src.ledger.config import CA_BUNDLE
from stacks.compute import packaging
from stacks.compute.packaging import driver_distributions, package_files
from tests.support import ROOT, Synth, write_ca_bundle

# Imports every module the ledger needs at run time; prints where each module came from.
IMPORT_CHECK = textwrap.dedent(
    """
    import importlib, json, sys
    task = sys.argv[1]
    sys.path.insert(0, task)
    for name in sys.argv[2:]:
        importlib.import_module(name)
    foreign = sorted(
        name for name, module in sys.modules.items()
        if name.split(".")[0] in ("lambda_src", "pg8000", "scramp", "asn1crypto", "dateutil", "six")
        and getattr(module, "__file__", None) and not module.__file__.startswith(task)  # six.moves has no file
    )
    print(json.dumps({"foreign": foreign}))
    """
)


def _imports_from(task: Path, *modules: str) -> list[str]:
    """Import `modules` with a clean `python -I` whose only extra path is `task`; the modules that came elsewhere."""
    completed = subprocess.run(
        [sys.executable, "-I", "-c", IMPORT_CHECK, str(task), *modules],
        cwd=task.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    foreign: list[str] = json.loads(completed.stdout.strip().splitlines()[-1])["foreign"]
    return foreign


def test_payment_processor_archive_imports_the_driver_and_the_ledger_from_itself(
    local_dev: Synth, tmp_path: Path
) -> None:
    stack_dir = local_dev.outdir / "stacks" / "compute-primary"
    functions = local_dev.resources("compute-primary", "aws_lambda_function").values()
    path = "compute-primary/payment-processor/function"
    archive = next(f["filename"] for f in functions if f["//"]["metadata"]["path"] == path)
    task = tmp_path / "task"
    with zipfile.ZipFile(stack_dir / archive) as bundle:
        assert not [n for n in bundle.namelist() if n.endswith((".so", ".pyd", ".dylib", ".dll"))]
        bundle.extractall(task)
    assert (task / "lambda_src" / "ledger" / "migrations" / "0001_ledger.sql").is_file()
    modules = (
        "pg8000.native",
        "lambda_src.ledger.record",
        "lambda_src.ledger.admin",
        "lambda_src.payment_processor.handler",
    )
    assert _imports_from(task, *modules) == []


def test_ledger_archive_carries_the_driver_and_its_migrations(tmp_path: Path) -> None:
    task = tmp_path / "task"
    for relative, source in package_files("ledger").items():
        (task / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, task / relative)
    assert (task / "lambda_src" / "ledger" / "migrations" / "0001_ledger.sql").is_file()
    assert not (task / "lambda_src" / "payment_processor").exists(), "only what ledger-admin runs"
    assert _imports_from(task, "lambda_src.ledger.admin", "lambda_src.ledger.migrate") == []


def test_the_rds_ca_bundle_is_packaged_where_the_ledger_loads_it(tmp_path: Path) -> None:
    bundle = write_ca_bundle(tmp_path / "global-bundle.pem")
    files = package_files("payment_processor", ca_bundle=str(bundle))
    assert files[PurePosixPath(CA_BUNDLE.relative_to(ROOT).as_posix())] == bundle
    assert not [path for path in package_files("payment_processor") if path.name.endswith(".pem")], "none by default"
    assert not [path for path in package_files("health", ca_bundle=str(bundle)) if path.name.endswith(".pem")]


def test_a_missing_rds_ca_bundle_fails_the_synth_with_the_download_url(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^data.rds_ca_bundle: .*absent.pem is not a file; download it from https://"):
        package_files("ledger", ca_bundle=str(tmp_path / "absent.pem"))


def test_the_driver_is_its_top_requirement_and_everything_that_requires() -> None:
    names = {d.metadata["Name"].lower() for d in driver_distributions()}
    assert names == {"pg8000", "scramp", "asn1crypto", "python-dateutil", "six"}


def test_health_carries_no_driver() -> None:
    assert all(str(path).startswith("lambda_src/") for path in package_files("health"))


def _fake_distribution(root: Path, name: str, files: list[str], requires: tuple[str, ...] | list[str] = ()) -> Path:
    info = root / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    metadata = ["Metadata-Version: 2.1", f"Name: {name}", "Version: 1.0", *(f"Requires-Dist: {r}" for r in requires)]
    (info / "METADATA").write_text("\n".join(metadata) + "\n")
    (info / "RECORD").write_text("".join(f"{f},,\n" for f in [*files, f"{info.name}/METADATA"]))
    for file in files:
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        (root / file).write_text("")
    return info


def _install_fakes(monkeypatch: pytest.MonkeyPatch, infos: dict[str, Path]) -> None:
    real = importlib.metadata.distribution

    def distribution(name: str) -> importlib.metadata.Distribution:
        info = infos.get(name)
        return importlib.metadata.PathDistribution(info) if info else real(name)

    monkeypatch.setattr(importlib.metadata, "distribution", distribution)


def test_a_compiled_dependency_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    infos = {
        "pg8000": _fake_distribution(tmp_path, "pg8000", ["pg8000/__init__.py"], ["speedups>=1"]),
        "speedups": _fake_distribution(tmp_path, "speedups", ["speedups/__init__.py", "speedups/_c.cpython-311.so"]),
    }
    _install_fakes(monkeypatch, infos)
    with pytest.raises(ValueError, match=r"speedups installs compiled code \(speedups/_c.cpython-311.so\)"):
        package_files("payment_processor")


def test_optional_requirements_are_skipped_and_conditional_ones_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    infos = {"pg8000": _fake_distribution(tmp_path / "a", "pg8000", ["pg8000/__init__.py"], ['docs; extra == "doc"'])}
    _install_fakes(monkeypatch, infos)
    assert [d.metadata["Name"] for d in driver_distributions(packaging.DRIVER_REQUIREMENT)] == ["pg8000"]
    infos["pg8000"] = _fake_distribution(
        tmp_path / "b", "pg8000", ["pg8000/__init__.py"], ['old; python_version < "3.8"']
    )
    with pytest.raises(ValueError, match="under a condition the packager does not evaluate"):
        driver_distributions("pg8000")


def test_a_missing_distribution_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    infos = {"pg8000": _fake_distribution(tmp_path, "pg8000", ["pg8000/__init__.py"], ["not-installed-anywhere"])}
    _install_fakes(monkeypatch, infos)
    with pytest.raises(ValueError, match=r"not-installed-anywhere .* is not installed: run make install"):
        driver_distributions("pg8000")
