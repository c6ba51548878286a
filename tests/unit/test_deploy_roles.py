"""The pipeline's OIDC provider, boundary and roles converge (`ops.state.deploy_roles`): boto3 round trips against moto
in-process with AWS's managed policies loaded (aws-shaped), and the whole bootstrap twice on a private emulator."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from config import ConfigError, Settings, load_settings
from config.settings import Pipeline
from ops.core.aws_clients import client
from ops.core.paths import ROOT
from ops.deploy import preflight
from ops.state import bootstrap, deploy_roles
from ops.state.bootstrap_key import Caller
from ops.state.pipeline_policies import boundary_policy, deploy_trust, plan_policy, plan_trust
from shared.pipeline import boundary_policy_name, deploy_role_name, plan_role_name
from tests.conftest import AWS_ZONE
from tests.unit.private_emulator import private_emulator

ACCOUNT, REGION = "123456789012", "us-east-1"
CALLER = Caller(account_id=ACCOUNT, partition="aws")
REPOSITORY = "acme-payments/payments-platform"
KEY_ARNS = [f"arn:aws:kms:us-east-1:{ACCOUNT}:key/p", f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/s"]
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
BOUNDARY = "payments-dev-github-boundary"
DEPLOY, PLAN = "payments-dev-github-deploy", "payments-dev-github-plan"
FIRST_RUN = [
    "created the IAM OIDC provider https://token.actions.githubusercontent.com (audience sts.amazonaws.com)",
    f"created the permissions boundary policy {BOUNDARY}",
    f"created IAM role {DEPLOY}",
    f"attached AdministratorAccess to IAM role {DEPLOY}",
    f"created IAM role {PLAN}",
    f"attached ReadOnlyAccess to IAM role {PLAN}",
    f"set the read-state-and-secrets policy of IAM role {PLAN}",
]
VARIABLES = [
    f"GitHub Environment dev: variable PAYMENTS_DEPLOY_ROLE_ARN=arn:aws:iam::{ACCOUNT}:role/{DEPLOY}",
    f"repository variable PAYMENTS_PLAN_ROLE_ARN_DEV=arn:aws:iam::{ACCOUNT}:role/{PLAN}",
    f"repository variable PAYMENTS_AWS_ACCOUNT_ID_DEV={ACCOUNT}",
]


@pytest.fixture
def settings() -> Settings:
    return load_settings(
        environ={
            "PAYMENTS_DOTENV": "none",
            "PAYMENTS_TARGET": "aws",
            "PAYMENTS_AWS_ACCOUNT_ID": ACCOUNT,
            "PAYMENTS_DNS_ZONE_NAME": AWS_ZONE,
            "PAYMENTS_PIPELINE_GITHUB_REPOSITORY": REPOSITORY,
        }
    )


@pytest.fixture
def iam(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """IAM as on AWS: moto in-process, with AWS's managed policies (AdministratorAccess, ReadOnlyAccess) loaded."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    with mock_aws():
        yield boto3.client("iam", region_name=REGION)


def attached(iam: Any, role: str) -> list[str]:
    return [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]


def test_a_first_run_creates_everything_and_a_second_changes_nothing(iam: Any, settings: Settings) -> None:
    """https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html (ThumbprintList is
    optional; IAM verifies GitHub's certificate against its trusted CAs, so none is sent),
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html"""
    first = deploy_roles.ensure_deploy_roles(settings, iam, CALLER, KEY_ARNS)
    assert (first.changes, first.notes) == (FIRST_RUN, VARIABLES)
    second = deploy_roles.ensure_deploy_roles(settings, iam, CALLER, KEY_ARNS)
    assert (second.changes, second.notes) == ([], VARIABLES)

    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN)
    assert provider["Url"] == "token.actions.githubusercontent.com"
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    assert provider["ThumbprintList"] == []
    boundary_arn = f"arn:aws:iam::{ACCOUNT}:policy/{BOUNDARY}"
    version = iam.get_policy(PolicyArn=boundary_arn)["Policy"]["DefaultVersionId"]
    stored = iam.get_policy_version(PolicyArn=boundary_arn, VersionId=version)["PolicyVersion"]["Document"]
    assert stored == boundary_policy(settings, CALLER, KEY_ARNS)
    for name, trust in ((DEPLOY, deploy_trust(settings, CALLER)), (PLAN, plan_trust(settings, CALLER))):
        role = iam.get_role(RoleName=name)["Role"]
        assert role["AssumeRolePolicyDocument"] == trust
        assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary_arn
        assert role["MaxSessionDuration"] == 3600
    assert attached(iam, DEPLOY) == ["AdministratorAccess"]
    assert iam.list_role_policies(RoleName=DEPLOY)["PolicyNames"] == []
    assert attached(iam, PLAN) == ["ReadOnlyAccess"]
    inline = iam.get_role_policy(RoleName=PLAN, PolicyName="read-state-and-secrets")["PolicyDocument"]
    assert inline == plan_policy(settings, CALLER, KEY_ARNS)


