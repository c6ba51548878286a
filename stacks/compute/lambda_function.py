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
shares with the others, archived by the synth in the repository's layout (`stacks.compute.packaging`: with
the `ledger` package, also its pure-Python driver at the archive's root, where Lambda's /var/task is on the
import path).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
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

from shared import iam
from shared.checkov import skip
from shared.service_role import ServiceRole
from stacks.compute.packaging import LAMBDA_SRC, package_files, write_zip

RUNTIME = "python3.12"
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


@cache
def _archive(function: str, ca_bundle: str) -> tuple[Path, str]:
    """The function's zip, written once per synth (every stack that deploys the function shares it), and a hash
    of its content. Entries carry one fixed time and mode, so an unchanged source zips to the same bytes (and the
    same source_code_hash): a re-synth never shows up as a code change. Zipped here, not by cdktf's archive
    asset, which would zip the same files again for every stack."""
    staging = Path(tempfile.mkdtemp(prefix=f"lambda-{function}-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    archive = staging / ARCHIVE_NAME
    digest = write_zip(package_files(function, ca_bundle), archive)
    return archive, digest[:32].upper()


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
