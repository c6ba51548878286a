"""A Lambda function as production runs it: its own role and log group.

Every function gets
- a role of its own whose one inline policy holds exactly the statements the caller grants, plus
  what any VPC function with tracing and logs needs, plus an explicit Deny on destructive actions;
- the log group `/aws/lambda/<name>`, created before the function (so Lambda never creates an
  unencrypted one that never expires), encrypted with the region key, retention from config;
- private subnets and a security group, reserved concurrency (or none), X-Ray tracing, environment
  variables encrypted with the region key.

No dead-letter queue: Lambda sends only failed asynchronous invocations there, and these functions are
invoked synchronously (API Gateway's proxy integration, the SQS event source mapping). A failed API call
is the caller's 5xx (and the API's alarms); a failed retry message returns to its queue, whose redrive
policy parks it in that queue's dead-letter queue.

Code comes from `lambda_package`: one function's package of `lambda_src/` and the `common` package it
shares with the others, archived by the synth in the repository's layout. An archive that carries the
`ledger` package also carries its PostgreSQL driver (`DRIVER_REQUIREMENT` and every distribution it
requires, copied from this environment's installed files to the archive's root, where Lambda's
/var/task is on the import path); only pure-Python distributions, so the archive fits any platform.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.metadata
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from cdktf import AssetType, Fn, TerraformAsset
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionEnvironment,
    LambdaFunctionTracingConfig,
    LambdaFunctionVpcConfig,
)
from constructs import Construct

from config.schema import RDS_CA_BUNDLE_URL
from lambda_src.ledger.config import CA_BUNDLE
from shared import iam
from shared.checkov import skip
from shared.service_role import ServiceRole

RUNTIME = "python3.12"
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
ARCHIVE_NAME = "archive.zip"

# Denied to every function whatever else it is granted, on any resource: a guardrail that outlives
# later edits of the allow statements.
DESTRUCTIVE_ACTIONS: tuple[str, ...] = (
    "dynamodb:DeleteTable",
    "dynamodb:DeleteItem",
    "dynamodb:DeleteBackup",
    "s3:DeleteBucket",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
)

# What Lambda itself needs to attach a function to a VPC (the actions of AWS's
# AWSLambdaVPCAccessExecutionRole). EC2 does not support resource-level permissions for these
# calls as Lambda makes them, so AWS requires Resource "*"; they grant nothing beyond ENI plumbing.
VPC_NETWORK_INTERFACE_ACTIONS: tuple[str, ...] = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
# X-Ray's segment upload APIs have no resource-level permissions either: Resource "*" is required.
TRACING_ACTIONS: tuple[str, ...] = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")


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
                "evaluate: teach stacks/compute/lambda_function.py that marker before archiving it"
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
            raise ValueError(f"{name} (needed by the ledger's driver) is not installed: run make install") from None
        found[key] = distribution
        pending += _required_names(distribution)
    return [found[key] for key in sorted(found)]


def _distribution_files(distribution: importlib.metadata.Distribution) -> dict[PurePosixPath, Path]:
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


def _source_files(directories: Sequence[str]) -> dict[PurePosixPath, Path]:
    files = [LAMBDA_SRC / "__init__.py"]
    for directory in directories:
        files += _packaged_files(LAMBDA_SRC / directory)
    return {PurePosixPath(path.relative_to(LAMBDA_SRC.parent).as_posix()): path for path in files}


def _ca_bundle_file(ca_bundle: str) -> dict[PurePosixPath, Path]:
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
    files = _source_files(directories)
    if LEDGER_PACKAGE in directories:
        for distribution in driver_distributions():
            files.update(_distribution_files(distribution))
        files.update(_ca_bundle_file(ca_bundle))
    return dict(sorted(files.items()))


@cache
def _archive(function: str, ca_bundle: str) -> tuple[Path, str]:
    """The function's zip, written once per synth (every stack that deploys the function shares it), and a hash
    of its content. Entries carry one fixed time and mode, so an unchanged source zips to the same bytes (and the
    same source_code_hash): a re-synth never shows up as a code change. Zipped here, not by cdktf's archive
    asset, which would zip the same files again for every stack."""
    staging = Path(tempfile.mkdtemp(prefix=f"lambda-{function}-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    archive = staging / ARCHIVE_NAME
    digest = hashlib.sha256()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for relative, source in package_files(function, ca_bundle).items():
            content = source.read_bytes()
            entry = zipfile.ZipInfo(relative.as_posix(), date_time=ARCHIVED_TIME)
            entry.external_attr = (stat.S_IFREG | ARCHIVED_MODE) << 16
            entry.create_system = 3  # unix: the mode above is read
            entry.compress_type = zipfile.ZIP_DEFLATED
            zipped.writestr(entry, content)
            digest.update(relative.as_posix().encode() + b"\0" + content + b"\0")
    return archive, digest.hexdigest()[:32].upper()


@dataclass(frozen=True)
class LambdaPackage:
    """One function's archive (`asset`) and the dotted handler path of its entry points (in `module`)."""

    asset: TerraformAsset
    function: str
    module: str = "handler"

    def handler(self, entry: str = "handler") -> str:
        return f"{LAMBDA_SRC.name}.{self.function}.{self.module}.{entry}"


