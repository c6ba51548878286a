"""The steps and job settings every generated workflow shares."""

from __future__ import annotations

from typing import Any

from ops.pipeline.actions import CHECKOUT, CONFIGURE_AWS_CREDENTIALS, SETUP_PYTHON, SETUP_TERRAFORM
from ops.pipeline.environments import Environment, expression, python_version
from shared.pipeline import DEPLOY_ROLE_VARIABLE, GITHUB_OIDC_AUDIENCE, plan_role_variable

Step = dict[str, Any]
Job = dict[str, Any]

RUNNER = "ubuntu-24.04"
TERRAFORM_VERSION = "1.11.4"  # the version the project is developed and tested with (README: Terraform 1.11)
OPS = ".venv/bin/python -m ops"

READ = {"contents": "read"}
# Why a job holds each permission: written beside it in the YAML, so a reviewer need not guess.
PERMISSION_REASONS = {
    "contents: read": "check out the repository",
    "id-token: write": "an OIDC token for the AWS role; no stored keys",
    "pull-requests: write": "the sticky plan comment",
}
# A job that assumes an AWS role asks GitHub for an OIDC token; it needs nothing else from GitHub.
OIDC = {"contents": "read", "id-token": "write"}


def checkout(*, history: bool = False) -> Step:
    options: dict[str, Any] = {"persist-credentials": False}  # no token left in .git/config for later steps
    if history:
        options["fetch-depth"] = 0  # the pull request's base commit, to compare against
    return {"name": "checkout", "uses": CHECKOUT.uses, "with": options}


def setup_python() -> Step:
    return {"name": "python", "uses": SETUP_PYTHON.uses, "with": {"python-version": python_version()}}


def setup_terraform() -> Step:
    # No wrapper: ops parses Terraform's JSON output, which the wrapper script would decorate.
    return {
        "name": "terraform",
        "uses": SETUP_TERRAFORM.uses,
        "with": {"terraform_version": TERRAFORM_VERSION, "terraform_wrapper": False},
    }


def install() -> Step:
    """The venv and npm packages; no provider mirror on GitHub, so the CLI config falls back to the registry."""
    return {"name": "install", "run": "make install"}


def toolchain() -> list[Step]:
    return [checkout(), setup_python(), setup_terraform(), install()]


def credentials(env: Environment, *, deploy: bool, session: str, region: str = "") -> Step:
    """Short-lived credentials from GitHub's OIDC token: the deploy role (a variable of the GitHub Environment the
    job is bound to) or the read-only plan role (a repository variable). The session names the run (CloudTrail)."""
    role = DEPLOY_ROLE_VARIABLE if deploy else plan_role_variable(env.name)
    return {
        "name": "aws credentials",
        "uses": CONFIGURE_AWS_CREDENTIALS.uses,
        "with": {
            "role-to-assume": expression(f"vars.{role}"),
            "aws-region": region or env.primary_region,
            "role-session-name": f"{session}-{expression('github.run_id')}-{expression('github.run_attempt')}",
            "audience": GITHUB_OIDC_AUDIENCE,  # what the roles' trust policies require (the action's default too)
        },
    }


def aws_env(env: Environment) -> dict[str, str]:
    return {"PAYMENTS_ENV": env.name, "PAYMENTS_TARGET": "aws", "PAYMENTS_AWS_ACCOUNT_ID": env.account_expression}


def job(name: str, permissions: dict[str, str], steps: list[Step], **settings: Any) -> Job:
    """A job in the key order a reader expects: what it is, what it may do, where and when it runs, its steps."""
    return {"name": name, "runs-on": RUNNER, "permissions": permissions, **settings, "steps": steps}


def script(*lines: str) -> str:
    return "\n".join(lines) + "\n"
