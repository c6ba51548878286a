"""Rules for the delivery pipeline's AWS access (`make bootstrap` with pipeline.github_repository set): the trust of
the GitHub OIDC roles, their permissions boundary and the plan role's inline policy, on aws/dev and aws/prod."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from config import Settings
from ops.core.paths import ROOT
from ops.state.bootstrap_key import Caller
from ops.state.pipeline_policies import (
    GLOBAL_SERVICE_PREFIXES,
    IAM_PREFIX_OF_SERVICE,
    boundary_policy,
    deploy_service_prefixes,
    deploy_trust,
    plan_policy,
    plan_trust,
)
from shared.local_target import LOCAL_ENDPOINT_SERVICES
from shared.pipeline import (
    GITHUB_OIDC_AUDIENCE,
    GITHUB_OIDC_HOST,
    boundary_policy_name,
    deploy_role_name,
    plan_role_name,
    plan_subjects,
)
from tests.aws_target import aws_settings
from tests.conftest import AWS_ACCOUNT

REPOSITORY = "acme-payments/payments-platform"
CALLER = Caller(account_id=AWS_ACCOUNT, partition="aws")
PROVIDER_ARN = f"arn:aws:iam::{AWS_ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
REGIONS = ["us-east-1", "eu-west-1"]
KEY_ARNS = [f"arn:aws:kms:{region}:{AWS_ACCOUNT}:key/{n}" for n, region in enumerate(REGIONS)]
# IAM quotas: a managed policy's document (the boundary) at most 6,144 characters, a role's inline policies
# together at most 10,240, whitespace not counted
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
MANAGED_POLICY_MAX = 6144
INLINE_POLICIES_MAX = 10240


def pipeline_settings(environment: str, repository: str = REPOSITORY) -> Settings:
    return aws_settings(environment, PAYMENTS_PIPELINE_GITHUB_REPOSITORY=repository)


@pytest.fixture(params=["dev", "prod"])
def settings(request: pytest.FixtureRequest) -> Settings:
    return pipeline_settings(request.param)


def statements(document: dict[str, Any], *, at_least: int = 1) -> dict[str, dict[str, Any]]:
    """The statements by Sid (every statement has one), with a count guard."""
    found = {statement["Sid"]: statement for statement in document["Statement"]}
    assert len(found) == len(document["Statement"]) >= at_least, f"count guard: {len(found)} statements"
    return found


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def compact_length(document: dict[str, Any]) -> int:
    return len(json.dumps(document, separators=(",", ":")))


# -- trust: who may assume the roles --------------------------------------------------------------------------------


def test_the_deploy_role_trusts_exactly_this_repositorys_jobs_in_the_environment_of_its_name(
    settings: Settings,
) -> None:
    """GitHub: a job bound to an environment has `sub` = repo:<owner>/<repo>:environment:<name>, and the trust
    must evaluate `sub` (and `aud` = sts.amazonaws.com for the official action); AWS IAM: a role for GitHub's OIDC
    provider is assumed with sts:AssumeRoleWithWebIdentity, the provider as the Federated principal
    (https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html)."""
    (statement,) = statements(deploy_trust(settings, CALLER)).values()
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Federated": PROVIDER_ARN}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": f"repo:{REPOSITORY}:environment:{settings.environment}",
        }
    }


def test_the_plan_role_trusts_only_pull_requests_and_the_main_branch(settings: Settings) -> None:
    """GitHub's `sub` for a pull_request run is repo:<owner>/<repo>:pull_request, for a run on a branch with no
    environment repo:<owner>/<repo>:ref:refs/heads/<branch>; a condition key with several values matches any of them
    (https://docs.github.com/en/actions/reference/security/oidc,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html)."""
    (statement,) = statements(plan_trust(settings, CALLER)).values()
    assert statement["Principal"] == {"Federated": PROVIDER_ARN}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE,
            f"{GITHUB_OIDC_HOST}:sub": [f"repo:{REPOSITORY}:pull_request", f"repo:{REPOSITORY}:ref:refs/heads/main"],
        }
    }
    assert list(plan_subjects(REPOSITORY)) == statement["Condition"]["StringEquals"][f"{GITHUB_OIDC_HOST}:sub"]