def lambda_package(
    scope: Construct, construct_id: str, *, function: str, module: str = "handler", ca_bundle: str = ""
) -> LambdaPackage:
    """A zip of `lambda_src/<function>` and `lambda_src/common` (without caches), written by the synth; the
    entry points live in `lambda_src/<function>/<module>.py`. With `ledger`, also its driver and `ca_bundle`
    (config data.rds_ca_bundle; empty: none, as on the local target)."""
    archive, content_hash = _archive(function, ca_bundle)
    asset = TerraformAsset(scope, construct_id, path=str(archive), type=AssetType.FILE, asset_hash=content_hash)
    return LambdaPackage(asset, function, module)


class PlatformFunction(Construct):
    """Exposes `function` (`function_name`, `arn`, `invoke_arn`), `role`, its inline `policy` and `log_group`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        description: str,
        package: LambdaPackage,
        entry: str = "handler",
        memory_mb: int,
        timeout_seconds: int,
        reserved_concurrency: int | None,
        environment: Mapping[str, str],
        kms_key_arn: str,
        subnet_ids: Sequence[str],
        security_group_ids: Sequence[str],
        log_retention_days: int,
        statements: Sequence[dict[str, Any]],
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = CloudwatchLogGroup(
            self,
            "logs",
            name=f"/aws/lambda/{name}",
            retention_in_days=log_retention_days,
            kms_key_id=kms_key_arn,
        )
        skip(
            self.log_group,
            "CKV_AWS_338",
            "retention is compute.log_retention_days (30 days by spec); payments and their audit records are kept "
            "in DynamoDB and S3",
        )
        runtime = ServiceRole(
            self,
            service="lambda.amazonaws.com",
            name=name,
            description=f"Runtime role of the {name} function",
            policy_name="runtime",
            statements=[
                iam.allow(
                    ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{self.log_group.arn}:*"], sid="WriteOwnLogs"
                ),
                iam.allow(["kms:Decrypt", "kms:GenerateDataKey"], [kms_key_arn], sid="UseRegionKey"),
                iam.allow(VPC_NETWORK_INTERFACE_ACTIONS, ["*"], sid="AttachToVpc"),
                iam.allow(TRACING_ACTIONS, ["*"], sid="SendTraces"),
                *statements,
                iam.deny(DESTRUCTIVE_ACTIONS, ["*"], sid="DenyDestructiveActions"),
            ],
        )
        self.role = runtime.role
        self.policy = runtime.policy
        self.function = LambdaFunction(
            self,
            "function",
            function_name=name,
            description=description,
            role=self.role.arn,
            runtime=RUNTIME,
            handler=package.handler(entry),
            filename=package.asset.path,
            source_code_hash=Fn.filebase64sha256(package.asset.path),
            memory_size=memory_mb,
            timeout=timeout_seconds,
            reserved_concurrent_executions=reserved_concurrency,
            kms_key_arn=kms_key_arn,
            environment=LambdaFunctionEnvironment(variables=dict(environment)),
            vpc_config=LambdaFunctionVpcConfig(
                subnet_ids=list(subnet_ids), security_group_ids=list(security_group_ids)
            ),
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            # The log group first (or Lambda creates an unencrypted one), and the role's permissions
            # (Lambda checks the ENI permissions when the function is created).
            depends_on=[self.log_group, runtime.policy],
        )
        skip(
            self.function,
            "CKV_AWS_116",
            "invoked synchronously only (API Gateway, the SQS event source): Lambda sends nothing to a dead-letter "
            "queue then; failed retry messages go to the retry queue's redrive DLQ",
        )
        skip(
            self.function,
            "CKV_AWS_272",
            "the code is archived by the synth from this repository and deployed only through it; no AWS Signer "
            "profile exists in this platform yet",
        )
