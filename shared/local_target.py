"""Everything that differs when the target is the local emulator, decided in one place.

The `aws` target never sees anything from this module: stacks ask the
functions below, which answer "as AWS needs it" unless the target is local.
Every gap is listed in GAPS, and README's emulator notes are checked against
that list by tests/unit/test_local_target.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.settings import Settings

# The emulator accepts any credentials; these are never valid on AWS.
FAKE_ACCESS_KEY = "test"
FAKE_SECRET_KEY = "test"

# Provider endpoint names (canonical, as the hashicorp/aws 5.x provider spells them)
# for every service the stacks use; tests check each resource type maps to one.
LOCAL_ENDPOINT_SERVICES: tuple[str, ...] = (
    "apigateway",
    "backup",
    "cloudwatch",
    "dynamodb",
    "ec2",
    "events",
    "iam",
    "kms",
    "lambda_",
    "logs",
    "rds",
    "route53",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
    "sts",
    "xray",
)


@dataclass(frozen=True)
class Gap:
    """Something the emulator cannot do, and what the local target does instead."""

    key: str
    emulator_behaviour: str
    local_handling: str


GAPS: tuple[Gap, ...] = (
    Gap(
        "dynamodb-replica",
        "no DynamoDB global tables: replica requests are ignored and Terraform waits forever",
        "data-secondary creates a regional table with the same schema, key and settings instead of the replica",
    ),
    Gap(
        "backup-selection",
        "CreateBackupSelection is not implemented (HTTP 500)",
        "the tag-based backup selection is not created locally; the plan and vault are",
    ),
    Gap(
        "s3-replication-delete-markers",
        "delete_marker_replication always reads back Disabled (phantom diff)",
        "ignore_changes on the replication rule's delete_marker_replication locally",
    ),
    Gap(
        "s3-replication-copy",
        "replication configuration is stored but objects are never copied",
        "tests check the stored configuration, not copied objects",
    ),
    Gap(
        "aurora-scaling-configuration",
        "aws_rds_cluster reads back a phantom scaling_configuration block",
        "ignore_changes on scaling_configuration locally",
    ),
    Gap(
        "lambda-invoke",
        "Lambda invoke needs a Docker engine, which does not run here",
        "handlers are tested in-process with boto3 pointed at the emulator",
    ),
    Gap(
        "peering-accepter-tags",
        "the accepter side reads back the requester's tags",
        "both sides of the peering carry identical tags (harmless on AWS, so not target-specific)",
    ),
)


def is_local(settings: Settings) -> bool:
    return settings.target == "local"


def supports_dynamodb_replicas(settings: Settings) -> bool:
    return not is_local(settings)


def supports_backup_selection(settings: Settings) -> bool:
    return not is_local(settings)


def emulator_ignore_changes(settings: Settings, *attributes: str) -> list[str]:
    """Attributes whose phantom diffs the emulator causes; empty for the aws target."""
    return list(attributes) if is_local(settings) else []
