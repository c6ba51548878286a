"""The policy documents of the delivery pipeline's AWS access (`ops.state.deploy_roles` converges them).

- Trust: GitHub's OIDC provider, audience `sts.amazonaws.com`, and an exact `sub` (StringEquals, never a wildcard):
  the deploy role trusts the jobs bound to the GitHub Environment named like the platform environment; the plan
  role trusts the repository's pull requests and its main branch (`shared.pipeline`).
- The permissions boundary both roles carry: the ceiling of what a deploy may do. It allows the services the
  stacks and ops use, and denies what no pipeline run may do: long-lived credentials, changing the pipeline's own
  trust (the boundary, the roles, the OIDC provider), deleting the remote state's homes and keys, account and
  organization changes, and any request to a region other than the two configured (global services excepted).
- The plan role's inline policy: what `terraform plan` needs beyond AWS's ReadOnlyAccess.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from config.settings import ROLES, Settings
from ops.state.bootstrap_key import Caller
from shared.local_target import LOCAL_ENDPOINT_SERVICES
from shared.pipeline import (
    GITHUB_OIDC_AUDIENCE,
    GITHUB_OIDC_HOST,
    boundary_policy_name,
    deploy_role_name,
    deploy_subject,
    plan_role_name,
    plan_subjects,
)

# SDK/provider service names whose IAM action prefix differs; every other name is its own prefix.
IAM_PREFIX_OF_SERVICE = {
    "elbv2": "elasticloadbalancing",
    "lambda_": "lambda",
    "sfn": "states",
    "stepfunctions": "states",
}
# Prefixes a deploy needs besides the services' own: creating a Backup vault also calls backup-storage:MountCapsule.
SUPPORTING_PREFIXES: tuple[str, ...] = ("backup-storage",)
# Services with one global endpoint (us-east-1), exempt from the region deny, as the IAM example policy lists them
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws_deny-requested-region.html).
GLOBAL_SERVICE_PREFIXES: tuple[str, ...] = (
    "budgets", "cloudfront", "globalaccelerator", "health", "iam", "importexport", "organizations", "route53",
    "route53domains", "sts", "support", "waf",
)  # fmt: skip
# Long-lived credentials: a user, its access keys, console password, service credentials, signing certificates.
LONG_LIVED_CREDENTIAL_ACTIONS: tuple[str, ...] = (
    "iam:CreateUser",
    "iam:CreateAccessKey",
    "iam:UpdateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:CreateServiceSpecificCredential",
    "iam:UploadSigningCertificate",
    "iam:UploadSSHPublicKey",
)
BOUNDARY_POLICY_CHANGES: tuple[str, ...] = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy",
    "iam:UntagPolicy",
)
PIPELINE_ROLE_CHANGES: tuple[str, ...] = (
    "iam:PutRolePermissionsBoundary",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:DeleteRole",
    "iam:TagRole",
    "iam:UntagRole",
)
OIDC_PROVIDER_CHANGES: tuple[str, ...] = (
    "iam:DeleteOpenIDConnectProvider",
    "iam:AddClientIDToOpenIDConnectProvider",
    "iam:RemoveClientIDFromOpenIDConnectProvider",
    "iam:UpdateOpenIDConnectProviderThumbprint",
    "iam:TagOpenIDConnectProvider",
    "iam:UntagOpenIDConnectProvider",
)
# Another identity provider would let a role trusting it be assumed from outside, as durably as a stored key.
NEW_IDENTITY_PROVIDERS: tuple[str, ...] = (
    "iam:CreateOpenIDConnectProvider",
    "iam:CreateSAMLProvider",
    "iam:UpdateSAMLProvider",
)
# What would lose or unprotect the remote state: its buckets (and their versioning, policy, lifecycle), its lock
# tables (and their point-in-time recovery), and the bootstrap keys that encrypt both.
STATE_BUCKET_CHANGES: tuple[str, ...] = (
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:PutBucketVersioning",
    "s3:PutLifecycleConfiguration",
    "s3:PutReplicationConfiguration",
)
LOCK_TABLE_CHANGES: tuple[str, ...] = ("dynamodb:DeleteTable", "dynamodb:UpdateContinuousBackups")
BOOTSTRAP_KEY_CHANGES: tuple[str, ...] = (
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "kms:PutKeyPolicy",
    "kms:DeleteAlias",
    "kms:UpdateAlias",
)
ACCOUNT_CHANGES: tuple[str, ...] = (
    "organizations:*",
    "account:*",
    "iam:CreateAccountAlias",
    "iam:DeleteAccountAlias",
    "iam:UpdateAccountPasswordPolicy",
    "iam:DeleteAccountPasswordPolicy",
)


def _document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def oidc_provider_arn(caller: Caller) -> str:
    return f"arn:{caller.partition}:iam::{caller.account_id}:oidc-provider/{GITHUB_OIDC_HOST}"


def role_arn(caller: Caller, name: str) -> str:
    return f"arn:{caller.partition}:iam::{caller.account_id}:role/{name}"


def boundary_arn(settings: Settings, caller: Caller) -> str:
    return f"arn:{caller.partition}:iam::{caller.account_id}:policy/{boundary_policy_name(settings)}"


def aws_managed_policy_arn(caller: Caller, name: str) -> str:
    return f"arn:{caller.partition}:iam::aws:policy/{name}"


def github_trust(caller: Caller, subjects: Sequence[str]) -> dict[str, Any]:
    """Web identities from GitHub's provider with our audience and one of `subjects`, compared exactly."""
    subject: str | list[str] = subjects[0] if len(subjects) == 1 else list(subjects)
    return _document(
        {
            "Sid": "GitHubActionsOfThisRepository",
            "Effect": "Allow",
            "Principal": {"Federated": oidc_provider_arn(caller)},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE, f"{GITHUB_OIDC_HOST}:sub": subject}
            },
        }
    )