def test_a_role_changed_by_hand_is_brought_back(iam: Any, settings: Settings) -> None:
    """Drift on the deploy role (a wider trust, no boundary, a longer session, an extra policy) is undone, one line
    per change (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_update-role-settings.html)."""
    deploy_roles.ensure_deploy_roles(settings, iam, CALLER, KEY_ARNS)
    wide = deploy_trust(settings, CALLER)
    wide["Statement"][0]["Condition"] = {
        "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme-payments/*"}
    }
    iam.update_assume_role_policy(RoleName=DEPLOY, PolicyDocument=json.dumps(wide))
    iam.delete_role_permissions_boundary(RoleName=DEPLOY)
    iam.update_role(RoleName=DEPLOY, MaxSessionDuration=43200)
    iam.attach_role_policy(RoleName=DEPLOY, PolicyArn="arn:aws:iam::aws:policy/IAMFullAccess")
    extra = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}
    iam.put_role_policy(RoleName=PLAN, PolicyName="extra", PolicyDocument=json.dumps(extra))
    report = deploy_roles.ensure_deploy_roles(settings, iam, CALLER, KEY_ARNS)
    assert report.changes == [
        f"updated the trust policy of IAM role {DEPLOY}",
        f"set the maximum session of IAM role {DEPLOY} to 3600 seconds",
        f"set the permissions boundary of IAM role {DEPLOY}",
        f"detached arn:aws:iam::aws:policy/IAMFullAccess from IAM role {DEPLOY}",
        f"deleted the extra policy of IAM role {PLAN}",
    ]
    assert iam.get_role(RoleName=DEPLOY)["Role"]["AssumeRolePolicyDocument"] == deploy_trust(settings, CALLER)
    assert attached(iam, DEPLOY) == ["AdministratorAccess"]
    assert deploy_roles.ensure_deploy_roles(settings, iam, CALLER, KEY_ARNS).changes == []


def test_a_changed_boundary_is_a_new_default_version_and_the_oldest_goes_at_iams_limit(
    iam: Any, settings: Settings
) -> None:
    """A managed policy keeps at most five versions; a sixth needs one deleted first
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-versioning.html)."""
    boundary_arn = f"arn:aws:iam::{ACCOUNT}:policy/{BOUNDARY}"
    for n in range(6):  # new bootstrap keys each time: six documents
        keys = [f"{arn}-{n}" for arn in KEY_ARNS]
        changes = deploy_roles.ensure_boundary(settings, iam, CALLER, boundary_policy(settings, CALLER, keys))[1]
        assert changes == [f"{'created' if n == 0 else 'updated'} the permissions boundary policy {BOUNDARY}"]
    versions = iam.list_policy_versions(PolicyArn=boundary_arn)["Versions"]
    assert len(versions) == 5
    assert "v1" not in {v["VersionId"] for v in versions}
    (default,) = [v for v in versions if v["IsDefaultVersion"]]
    stored = iam.get_policy_version(PolicyArn=boundary_arn, VersionId=default["VersionId"])["PolicyVersion"]
    assert stored["Document"] == boundary_policy(settings, CALLER, [f"{arn}-5" for arn in KEY_ARNS])


