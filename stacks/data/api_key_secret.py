"""The secret that holds the platform's API keys: one secret, created by data-primary, replicated by ops.

Terraform owns the secret, never its value: there is no `aws_secretsmanager_secret_version` here. `ops.keys`
writes the value (`{"keys": {"<key id>": "<value>"}, "current": "<key id>"}`) and replicates the secret to the
secondary region with the secondary's region key (`ReplicateSecretToRegions`): that key is created by
data-secondary, after this secret, so the replica cannot be declared here. The provider reads the replica back
into the secret's `replica` set; `ignore_changes` keeps Terraform from removing the replica ops added.
"""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from constructs import Construct

from shared.checkov import skip
from stacks.data.master_password import RECOVERY_WINDOW_DAYS

API_KEY_COMPONENT = "api-key"
OPS_OWNED = ["replica"]  # the replica in the secondary region is ops.keys' (see the module docstring)


class ApiKeySecret(Construct):
    """Exposes `secret` (`name`, `arn`)."""

    def __init__(self, scope: Construct, construct_id: str, *, name: str, kms_key_arn: str, force_delete: bool) -> None:
        super().__init__(scope, construct_id)
        self.secret = SecretsmanagerSecret(
            self,
            "secret",
            name=name,
            description=f"{name}: the API keys of the payment routes (value written by ops: make rotate-api-key)",
            kms_key_id=kms_key_arn,
            recovery_window_in_days=0 if force_delete else RECOVERY_WINDOW_DAYS,
            lifecycle=TerraformResourceLifecycle(ignore_changes=OPS_OWNED),
        )
        skip(
            self.secret,
            "CKV2_AWS_57",
            "rotated by `make rotate-api-key` (ops.keys): a new key overlaps the old one until RETIRE=yes",
        )