def deploy_trust(settings: Settings, caller: Caller) -> dict[str, Any]:
    return github_trust(caller, [deploy_subject(settings.pipeline.github_repository, settings.environment)])


def plan_trust(settings: Settings, caller: Caller) -> dict[str, Any]:
    return github_trust(caller, plan_subjects(settings.pipeline.github_repository))


def deploy_service_prefixes() -> tuple[str, ...]:
    """The IAM prefixes of every service the stacks use (the emulator's endpoint list names each one) and what
    those services call on the caller's behalf."""
    used = {IAM_PREFIX_OF_SERVICE.get(service, service) for service in LOCAL_ENDPOINT_SERVICES}
    return tuple(sorted(used | set(SUPPORTING_PREFIXES)))


def _state_resources(settings: Settings, caller: Caller, key_arns: Sequence[str]) -> dict[str, list[str]]:
    p, account = caller.partition, caller.account_id
    buckets = [f"arn:{p}:s3:::{settings.state_bucket_of(role)}" for role in ROLES]
    regions = [settings.regions.of(role) for role in ROLES]
    tables = [f"arn:{p}:dynamodb:{region}:{account}:table/{settings.state.lock_table}" for region in regions]
    aliases = [f"arn:{p}:kms:{region}:{account}:{settings.bootstrap_key_alias}" for region in regions]
    return {"buckets": buckets, "tables": tables, "keys": [*key_arns, *aliases]}


def _deny(sid: str, actions: str | Sequence[str], resources: str | Sequence[str]) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Action": actions if isinstance(actions, str) else list(actions),
        "Resource": resources if isinstance(resources, str) else list(resources),
    }


def _via(services: Sequence[str], regions: Sequence[str]) -> dict[str, Any]:
    """Only when the named services call KMS on the caller's behalf in these regions."""
    return {"StringEquals": {"kms:ViaService": [f"{s}.{r}.amazonaws.com" for s in services for r in regions]}}


