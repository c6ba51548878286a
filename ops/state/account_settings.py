"""Settings that exist once per account and region, set by `make bootstrap` before any stack is applied.

- API Gateway's CloudWatch Logs role (`UpdateAccount` cloudwatchRoleArn): one per account and region, so no
  environment's stack may own it (two owners overwrite each other).
- AWS Backup region settings: opt-in for the resource types the tag-based backup selections cover, and full
  AWS Backup management of DynamoDB (its advanced features, which cross-region copies of DynamoDB need).
- The `RDSOSMetrics` log group: RDS Enhanced Monitoring creates it unencrypted with no retention unless it exists.

Every function converges and returns one line per change it made; `Report.notes` holds what was skipped and why.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from config.settings import Settings
from ops.core.endpoints import is_emulator
from ops.state.bootstrap_key import RDS_OS_METRICS_LOG_GROUP, Caller, service_trust_policy

# Opt-in covers the types the tag-based selections back up; management turns on Backup's advanced DynamoDB features.
BACKUP_OPT_IN = {"Aurora": True, "DynamoDB": True}
BACKUP_MANAGEMENT = {"DynamoDB": True}
API_GATEWAY_LOG_ACTIONS = (  # write only: API Gateway never reads the logs it writes
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
)
ROLE_PROPAGATION_SECONDS = 60  # a new role is not assumable at once: UpdateAccount rejects it until IAM propagates


@dataclass
class Report:
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def extend(self, other: Report) -> None:
        self.changes += other.changes
        self.notes += other.notes


def api_gateway_role_name(settings: Settings) -> str:
    """Account-wide, so without the environment: every environment of the account converges on the same role."""
    return f"{settings.project}-account-apigateway-logs"


def api_gateway_trust_policy(caller: Caller) -> dict[str, Any]:
    return service_trust_policy("apigateway.amazonaws.com", caller)


def api_gateway_logs_policy(caller: Caller) -> dict[str, Any]:
    log_groups = f"arn:{caller.partition}:logs:*:{caller.account_id}:log-group:*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteApiGatewayLogs",
                "Effect": "Allow",
                "Action": list(API_GATEWAY_LOG_ACTIONS),
                "Resource": [log_groups, f"{log_groups}:log-stream:*"],
            }
        ],
    }


@dataclass(frozen=True)
class BootstrapRole:
    """An IAM role a service assumes, with one inline policy: what bootstrap converges it to."""

    name: str
    trust: dict[str, Any]
    policy_name: str
    policy: dict[str, Any]
    description: str


def ensure_bootstrap_role(settings: Settings, iam: Any, role: BootstrapRole) -> tuple[str, list[str]]:
    """Create the role or bring its trust and inline policy to `role`; its ARN and one line per change."""
    changes: list[str] = []
    try:
        found = iam.get_role(RoleName=role.name)["Role"]
        if found["AssumeRolePolicyDocument"] != role.trust:
            iam.update_assume_role_policy(RoleName=role.name, PolicyDocument=json.dumps(role.trust))
            changes.append(f"updated the trust policy of IAM role {role.name}")
    except iam.exceptions.NoSuchEntityException:
        found = iam.create_role(
            RoleName=role.name,
            AssumeRolePolicyDocument=json.dumps(role.trust),
            Description=role.description,
            Tags=[{"Key": k, "Value": v} for k, v in settings.tags.items()],
        )["Role"]
        changes.append(f"created IAM role {role.name}")
    try:
        current = iam.get_role_policy(RoleName=role.name, PolicyName=role.policy_name)["PolicyDocument"]
    except iam.exceptions.NoSuchEntityException:
        current = None
    if current != role.policy:
        iam.put_role_policy(RoleName=role.name, PolicyName=role.policy_name, PolicyDocument=json.dumps(role.policy))
        verb = "set" if current is None else "updated"
        changes.append(f"{verb} the {role.policy_name} policy of IAM role {role.name}")
    return str(found["Arn"]), changes


def ensure_api_gateway_role(settings: Settings, iam: Any, caller: Caller) -> tuple[str, list[str]]:
    role = BootstrapRole(
        api_gateway_role_name(settings),
        api_gateway_trust_policy(caller),
        "write-logs",
        api_gateway_logs_policy(caller),
        "API Gateway writes CloudWatch logs (account setting; created by make bootstrap)",
    )
    return ensure_bootstrap_role(settings, iam, role)


def ensure_api_gateway_account(apigateway: Any, role_arn: str, region: str, *, role_is_new: bool) -> list[str]:
    if apigateway.get_account().get("cloudwatchRoleArn") == role_arn:
        return []
    deadline = time.monotonic() + (ROLE_PROPAGATION_SECONDS if role_is_new else 0)
    while True:
        try:
            apigateway.update_account(
                patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role_arn}]
            )
            return [f"set API Gateway's CloudWatch Logs role in {region}"]
        except apigateway.exceptions.BadRequestException:
            if time.monotonic() >= deadline:
                raise
            time.sleep(5)


def ensure_backup_region_settings(backup: Any, region: str) -> Report:
    if is_emulator(backup):
        return Report(notes=[f"skipped AWS Backup region settings in {region}: emulator gap backup-region-settings"])
    current = backup.describe_region_settings()
    opt_in = {k: v for k, v in BACKUP_OPT_IN.items() if current.get("ResourceTypeOptInPreference", {}).get(k) != v}
    managed = {
        k: v for k, v in BACKUP_MANAGEMENT.items() if current.get("ResourceTypeManagementPreference", {}).get(k) != v
    }
    if not opt_in and not managed:
        return Report()
    backup.update_region_settings(ResourceTypeOptInPreference=opt_in, ResourceTypeManagementPreference=managed)
    wanted = ", ".join([*(f"opt-in {k}" for k in opt_in), *(f"full management of {k}" for k in managed)])
    return Report(changes=[f"set AWS Backup region settings in {region}: {wanted}"])


def ensure_rds_os_metrics_log_group(logs: Any, key_arn: str, retention_days: int, region: str) -> Report:
    """Pre-creates the group with the key and a retention. A group that already has a key keeps it: the group is
    account-wide, and another environment of the account may have bootstrapped it with its own key."""
    found = [
        group
        for group in logs.describe_log_groups(logGroupNamePrefix=RDS_OS_METRICS_LOG_GROUP)["logGroups"]
        if group["logGroupName"] == RDS_OS_METRICS_LOG_GROUP
    ]
    report = Report()
    if not found:
        logs.create_log_group(logGroupName=RDS_OS_METRICS_LOG_GROUP, kmsKeyId=key_arn)
        report.changes.append(f"created log group {RDS_OS_METRICS_LOG_GROUP} in {region}, encrypted with {key_arn}")
        group: dict[str, Any] = {"kmsKeyId": key_arn}
    else:
        group = found[0]
        if not group.get("kmsKeyId"):
            logs.associate_kms_key(logGroupName=RDS_OS_METRICS_LOG_GROUP, kmsKeyId=key_arn)
            report.changes.append(f"encrypted log group {RDS_OS_METRICS_LOG_GROUP} in {region} with {key_arn}")
        elif group["kmsKeyId"] != key_arn:
            report.notes.append(
                f"log group {RDS_OS_METRICS_LOG_GROUP} in {region} keeps its key {group['kmsKeyId']} "
                "(account-wide: another environment set it)"
            )
    if group.get("retentionInDays") != retention_days:
        logs.put_retention_policy(logGroupName=RDS_OS_METRICS_LOG_GROUP, retentionInDays=retention_days)
        report.changes.append(f"set the retention of {RDS_OS_METRICS_LOG_GROUP} in {region} to {retention_days} days")
    return report
