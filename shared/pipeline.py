"""The delivery pipeline's names, one source for the bootstrap that creates the GitHub OIDC trust
(`ops.state.deploy_roles`) and for the generated workflows that assume it (`ops.pipeline.workflows`).

A workflow job gets short-lived AWS credentials from GitHub's OIDC provider: the job's token names the
repository and, for a job bound to a GitHub Environment, that environment (`sub` claim). Each environment
has a deploy role trusted for exactly `repo:<owner>/<name>:environment:<env>`, and a plan role (read-only)
trusted for the repository's pull requests and its main branch. The workflows read the roles' ARNs from
GitHub variables; the bootstrap prints the values to copy there.
"""

from __future__ import annotations

from config.settings import Settings

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"
MAIN_BRANCH = "main"

# A variable of the GitHub Environment named like the platform environment (`dev`, `prod`): only jobs bound to
# that environment (and so past its protection rules) read it.
DEPLOY_ROLE_VARIABLE = "PAYMENTS_DEPLOY_ROLE_ARN"


def plan_role_variable(environment: str) -> str:
    """A repository variable: plan jobs are bound to no GitHub Environment (a plan must not wait for reviewers)."""
    return f"PAYMENTS_PLAN_ROLE_ARN_{environment.upper()}"


def account_id_variable(environment: str) -> str:
    """A repository variable: the AWS account of `environment` (PAYMENTS_AWS_ACCOUNT_ID of its jobs, and the
    account in its state bucket's name). Plan jobs read it too, so it cannot be an environment variable."""
    return f"PAYMENTS_AWS_ACCOUNT_ID_{environment.upper()}"


def deploy_role_name(settings: Settings) -> str:
    return f"{settings.project}-{settings.environment_suffix}-github-deploy"


def plan_role_name(settings: Settings) -> str:
    return f"{settings.project}-{settings.environment_suffix}-github-plan"


def boundary_policy_name(settings: Settings) -> str:
    return f"{settings.project}-{settings.environment_suffix}-github-boundary"


def deploy_subject(repository: str, environment: str) -> str:
    """The `sub` claim of a job bound to the GitHub Environment `environment`."""
    return f"repo:{repository}:environment:{environment}"


def plan_subjects(repository: str) -> tuple[str, ...]:
    """The `sub` claims a plan may come from: a pull request, or a scheduled/dispatched run on main (drift)."""
    return (f"repo:{repository}:pull_request", f"repo:{repository}:ref:refs/heads/{MAIN_BRANCH}")