class ProviderWithAnotherAudience:
    """An account whose GitHub provider another tool made with its own audience (the emulator does not implement
    AddClientIDToOpenIDConnectProvider: its answers as AWS gives them)."""

    class exceptions:
        class NoSuchEntityException(Exception):
            pass

    def __init__(self) -> None:
        self.meta = SimpleNamespace(endpoint_url="https://iam.amazonaws.com")
        self.client_ids = ["https://github.com/acme-payments"]
        self.thumbprints = ["6938fd4d98bab03faadb97b34396831e3780aea1"]
        self.calls: list[str] = []

    def get_open_id_connect_provider(self, OpenIDConnectProviderArn: str) -> dict[str, Any]:
        return {"ClientIDList": list(self.client_ids), "ThumbprintList": list(self.thumbprints)}

    def add_client_id_to_open_id_connect_provider(self, OpenIDConnectProviderArn: str, ClientID: str) -> None:
        self.calls.append(f"add {ClientID} to {OpenIDConnectProviderArn}")
        self.client_ids.append(ClientID)


def test_an_existing_provider_gains_the_audience_and_keeps_what_others_set(settings: Settings) -> None:
    """The provider is one per URL and account: others' audiences and legacy thumbprints stay
    (https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddClientIDToOpenIDConnectProvider.html)."""
    iam = ProviderWithAnotherAudience()
    assert deploy_roles.ensure_oidc_provider(settings, iam, CALLER) == (
        PROVIDER_ARN,
        ["added the audience sts.amazonaws.com to the IAM OIDC provider https://token.actions.githubusercontent.com"],
    )
    assert iam.calls == [f"add sts.amazonaws.com to {PROVIDER_ARN}"]
    assert deploy_roles.ensure_oidc_provider(settings, iam, CALLER) == (PROVIDER_ARN, [])
    assert iam.thumbprints == ["6938fd4d98bab03faadb97b34396831e3780aea1"]


def test_without_a_repository_nothing_is_asked_of_iam(settings: Settings) -> None:
    class NoCalls:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"IAM called: {name}")

    report = deploy_roles.ensure_deploy_roles(replace(settings, pipeline=Pipeline("")), NoCalls(), CALLER, KEY_ARNS)
    assert (report.changes, report.notes) == ([], [])


def test_bootstrap_twice_on_a_private_emulator_creates_the_pipeline_roles_once() -> None:
    """The whole `make bootstrap` on the local target: the provider, boundary and roles exist afterwards (read back
    with boto3), a second run changes nothing, and the AWS managed policies the emulator lacks are skipped by name
    (gap iam-managed-policies), never silently."""
    with private_emulator() as local:
        settings = replace(local, pipeline=Pipeline(REPOSITORY))
        first = bootstrap.bootstrap(settings)
        second = bootstrap.bootstrap(settings)
        iam = client(settings, "iam", settings.regions.primary)
        provider_arn = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"][0]["Arn"]
        provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider_arn)
        roles = {
            name: iam.get_role(RoleName=name)["Role"] for name in (deploy_role_name(settings), plan_role_name(settings))
        }
        policies = iam.list_policies(Scope="Local")["Policies"]
        lines = bootstrap.bootstrap_lines(settings)
    pipeline_changes = [line for line in first.changes if "github" in line or "OIDC" in line]
    assert pipeline_changes == [
        "created the IAM OIDC provider https://token.actions.githubusercontent.com (audience sts.amazonaws.com)",
        f"created the permissions boundary policy {BOUNDARY}",
        f"created IAM role {DEPLOY}",
        f"created IAM role {PLAN}",
        f"set the read-state-and-secrets policy of IAM role {PLAN}",
    ]
    assert second.changes == []
    skipped = [note for note in second.notes if "iam-managed-policies" in note]
    assert skipped == [
        f"skipped attaching AdministratorAccess to {DEPLOY}: emulator gap iam-managed-policies",
        f"skipped attaching ReadOnlyAccess to {PLAN}: emulator gap iam-managed-policies",
    ]
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    assert provider_arn.endswith(":oidc-provider/token.actions.githubusercontent.com")
    assert {policy["PolicyName"] for policy in policies} >= {boundary_policy_name(settings)}
    for role in roles.values():
        assert role["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith(f":policy/{BOUNDARY}")
        statement = role["AssumeRolePolicyDocument"]["Statement"][0]
        assert statement["Principal"] == {"Federated": provider_arn}
    deploy_sub = roles[DEPLOY]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]
    assert deploy_sub["token.actions.githubusercontent.com:sub"] == f"repo:{REPOSITORY}:environment:dev"
    account = roles[DEPLOY]["Arn"].split(":")[4]
    assert lines[-4:-1] == [  # what to copy into GitHub, on every run, before the no-change line
        f"GitHub Environment dev: variable PAYMENTS_DEPLOY_ROLE_ARN={roles[DEPLOY]['Arn']}",
        f"repository variable PAYMENTS_PLAN_ROLE_ARN_DEV={roles[PLAN]['Arn']}",
        f"repository variable PAYMENTS_AWS_ACCOUNT_ID_DEV={account}",
    ]
    assert lines[-1].startswith("no change:")
    assert lines[-1].endswith("the account settings of both regions and the GitHub pipeline roles already in place")


