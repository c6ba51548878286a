"""`make bootstrap` with `pipeline.github_repository` set: GitHub Actions' AWS access, without stored keys.

Converges, reading first and changing only what differs (one line per change):
- the account's IAM OIDC provider for GitHub Actions (`shared.pipeline.GITHUB_OIDC_URL`) with the audience
  `sts.amazonaws.com`. No thumbprint is sent: CreateOpenIDConnectProvider's list is optional, and IAM verifies
  GitHub's certificate against its library of trusted CAs, not a thumbprint. The provider is account-wide (one per
  URL): another environment's, or another tool's, audiences and thumbprints are kept;
- the permissions boundary both roles carry (`ops.state.pipeline_policies.boundary_policy`), a managed policy;
- the deploy role (AdministratorAccess within the boundary, 1-hour sessions), trusted only by jobs bound to the
  GitHub Environment named like this environment;
- the plan role (ReadOnlyAccess plus the state and secret reads a plan needs, within the boundary), trusted by the
  repository's pull requests and its main branch.

Its notes say what to copy into GitHub (role ARNs are not secrets).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from config.settings import Settings
from ops.core.endpoints import is_emulator
from ops.state.account_settings import Report
from ops.state.bootstrap_key import Caller
from ops.state.pipeline_policies import (
    aws_managed_policy_arn,
    boundary_arn,
    boundary_policy,
    deploy_trust,
    oidc_provider_arn,
    plan_policy,
    plan_trust,
)
from shared.pipeline import (
    DEPLOY_ROLE_VARIABLE,
    GITHUB_OIDC_AUDIENCE,
    GITHUB_OIDC_URL,
    account_id_variable,
    boundary_policy_name,
    deploy_role_name,
    plan_role_name,
    plan_role_variable,
)

SESSION_SECONDS = 3600  # the job's credentials last at most an hour; a longer deploy re-assumes per job
DEPLOY_MANAGED_POLICY = "AdministratorAccess"
PLAN_MANAGED_POLICY = "ReadOnlyAccess"
PLAN_INLINE_POLICY = "read-state-and-secrets"
POLICY_VERSION_LIMIT = 5  # IAM keeps at most five versions of a managed policy


@dataclass(frozen=True)
class PipelineRole:
    name: str
    trust: dict[str, Any]
    managed_policy: str  # an AWS managed policy's name
    inline: dict[str, dict[str, Any]]  # name -> document: exactly these inline policies
    description: str


def _tags(settings: Settings) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in settings.tags.items()]


def ensure_oidc_provider(settings: Settings, iam: Any, caller: Caller) -> tuple[str, list[str]]:
    arn = oidc_provider_arn(caller)
    try:
        found = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    except iam.exceptions.NoSuchEntityException:
        iam.create_open_id_connect_provider(
            Url=GITHUB_OIDC_URL, ClientIDList=[GITHUB_OIDC_AUDIENCE], Tags=_tags(settings)
        )
        return arn, [f"created the IAM OIDC provider {GITHUB_OIDC_URL} (audience {GITHUB_OIDC_AUDIENCE})"]
    if GITHUB_OIDC_AUDIENCE in found.get("ClientIDList", []):
        return arn, []
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID=GITHUB_OIDC_AUDIENCE)
    return arn, [f"added the audience {GITHUB_OIDC_AUDIENCE} to the IAM OIDC provider {GITHUB_OIDC_URL}"]


def ensure_boundary(settings: Settings, iam: Any, caller: Caller, document: dict[str, Any]) -> tuple[str, list[str]]:
    """The managed policy at `document`: a new default version when it differs, the oldest dropped at the limit."""
    arn, name = boundary_arn(settings, caller), boundary_policy_name(settings)
    try:
        policy = iam.get_policy(PolicyArn=arn)["Policy"]
    except iam.exceptions.NoSuchEntityException:
        iam.create_policy(
            PolicyName=name,
            PolicyDocument=json.dumps(document),
            Description="the GitHub pipeline roles' permissions boundary (created by make bootstrap)",
            Tags=_tags(settings),
        )
        return arn, [f"created the permissions boundary policy {name}"]
    current = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    if current["Document"] == document:
        return arn, []
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    if len(versions) >= POLICY_VERSION_LIMIT:
        oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
        iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True)
    return arn, [f"updated the permissions boundary policy {name}"]


def _ensure_role_itself(settings: Settings, iam: Any, role: PipelineRole, boundary: str) -> tuple[str, list[str]]:
    try:
        found = iam.get_role(RoleName=role.name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        created = iam.create_role(
            RoleName=role.name,
            AssumeRolePolicyDocument=json.dumps(role.trust),
            Description=role.description,
            MaxSessionDuration=SESSION_SECONDS,
            PermissionsBoundary=boundary,
            Tags=_tags(settings),
        )["Role"]
        return str(created["Arn"]), [f"created IAM role {role.name}"]
    changes: list[str] = []
    if found["AssumeRolePolicyDocument"] != role.trust:
        iam.update_assume_role_policy(RoleName=role.name, PolicyDocument=json.dumps(role.trust))
        changes.append(f"updated the trust policy of IAM role {role.name}")
    if found.get("MaxSessionDuration") != SESSION_SECONDS:
        iam.update_role(RoleName=role.name, MaxSessionDuration=SESSION_SECONDS)
        changes.append(f"set the maximum session of IAM role {role.name} to {SESSION_SECONDS} seconds")
    if found.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") != boundary:
        iam.put_role_permissions_boundary(RoleName=role.name, PermissionsBoundary=boundary)
        changes.append(f"set the permissions boundary of IAM role {role.name}")
    return str(found["Arn"]), changes


def _ensure_managed_policy(iam: Any, role: PipelineRole, caller: Caller) -> Report:
    """Exactly one AWS managed policy attached. Gap iam-managed-policies: the emulator has none to attach."""
    if is_emulator(iam):
        return Report(
            notes=[f"skipped attaching {role.managed_policy} to {role.name}: emulator gap iam-managed-policies"]
        )
    wanted = aws_managed_policy_arn(caller, role.managed_policy)
    attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role.name)["AttachedPolicies"]}
    report = Report()
    if wanted not in attached:
        iam.attach_role_policy(RoleName=role.name, PolicyArn=wanted)
        report.changes.append(f"attached {role.managed_policy} to IAM role {role.name}")
    for extra in sorted(attached - {wanted}):
        iam.detach_role_policy(RoleName=role.name, PolicyArn=extra)
        report.changes.append(f"detached {extra} from IAM role {role.name}")
    return report


def _ensure_inline_policies(iam: Any, role: PipelineRole) -> list[str]:
    changes: list[str] = []
    for name in sorted(set(iam.list_role_policies(RoleName=role.name)["PolicyNames"]) - set(role.inline)):
        iam.delete_role_policy(RoleName=role.name, PolicyName=name)
        changes.append(f"deleted the {name} policy of IAM role {role.name}")
    for name, document in role.inline.items():
        try:
            current = iam.get_role_policy(RoleName=role.name, PolicyName=name)["PolicyDocument"]
        except iam.exceptions.NoSuchEntityException:
            current = None
        if current != document:
            iam.put_role_policy(RoleName=role.name, PolicyName=name, PolicyDocument=json.dumps(document))
            changes.append(f"{'set' if current is None else 'updated'} the {name} policy of IAM role {role.name}")
    return changes


def ensure_pipeline_role(settings: Settings, iam: Any, caller: Caller, role: PipelineRole) -> tuple[str, Report]:
    arn, changes = _ensure_role_itself(settings, iam, role, boundary_arn(settings, caller))
    report = Report(changes=changes)
    report.extend(_ensure_managed_policy(iam, role, caller))
    report.changes += _ensure_inline_policies(iam, role)
    return arn, report


def pipeline_roles(settings: Settings, caller: Caller, key_arns: Sequence[str]) -> tuple[PipelineRole, PipelineRole]:
    """The deploy role and the plan role of this environment."""
    repository = settings.pipeline.github_repository
    deploy = PipelineRole(
        deploy_role_name(settings),
        deploy_trust(settings, caller),
        DEPLOY_MANAGED_POLICY,
        {},
        f"GitHub Actions deploys of {repository} to {settings.environment} (created by make bootstrap)",
    )
    plan = PipelineRole(
        plan_role_name(settings),
        plan_trust(settings, caller),
        PLAN_MANAGED_POLICY,
        {PLAN_INLINE_POLICY: plan_policy(settings, caller, key_arns)},
        f"GitHub Actions plans of {repository} against {settings.environment}, read-only (created by make bootstrap)",
    )
    return deploy, plan


def github_variables(settings: Settings, account_id: str, deploy_arn: str, plan_arn: str) -> list[str]:
    """What to set in the repository's settings so the generated workflows find the account and the roles."""
    env = settings.environment
    return [
        f"GitHub Environment {env}: variable {DEPLOY_ROLE_VARIABLE}={deploy_arn}",
        f"repository variable {plan_role_variable(env)}={plan_arn}",
        f"repository variable {account_id_variable(env)}={account_id}",
    ]


def ensure_deploy_roles(settings: Settings, iam: Any, caller: Caller, key_arns: Sequence[str]) -> Report:
    """Nothing when no repository is configured; else the provider, the boundary and both roles."""
    if not settings.pipeline.github_repository:
        return Report()
    _, changes = ensure_oidc_provider(settings, iam, caller)
    report = Report(changes=changes)
    report.changes += ensure_boundary(settings, iam, caller, boundary_policy(settings, caller, key_arns))[1]
    deploy, plan = pipeline_roles(settings, caller, key_arns)
    deploy_arn, deploy_report = ensure_pipeline_role(settings, iam, caller, deploy)
    plan_arn, plan_report = ensure_pipeline_role(settings, iam, caller, plan)
    report.extend(deploy_report)
    report.extend(plan_report)
    report.notes += github_variables(settings, caller.account_id, deploy_arn, plan_arn)
    return report
