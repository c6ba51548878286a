"""AWS rules the generated workflows' sign-in must meet (aws-actions/configure-aws-credentials calls
sts:AssumeRoleWithWebIdentity with these values)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.pipeline import render
from shared.pipeline import GITHUB_OIDC_AUDIENCE

# A GitHub run id is a 64-bit integer (at most 19 digits); attempts stay far below 1,000.
LONGEST = {"${{ github.run_id }}": "9" * 19, "${{ github.run_attempt }}": "999"}


@pytest.fixture(scope="module")
def sign_ins(project_root: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted((project_root / render.WORKFLOWS_DIR).glob("*.yml")):
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            found += [s["with"] for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-")]
    assert len(found) == 16 + 2 + 2 + 2 + 2 + 2  # deploy, plans, rollout, failover, rollback, drift
    return found


def test_role_session_names_fit_sts(sign_ins: list[dict[str, Any]]) -> None:
    """STS AssumeRoleWithWebIdentity, RoleSessionName: length 2-64, pattern [\\w+=,.@-]*
    (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html; botocore's sts model
    `roleSessionNameType` says the same: min 2, max 64). Checked at the longest run id."""
    for sign_in in sign_ins:
        name = sign_in["role-session-name"]
        for placeholder, longest in LONGEST.items():
            name = name.replace(placeholder, longest)
        assert 2 <= len(name) <= 64, name
        assert re.fullmatch(r"[\w+=,.@-]*", name), name


def test_the_token_audience_is_the_one_the_roles_trust(sign_ins: list[dict[str, Any]]) -> None:
    """IAM, "Configuring a role for GitHub OIDC identity provider"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html#idp_oidc_Create_GitHub) and
    GitHub's "Configuring OpenID Connect in Amazon Web Services": the provider's audience is `sts.amazonaws.com`
    with the official action, and the role's trust condition `token.actions.githubusercontent.com:aud` requires it;
    the job asks for a token with that audience (configure-aws-credentials' `audience`). A job bound to an
    environment gets the `sub` `repo:<owner>/<repo>:environment:<name>`, which is why every job holding the deploy
    role is bound to one."""
    assert {sign_in["audience"] for sign_in in sign_ins} == {GITHUB_OIDC_AUDIENCE}