def test_preflight_sends_to_bootstrap_until_the_pipeline_roles_exist(iam: Any, settings: Settings) -> None:
    missing = preflight.check_pipeline_roles(iam, settings)
    assert missing.line == (
        f"FAIL  GitHub pipeline roles: {DEPLOY}, {PLAN} missing: the workflows of {REPOSITORY} cannot assume them "
        "-- fix: run `make bootstrap`"
    )
    deploy_roles.ensure_deploy_roles(settings, iam, CALLER, KEY_ARNS)
    assert (
        preflight.check_pipeline_roles(iam, settings).line == f"ok    GitHub pipeline roles: {DEPLOY} and {PLAN} exist"
    )


@pytest.mark.parametrize("repository", ["acme/*", "*", "acme", "acme/pay ments", "-acme/payments", "acme/pay?"])
def test_a_repository_that_is_not_exactly_owner_slash_name_is_refused_naming_the_field(repository: str) -> None:
    """A wildcard would become part of the trusted `sub`: the setting is owner/name exactly, or empty."""
    with pytest.raises(ConfigError) as refused:
        load_settings(environ={"PAYMENTS_DOTENV": "none", "PAYMENTS_PIPELINE_GITHUB_REPOSITORY": repository})
    (line,) = refused.value.lines
    assert line == (
        f"pipeline.github_repository={repository!r} is invalid: use a GitHub repository as owner/name, such as "
        "acme/payments, or empty for no pipeline trust; set PAYMENTS_PIPELINE_GITHUB_REPOSITORY in .env or edit "
        "config/environments/dev.toml"
    )


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_the_github_variables_name_what_the_workflows_read(settings: Settings, environment: str) -> None:
    chosen = replace(settings, environment=environment)
    lines = deploy_roles.github_variables(chosen, "111122223333", "arn:deploy", "arn:plan")
    assert lines == [
        f"GitHub Environment {environment}: variable PAYMENTS_DEPLOY_ROLE_ARN=arn:deploy",
        f"repository variable PAYMENTS_PLAN_ROLE_ARN_{environment.upper()}=arn:plan",
        f"repository variable PAYMENTS_AWS_ACCOUNT_ID_{environment.upper()}=111122223333",
    ]


def test_the_docs_describe_every_statement_of_the_boundary(settings: Settings) -> None:
    documented = set(re.findall(r"^\| `(\w+)` \|", (ROOT / "docs" / "pipeline-credentials.md").read_text(), re.M))
    sids = {statement["Sid"] for statement in boundary_policy(settings, CALLER, KEY_ARNS)["Statement"]}
    assert len(sids) >= 10, "count guard"
    assert sids <= documented, f"undocumented boundary statements: {sorted(sids - documented)}"
