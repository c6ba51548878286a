"""The role an AWS service assumes to act for the platform, with the one inline policy that says what it may do.

`ServiceRole` creates both resources in the caller's scope rather than in a construct of its own: the
construct path of a resource is its Terraform logical name, so a role keeps the name (and state address)
it would have if it were written out by hand.

Every trust policy carries the confused-deputy guard (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html):
`aws:SourceAccount` always, and `aws:SourceArn` where the service documents that it sends it when it assumes
the role. A service that does not send it would be refused by a condition on it, so those services are listed
below with the reason, and every other service must be given its `source_arn`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from shared import iam
from shared.account import account_id

WITHOUT_SOURCE_ARN: dict[str, str] = {
    "lambda.amazonaws.com": (
        "Lambda sets aws:SourceArn only where a function is the target resource, not when it assumes the "
        "execution role: https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html"
    ),
    "backup.amazonaws.com": (
        "AWS Backup documents aws:SourceArn (a vault) only for publishing to SNS, not for the role it is passed: "
        "https://docs.aws.amazon.com/aws-backup/latest/devguide/cross-service-confused-deputy-prevention.html"
    ),
}


class ServiceRole:
    """Exposes `role` (`arn`, `id`) and `policy` (for `depends_on` when the service checks its grants at once).

    `source_arn`: the ARN (wildcards allowed), or ARNs, of the resources the service assumes the role for; required
    unless the service is in `WITHOUT_SOURCE_ARN`."""

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
        source_arn: str | Sequence[str] | None = None,
    ) -> None:
        if source_arn is None and service not in WITHOUT_SOURCE_ARN:
            raise ValueError(f"role {name}: {service} sends aws:SourceArn; pass source_arn for its trust policy")
        self.role = IamRole(
            scope,
            role_id,
            name=name,
            description=description,
            assume_role_policy=iam.assume_role_policy(service, source_account=account_id(scope), source_arn=source_arn),
        )
        self.policy = IamRolePolicy(
            scope, policy_id, name=policy_name, role=self.role.id, policy=iam.document(*statements)
        )