def boundary_policy(settings: Settings, caller: Caller, key_arns: Sequence[str]) -> dict[str, Any]:
    pipeline_roles = [role_arn(caller, deploy_role_name(settings)), role_arn(caller, plan_role_name(settings))]
    state = _state_resources(settings, caller, key_arns)
    regions = [settings.regions.of(role) for role in ROLES]
    return _document(
        {
            "Sid": "AllowTheServicesTheStacksUse",
            "Effect": "Allow",
            "Action": [f"{prefix}:*" for prefix in deploy_service_prefixes()],
            "Resource": "*",
        },
        _deny("DenyLongLivedCredentials", LONG_LIVED_CREDENTIAL_ACTIONS, "*"),
        _deny("DenyNewIdentityProviders", NEW_IDENTITY_PROVIDERS, "*"),
        _deny("DenyChangingTheBoundary", BOUNDARY_POLICY_CHANGES, boundary_arn(settings, caller)),
        # No role may shed a boundary; the pipeline's roles may not be re-bounded, re-trusted or re-permissioned.
        _deny("DenyRemovingBoundaries", "iam:DeleteRolePermissionsBoundary", "*"),
        _deny("DenyChangingThePipelineRoles", PIPELINE_ROLE_CHANGES, pipeline_roles),
        _deny("DenyChangingTheOidcProvider", OIDC_PROVIDER_CHANGES, oidc_provider_arn(caller)),
        # The stacks' roles are assumed by services only; a pipeline session assuming a role could leave the boundary.
        _deny("DenyAssumingOtherRoles", "sts:AssumeRole", "*"),
        _deny("DenyUnprotectingStateBuckets", STATE_BUCKET_CHANGES, state["buckets"]),
        _deny("DenyUnprotectingLockTables", LOCK_TABLE_CHANGES, state["tables"]),
        _deny("DenyRetiringBootstrapKeys", BOOTSTRAP_KEY_CHANGES, state["keys"]),
        _deny("DenyAccountChanges", ACCOUNT_CHANGES, "*"),
        {
            "Sid": "DenyOtherRegions",
            "Effect": "Deny",
            "NotAction": [f"{prefix}:*" for prefix in GLOBAL_SERVICE_PREFIXES],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": regions}},
        },
    )


def plan_policy(settings: Settings, caller: Caller, key_arns: Sequence[str]) -> dict[str, Any]:
    """Beyond ReadOnlyAccess: decrypting the state (S3 objects, the lock table's digest items) with the bootstrap
    keys, and reading what a refresh reads in plain text (the environment's secrets, SecureString parameters).
    Plans run with -lock=false: no lock write."""
    p, account = caller.partition, caller.account_id
    regions = [settings.regions.of(role) for role in ROLES]
    buckets = [f"arn:{p}:s3:::{settings.state_bucket_of(role)}" for role in ROLES]
    prefix = f"{settings.project}-{settings.environment_suffix}-"
    return _document(
        {"Sid": "ListStateBuckets", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": buckets},
        {
            "Sid": "ReadStateObjects",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            # The states, and what ops reads beside them: deploy records (skip-unchanged) and the traffic split.
            "Resource": [f"{bucket}/{settings.environment}/*" for bucket in buckets],
        },
        {
            "Sid": "DecryptStateWithTheBootstrapKeys",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": list(key_arns),
            "Condition": _via(("s3", "dynamodb"), regions),
        },
        {
            "Sid": "ReadTheEnvironmentsSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": [f"arn:{p}:secretsmanager:{region}:{account}:secret:{prefix}*" for region in regions],
        },
        {
            "Sid": "DecryptSecretsAndParameters",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": [f"arn:{p}:kms:{region}:{account}:key/*" for region in regions],
            "Condition": _via(("secretsmanager", "ssm"), regions),
        },
    )
