"""The processor instances' role and instance profile.

The role holds what the `payment-processor` and `health` functions hold in the lambda runtime (the caller passes
those statements: one source), the same explicit Deny on destructive actions, the region key, the artifact (read
only, its prefix only), the API key secret (the server checks `x-api-key` against it) and the SSM Session Manager
actions (operators reach an instance through Session Manager: no SSH key, no open port). Inline only: the local
emulator has no AWS-managed policies.

The trust names EC2 without the `aws:SourceAccount` guard the other service roles carry (`shared.service_role`):
EC2 assumes an instance profile's role for the instance it was passed to, which only an `iam:PassRole` in this
account can do (a role cannot be passed across accounts), and it does not document that it sends that key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from shared import iam
from stacks.compute.lambda_function import DESTRUCTIVE_ACTIONS

EC2_SERVICE = "ec2.amazonaws.com"
# What the SSM Agent needs for Session Manager, as AWS's minimal instance profile lists them; the channels have
# no resource-level permissions (Resource "*"):
# https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-create-iam-instance-profile.html
SESSION_MANAGER_ACTIONS: tuple[str, ...] = (
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)


class InstanceProfile(Construct):
    """Exposes `role`, `policy` and `profile` (`name`, `arn`).

    `statements`: the payment runtime's grants (the union of the payment-processor and health functions');
    `artifact_objects`: the ARN pattern of the artifacts (`<bucket arn>/<prefix>*`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        kms_key_arn: str,
        artifact_objects: str,
        api_key_secret_arn: str,
        statements: Sequence[dict[str, Any]],
    ) -> None:
        super().__init__(scope, construct_id)
        self.role = IamRole(
            self,
            "role",
            name=name,
            description=f"Instances of {name}: the payment processor service",
            assume_role_policy=iam.document(
                iam.statement("Allow", ["sts:AssumeRole"], principals={"Service": EC2_SERVICE})
            ),
        )
        self.policy = IamRolePolicy(
            self,
            "policy",
            name="runtime",
            role=self.role.id,
            policy=iam.document(
                iam.allow(["kms:Decrypt", "kms:GenerateDataKey"], [kms_key_arn], sid="UseRegionKey"),
                iam.allow(["s3:GetObject"], [artifact_objects], sid="ReadArtifact"),
                iam.allow(["secretsmanager:GetSecretValue"], [api_key_secret_arn], sid="ReadApiKeys"),
                iam.allow(SESSION_MANAGER_ACTIONS, ["*"], sid="SessionManager"),
                *statements,
                iam.deny(DESTRUCTIVE_ACTIONS, ["*"], sid="DenyDestructiveActions"),
            ),
        )
        self.profile = IamInstanceProfile(self, "profile", name=name, role=self.role.name)