def test_no_trust_compares_sub_with_a_pattern(settings: Settings) -> None:
    """IAM's StringLike with `*` in `sub` would admit any branch, pull request or environment of the repository
    (or of the whole organization); the trust compares exactly, and the setting refuses wildcard characters
    (https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html)."""
    trusts = [deploy_trust(settings, CALLER), plan_trust(settings, CALLER)]
    conditions = [statement["Condition"] for trust in trusts for statement in trust["Statement"]]
    assert len(conditions) == 2, "count guard"
    for condition in conditions:
        assert set(condition) == {"StringEquals"}
        subjects = as_list(condition["StringEquals"][f"{GITHUB_OIDC_HOST}:sub"])
        assert subjects
        assert not [s for s in subjects if "*" in s or "?" in s]


def test_each_environment_has_its_own_roles_and_boundary_within_iams_name_limits() -> None:
    """IAM role names are at most 64 characters, policy names at most 128
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html)."""
    dev, prod = pipeline_settings("dev"), pipeline_settings("prod")
    names = {f(s) for s in (dev, prod) for f in (deploy_role_name, plan_role_name, boundary_policy_name)}
    assert len(names) == 6
    assert max(len(deploy_role_name(s)) for s in (dev, prod)) <= 64
    assert max(len(boundary_policy_name(s)) for s in (dev, prod)) <= 128


# -- the permissions boundary ---------------------------------------------------------------------------------------


def test_the_boundary_denies_long_lived_credentials(settings: Settings) -> None:
    """No IAM user, access key or console password: GitHub's OIDC tokens replace stored keys
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#bp-workloads-use-roles)."""
    deny = statements(boundary_policy(settings, CALLER, KEY_ARNS))["DenyLongLivedCredentials"]
    assert deny["Effect"] == "Deny"
    assert deny["Resource"] == "*"
    assert {"iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile"} <= set(deny["Action"])


def test_the_boundary_denies_new_identity_providers(settings: Settings) -> None:
    """A role may trust any IAM OIDC or SAML provider of the account; a provider the pipeline made for an identity
    provider of its own choosing would be a way in that outlives the job
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers.html)."""
    deny = statements(boundary_policy(settings, CALLER, KEY_ARNS))["DenyNewIdentityProviders"]
    assert deny["Resource"] == "*"
    assert set(deny["Action"]) == {
        "iam:CreateOpenIDConnectProvider",
        "iam:CreateSAMLProvider",
        "iam:UpdateSAMLProvider",
    }


def test_the_boundary_protects_itself_and_the_pipelines_trust(settings: Settings) -> None:
    """A boundary holds only while its policy cannot be edited and a role cannot drop or replace it: the IAM guide's
    delegation example denies CreatePolicyVersion/DeletePolicy/SetDefaultPolicyVersion on the boundary and
    Delete*PermissionsBoundary (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html)."""
    found = statements(boundary_policy(settings, CALLER, KEY_ARNS))
    boundary = f"arn:aws:iam::{AWS_ACCOUNT}:policy/{boundary_policy_name(settings)}"
    assert found["DenyChangingTheBoundary"]["Resource"] == boundary
    assert {
        "iam:CreatePolicyVersion",
        "iam:DeletePolicy",
        "iam:DeletePolicyVersion",
        "iam:SetDefaultPolicyVersion",
    } <= set(found["DenyChangingTheBoundary"]["Action"])
    assert found["DenyRemovingBoundaries"]["Action"] == "iam:DeleteRolePermissionsBoundary"
    assert found["DenyRemovingBoundaries"]["Resource"] == "*"
    roles = found["DenyChangingThePipelineRoles"]
    assert roles["Resource"] == [
        f"arn:aws:iam::{AWS_ACCOUNT}:role/{deploy_role_name(settings)}",
        f"arn:aws:iam::{AWS_ACCOUNT}:role/{plan_role_name(settings)}",
    ]
    assert {"iam:PutRolePermissionsBoundary", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy"} <= set(
        roles["Action"]
    )
    provider = found["DenyChangingTheOidcProvider"]
    assert provider["Resource"] == PROVIDER_ARN
    assert {"iam:DeleteOpenIDConnectProvider", "iam:AddClientIDToOpenIDConnectProvider"} <= set(provider["Action"])
    assert found["DenyAssumingOtherRoles"] == {
        "Sid": "DenyAssumingOtherRoles",
        "Effect": "Deny",
        "Action": "sts:AssumeRole",
        "Resource": "*",
    }


