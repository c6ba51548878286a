"""Fingerprints of a synthesized stack directory (`cdktf.out/stacks/<stack>` or a materialized release).

`config_sha256` covers everything an apply applies: the JSON, its variable values (`*.auto.tfvars.json`)
and every asset it ships. `template_sha256` leaves the variable values out: it tells two releases' code apart
although a DNS stack's traffic weight differs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

CONFIG_FILE = "cdk.tf.json"
TFVARS_GLOB = "*.auto.tfvars.json"


def _file_digest(path: Path) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()


def _asset_files(directory: Path) -> list[Path]:
    assets = directory / "assets"
    return sorted(p for p in assets.rglob("*") if p.is_file()) if assets.is_dir() else []


def stack_files(directory: Path) -> list[Path]:
    """What an apply reads from a stack directory (relative paths): the JSON, its tfvars, its assets."""
    tfvars = sorted(p.relative_to(directory) for p in directory.glob(TFVARS_GLOB))
    return [Path(CONFIG_FILE), *tfvars, *(p.relative_to(directory) for p in _asset_files(directory))]


def _sha256(directory: Path, *, with_variables: bool) -> str:
    digest = hashlib.sha256((directory / CONFIG_FILE).read_bytes())
    if with_variables:
        for path in sorted(directory.glob(TFVARS_GLOB)):
            digest.update(path.name.encode() + b"\0" + _file_digest(path))
    for path in _asset_files(directory):
        digest.update(str(path.relative_to(directory)).encode() + b"\0" + _file_digest(path))
    return digest.hexdigest()


def config_sha256(directory: Path) -> str:
    return _sha256(directory, with_variables=True)


def template_sha256(directory: Path) -> str:
    return _sha256(directory, with_variables=False)


def variables(directory: Path) -> dict[str, Any]:
    """The variable values a stack directory applies (`*.auto.tfvars.json`, merged in Terraform's order)."""
    merged: dict[str, Any] = {}
    for path in sorted(directory.glob(TFVARS_GLOB)):
        merged.update(json.loads(path.read_text()))
    return merged
