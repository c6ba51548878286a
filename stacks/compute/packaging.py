"""What a deployment archive of `lambda_src/` holds, and how it is zipped (the functions' packages and the ec2
runtime's artifact share both).

An archive holds packages of `lambda_src/` in the repository's layout (`lambda_src/__init__.py`, `common` and the
packages asked for). An archive that carries the `ledger` package also carries its PostgreSQL driver
(`DRIVER_REQUIREMENT` and every distribution it requires, copied from this environment's installed files to the
archive's root, which is on the import path); only pure-Python distributions, so the archive fits any platform.
Entries carry one fixed time and mode (`write_zip`), so an unchanged source zips to the same bytes.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import stat
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from config.schema import RDS_CA_BUNDLE_URL
from lambda_src.ledger.config import CA_BUNDLE

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"
SHARED_PACKAGE = "common"  # carried by every function's archive
LEDGER_PACKAGE = "ledger"
# The other lambda_src packages a function's code imports (beyond its own and common).
USES_PACKAGES: dict[str, tuple[str, ...]] = {"payment_processor": (LEDGER_PACKAGE,)}
# The ledger's PostgreSQL driver (pinned in requirements.in): the top of the distributions archived with it.
DRIVER_REQUIREMENT = "pg8000"
# Installed files that only describe one installation, never needed at run time.
INSTALL_RECORDS = frozenset({"INSTALLER", "RECORD", "REQUESTED", "direct_url.json"})
# Compiled code: built for one platform and one Python, so never in an archive meant to be portable.
NATIVE_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")
_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")

# Never part of a deployment package: bytecode caches, and hidden files and directories (the state
# that linters and test runners leave behind, editor files, a stray .env).
EXCLUDED_NAMES = frozenset({"__pycache__"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
# Archive entries get one fixed time and mode (see `_archive`).
ARCHIVED_TIME = (2000, 1, 1, 0, 0, 0)
ARCHIVED_MODE = 0o644


def _is_packaged(relative: Path) -> bool:
    return not any(
        part in EXCLUDED_NAMES or part.startswith(".") for part in relative.parts
    ) and not relative.name.endswith(EXCLUDED_SUFFIXES)


def _packaged_files(source_dir: Path) -> list[Path]:
    return sorted(p for p in source_dir.rglob("*") if p.is_file() and _is_packaged(p.relative_to(source_dir)))


def _required_names(distribution: importlib.metadata.Distribution) -> list[str]:
    """The distributions `distribution` requires to run (its Requires-Dist without extras)."""
    names: list[str] = []
    for requirement in distribution.requires or []:
        spec, _, marker = requirement.partition(";")
        if "extra" in marker:
            continue  # an optional feature's dependency
        if marker.strip():
            raise ValueError(
                f"{distribution.metadata['Name']} requires {requirement!r} under a condition the packager does not "
                "evaluate: teach stacks/compute/packaging.py that marker before archiving it"
            )
        match = _REQUIREMENT_NAME.match(spec)
        if match is None:
            raise ValueError(f"{distribution.metadata['Name']}: cannot read the requirement {requirement!r}")
        names.append(match[1])
    return names


def driver_distributions(top: str = DRIVER_REQUIREMENT) -> list[importlib.metadata.Distribution]:
    """`top` and everything it requires, transitively, as installed here (sorted by name)."""
    found: dict[str, importlib.metadata.Distribution] = {}
    pending = [top]
    while pending:
        name = pending.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in found:
            continue
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise ValueError(f"{name} (needed by {top}) is not installed: run make install") from None
        found[key] = distribution
        pending += _required_names(distribution)
    return [found[key] for key in sorted(found)]


def distribution_files(distribution: importlib.metadata.Distribution) -> dict[PurePosixPath, Path]:
    """The installed files of a pure-Python distribution, by their path in the archive (its root)."""
    name = distribution.metadata["Name"]
    files: dict[PurePosixPath, Path] = {}
    for entry in distribution.files or []:
        relative = PurePosixPath(entry.as_posix())
        if ".." in relative.parts or not _is_packaged(Path(relative)) or relative.name in INSTALL_RECORDS:
            continue  # scripts outside site-packages, caches, what only this installation needs
        if relative.name.endswith(NATIVE_SUFFIXES):
            raise ValueError(
                f"{name} installs compiled code ({relative}): a function archive must stay platform-independent, "
                "so the ledger's driver must be pure Python"
            )
        files[relative] = Path(str(distribution.locate_file(entry)))
    return files


def source_files(directories: Sequence[str]) -> dict[PurePosixPath, Path]:
    files = [LAMBDA_SRC / "__init__.py"]
    for directory in directories:
        files += _packaged_files(LAMBDA_SRC / directory)
    return {PurePosixPath(path.relative_to(LAMBDA_SRC.parent).as_posix()): path for path in files}


def ca_bundle_file(ca_bundle: str) -> dict[PurePosixPath, Path]:
    """data.rds_ca_bundle at the path `ledger.connection` loads it from (nothing when it is empty)."""
    if not ca_bundle:
        return {}
    source = LAMBDA_SRC.parent / ca_bundle  # relative to the repository root (an absolute path stays itself)
    if not source.is_file():
        raise ValueError(f"data.rds_ca_bundle: {source} is not a file; download it from {RDS_CA_BUNDLE_URL}")
    return {PurePosixPath(CA_BUNDLE.relative_to(LAMBDA_SRC.parent).as_posix()): source}


def package_files(function: str, ca_bundle: str = "") -> dict[PurePosixPath, Path]:
    """What the archive of `function` holds: its path in the archive -> the file it is copied from.

    `lambda_src/__init__.py`, `common/`, the packages the function uses and its own, in the repository's
    layout (Lambda imports `lambda_src.<function>.<module>`); with `ledger`, the driver's files at the root
    and the RDS CA bundle (`ca_bundle`, config data.rds_ca_bundle) where the ledger reads it.
    """
    if not (LAMBDA_SRC / function / "__init__.py").is_file():
        raise ValueError(f"{LAMBDA_SRC / function} has no __init__.py: not a Lambda package")
    directories = [SHARED_PACKAGE, *USES_PACKAGES.get(function, ()), function]
    files = source_files(directories)
    if LEDGER_PACKAGE in directories:
        for distribution in driver_distributions():
            files.update(distribution_files(distribution))
        files.update(ca_bundle_file(ca_bundle))
    return dict(sorted(files.items()))


def write_zip(files: Mapping[PurePosixPath, Path], archive: Path) -> str:
    """Zips `files` (path in the archive -> source) into `archive` with fixed entry times and modes; returns the
    SHA-256 (hex) of the entries' names and contents, which changes exactly when the archive's content does."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for relative, source in files.items():
            content = source.read_bytes()
            entry = zipfile.ZipInfo(relative.as_posix(), date_time=ARCHIVED_TIME)
            entry.external_attr = (stat.S_IFREG | ARCHIVED_MODE) << 16
            entry.create_system = 3  # unix: the mode above is read
            entry.compress_type = zipfile.ZIP_DEFLATED
            zipped.writestr(entry, content)
            digest.update(relative.as_posix().encode() + b"\0" + content + b"\0")
    return digest.hexdigest()