def test_the_boundary_denies_deleting_the_remote_states_homes_and_keys(settings: Settings) -> None:
    """The state buckets (both homes), the lock table (both regions) and the bootstrap keys (and their alias) are
    the bootstrap's, never a pipeline run's to delete; an explicit deny in the boundary wins over any allow
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html#access_policies_boundaries-eval-logic,
    https://developer.hashicorp.com/terraform/language/backend/s3: versioning is what recovers a state)."""
    found = statements(boundary_policy(settings, CALLER, KEY_ARNS))
    buckets = found["DenyUnprotectingStateBuckets"]
    assert buckets["Resource"] == [
        f"arn:aws:s3:::{settings.state.bucket}",
        f"arn:aws:s3:::{settings.state.bucket}-replica",
    ]
    assert {"s3:DeleteBucket", "s3:PutBucketVersioning"} <= set(buckets["Action"])
    tables = found["DenyUnprotectingLockTables"]
    assert tables["Resource"] == [
        f"arn:aws:dynamodb:{region}:{AWS_ACCOUNT}:table/{settings.state.lock_table}" for region in REGIONS
    ]
    assert "dynamodb:DeleteTable" in tables["Action"]
    keys = found["DenyRetiringBootstrapKeys"]
    aliases = [f"arn:aws:kms:{region}:{AWS_ACCOUNT}:{settings.bootstrap_key_alias}" for region in REGIONS]
    assert keys["Resource"] == [*KEY_ARNS, *aliases]
    assert {"kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:DeleteAlias"} <= set(keys["Action"])


def test_the_boundary_denies_account_and_organization_changes(settings: Settings) -> None:
    """AdministratorAccess includes Organizations and account settings; the boundary's explicit deny removes them
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html#access_policies_boundaries-eval-logic)."""
    deny = statements(boundary_policy(settings, CALLER, KEY_ARNS))["DenyAccountChanges"]
    assert deny["Resource"] == "*"
    assert {"organizations:*", "account:*", "iam:CreateAccountAlias", "iam:UpdateAccountPasswordPolicy"} <= set(
        deny["Action"]
    )


def test_the_boundary_denies_regions_other_than_the_two_configured_except_global_services(settings: Settings) -> None:
    """aws:RequestedRegion with StringNotEquals and NotAction for the global services, whose single endpoint is in
    us-east-1 (CloudFront, IAM, Route 53, Support; add organizations, waf, budgets, ... as used), as the IAM example
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws_deny-requested-region.html,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requestedregion)."""
    deny = statements(boundary_policy(settings, CALLER, KEY_ARNS))["DenyOtherRegions"]
    assert deny["Effect"] == "Deny"
    assert deny["Resource"] == "*"
    assert "Action" not in deny
    assert deny["Condition"] == {
        "StringNotEquals": {"aws:RequestedRegion": [settings.regions.primary, settings.regions.secondary]}
    }
    exempt = {action.removesuffix(":*") for action in deny["NotAction"]}
    assert {"cloudfront", "iam", "route53", "support", "sts", "organizations", "waf"} <= exempt
    assert exempt == set(GLOBAL_SERVICE_PREFIXES)
    assert not exempt & {"ec2", "s3", "rds", "lambda", "dynamodb", "kms"}  # regional services stay denied


