"""The processor's artifact: the payment code of `lambda_src/` and its HTTP adapter, zipped at synth.

The zip holds the packages an instance runs (`ARTIFACT_PACKAGES`, with `common` and the ledger's pure-Python
driver and CA bundle, as the functions' archives do: `stacks.compute.packaging`) and the AWS SDK
(`SDK_REQUIREMENT`), with fixed entry times and modes, so an unchanged source zips to the same bytes and the same
key `processor-<sha256[:16]>.zip`. The key is in the launch template's user data: new code is a new key, a new
launch template version and an instance refresh.
"""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath

from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.s3_object import S3Object
from constructs import Construct

from stacks.compute.packaging import (
    DRIVER_REQUIREMENT,
    LAMBDA_SRC,
    SHARED_PACKAGE,
    ca_bundle_file,
    distribution_files,
    driver_distributions,
    source_files,
    write_zip,
)

# What an instance runs: the HTTP adapter and the code it calls (the ledger's driver comes with `ledger`).
ARTIFACT_PACKAGES: tuple[str, ...] = ("payment_server", "payment_processor", "health", "ledger", SHARED_PACKAGE)
# Lambda's Python runtime brings an AWS SDK; Amazon Linux 2023's Python does not: the artifact carries the SDK this
# project pins (requirements.txt), pure Python like the driver.
SDK_REQUIREMENT = "boto3"
ARTIFACT_PREFIX = "processor/"
DIGEST_CHARS = 16


def artifact_files(ca_bundle: str = "") -> dict[PurePosixPath, Path]:
    """The artifact's content: path in the zip -> the file it is copied from (`ca_bundle`: data.rds_ca_bundle)."""
    for package in ARTIFACT_PACKAGES:
        if not (LAMBDA_SRC / package / "__init__.py").is_file():
            raise ValueError(f"{LAMBDA_SRC / package} has no __init__.py: the ec2 runtime's artifact needs it")
    files = source_files(ARTIFACT_PACKAGES)
    for top in (DRIVER_REQUIREMENT, SDK_REQUIREMENT):
        for distribution in driver_distributions(top):
            files.update(distribution_files(distribution))
    files.update(ca_bundle_file(ca_bundle))
    return dict(sorted(files.items()))


@cache
def _build(ca_bundle: str) -> tuple[Path, str]:
    """The zip (written once per synth: both regions' stacks share it) and its SHA-256 (hex)."""
    staging = Path(tempfile.mkdtemp(prefix="processor-artifact-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    archive = staging / "processor.zip"
    write_zip(artifact_files(ca_bundle), archive)
    return archive, hashlib.sha256(archive.read_bytes()).hexdigest()


def artifact_key(digest: str) -> str:
    return f"{ARTIFACT_PREFIX}processor-{digest[:DIGEST_CHARS]}.zip"


@dataclass(frozen=True)
class ArtifactObject:
    """Where the artifact is: `bucket` (name), `key`, and `object` (for `depends_on`)."""

    bucket: str
    key: str
    object: S3Object


def processor_artifact(
    scope: Construct, construct_id: str, *, bucket: str, kms_key_arn: str, ca_bundle: str
) -> ArtifactObject:
    """Uploads the artifact to `bucket` (the region's artifacts bucket), encrypted with the region key;
    `source_hash` makes a changed zip a changed object."""
    archive, digest = _build(ca_bundle)
    asset = TerraformAsset(
        scope, f"{construct_id}-asset", path=str(archive), type=AssetType.FILE, asset_hash=digest[:32].upper()
    )
    key = artifact_key(digest)
    uploaded = S3Object(
        scope,
        construct_id,
        bucket=bucket,
        key=key,
        source=asset.path,
        source_hash=digest,
        kms_key_id=kms_key_arn,
        content_type="application/zip",
    )
    return ArtifactObject(bucket, key, uploaded)
