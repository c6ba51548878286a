"""The role an AWS service assumes to act for the platform, with the one inline policy that says what it may do.

`ServiceRole` creates both resources in the caller's scope rather than in a construct of its own: the
construct path of a resource is its Terraform logical name, so a role keeps the name (and state address)
it would have if it were written out by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from shared import iam


class ServiceRole:
    """Exposes `role` (`arn`, `id`) and `policy` (for `depends_on` when the service checks its grants at once)."""

    def __init__(
        self,
        scope: Construct,
        role_id: str = "role",
        *,
        policy_id: str = "policy",
        service: str,
        name: str,
        description: str | None = None,
        policy_name: str,
        statements: Sequence[dict[str, Any]],
    ) -> None:
        self.role = IamRole(
            scope,
            role_id,
            name=name,
            description=description,
            assume_role_policy=iam.assume_role_policy(service),
        )
        self.policy = IamRolePolicy(
            scope, policy_id, name=policy_name, role=self.role.id, policy=iam.document(*statements)
        )