def test_the_boundary_allows_only_named_services_and_every_one_the_stacks_and_ops_call(settings: Settings) -> None:
    """A boundary grants nothing itself; the effective permissions are the intersection of the role's policies and
    the boundary, and an explicit deny in either wins
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html#access_policies_boundaries-eval-logic).
    So its allow names every service a deploy needs: each emulator endpoint (tests check each resource type has
    one) and each service ops opens a client for, and nothing as broad as `*`."""
    found = statements(boundary_policy(settings, CALLER, KEY_ARNS), at_least=10)
    allows = [statement for statement in found.values() if statement["Effect"] == "Allow"]
    assert [allow["Sid"] for allow in allows] == ["AllowTheServicesTheStacksUse"]
    allowed = {action.removesuffix(":*") for action in allows[0]["Action"]}
    assert "*" not in allows[0]["Action"]
    assert len(allowed) == len(deploy_service_prefixes()) >= 20
    for service in LOCAL_ENDPOINT_SERVICES:
        assert IAM_PREFIX_OF_SERVICE.get(service, service) in allowed, service
    opened = set()
    for source in (ROOT / "ops").rglob("*.py"):
        opened |= set(re.findall(r"client\(\s*settings,\s*\"([a-z0-9-]+)\"", source.read_text(encoding="utf-8")))
    assert len(opened) >= 10, f"count guard: {sorted(opened)}"
    assert {IAM_PREFIX_OF_SERVICE.get(service, service) for service in opened} <= allowed
    assert not allowed & {"organizations", "account"}


def test_the_boundary_fits_a_managed_policy(settings: Settings) -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html (managed policy size)"""
    assert compact_length(boundary_policy(settings, CALLER, KEY_ARNS)) <= MANAGED_POLICY_MAX


# -- the plan role's inline policy ----------------------------------------------------------------------------------


def test_the_plan_role_adds_only_reads_and_decrypts_each_key_only_through_its_service(settings: Settings) -> None:
    """Plans run with -lock=false and write nothing; the S3 backend reads the state objects and, with a lock table,
    the state's digest item (https://developer.hashicorp.com/terraform/language/backend/s3). Reading an SSE-KMS
    object or a CMK-encrypted table item needs kms:Decrypt, limited with kms:ViaService to the service reading
    for the caller (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service)."""
    document = plan_policy(settings, CALLER, KEY_ARNS)
    found = statements(document, at_least=5)
    actions = {action for statement in found.values() for action in as_list(statement["Action"])}
    assert actions == {"s3:ListBucket", "s3:GetObject", "kms:Decrypt", "secretsmanager:GetSecretValue"}
    assert {statement["Effect"] for statement in found.values()} == {"Allow"}
    state = found["DecryptStateWithTheBootstrapKeys"]
    assert state["Resource"] == KEY_ARNS
    assert state["Condition"] == {
        "StringEquals": {
            "kms:ViaService": [
                f"{service}.{region}.amazonaws.com" for service in ("s3", "dynamodb") for region in REGIONS
            ]
        }
    }
    assert found["ReadStateObjects"]["Resource"] == [
        f"arn:aws:s3:::{settings.state_bucket_of(role)}/{settings.environment}/*"  # states, deploy records, split
        for role in ("primary", "secondary")
    ]
    other_keys = found["DecryptSecretsAndParameters"]
    assert set(other_keys["Condition"]) == {"StringEquals"}
    assert {via.split(".")[0] for via in other_keys["Condition"]["StringEquals"]["kms:ViaService"]} == {
        "secretsmanager",
        "ssm",
    }
    secrets = found["ReadTheEnvironmentsSecrets"]["Resource"]
    assert secrets == [
        f"arn:aws:secretsmanager:{region}:{AWS_ACCOUNT}:secret:payments-{settings.environment_suffix}-*"
        for region in REGIONS
    ]
    assert compact_length(document) <= INLINE_POLICIES_MAX
