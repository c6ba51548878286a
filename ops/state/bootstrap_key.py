"""The bootstrap KMS key of one region: a customer-managed key with rotation on, found by its alias.

It encrypts what `make bootstrap` creates before any stack exists: the state bucket and lock table (in the
state region) and the `RDSOSMetrics` log group (in every configured region). Idempotent: returns what it changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from config.settings import Settings

RDS_OS_METRICS_LOG_GROUP = "RDSOSMetrics"  # the name RDS Enhanced Monitoring writes to; fixed by AWS


@dataclass(frozen=True)
class Caller:
    """Who bootstrap runs as: the account and partition every ARN it writes is built from."""

    account_id: str
    partition: str


def service_trust_policy(service_principal: str, caller: Caller) -> dict[str, Any]:
    """A role a service assumes on behalf of this account only (`aws:SourceAccount`: the confused-deputy guard)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service_principal},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": caller.account_id}},
            }
        ],
    }


def key_policy(caller: Caller, region: str) -> dict[str, Any]:
    """The account administers the key through IAM (the default key policy); CloudWatch Logs of this region may use
    it for the RDSOSMetrics log group only (the encryption-context condition of the CloudWatch Logs docs)."""
    log_group_arn = f"arn:{caller.partition}:logs:{region}:{caller.account_id}:log-group:{RDS_OS_METRICS_LOG_GROUP}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{caller.partition}:iam::{caller.account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchLogsEncryptsRdsOsMetrics",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
            },
        ],
    }


def ensure_key(settings: Settings, kms: Any, caller: Caller, region: str) -> tuple[str, list[str]]:
    """The key's ARN, and one line per change (created, rotation enabled, policy updated)."""
    alias = settings.bootstrap_key_alias
    policy = key_policy(caller, region)
    changes: list[str] = []
    try:
        key_arn = str(kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"])
    except kms.exceptions.NotFoundException:
        key_arn = str(
            kms.create_key(
                Description=f"{settings.project}-{settings.environment_suffix}: Terraform state and account settings "
                "created by make bootstrap",
                Policy=json.dumps(policy),
                Tags=[{"TagKey": k, "TagValue": v} for k, v in settings.tags.items()],
            )["KeyMetadata"]["Arn"]
        )
        kms.create_alias(AliasName=alias, TargetKeyId=key_arn)
        changes.append(f"created KMS key {alias} in {region}")
    if not kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"]:
        kms.enable_key_rotation(KeyId=key_arn)
        changes.append(f"enabled rotation of {alias} in {region}")
    if json.loads(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]) != policy:
        kms.put_key_policy(KeyId=key_arn, PolicyName="default", Policy=json.dumps(policy))
        changes.append(f"updated the key policy of {alias} in {region}")
    return key_arn, changes
