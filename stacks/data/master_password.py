"""The master password of a cluster that creates its database: generated, stored, never in Terraform state.

AWS does not support RDS-managed master passwords (`manage_master_user_password`) for members of a global
database, so the password is Terraform's, handled so that it never lands in state or plan:

- an ephemeral `aws_secretsmanager_random_password` generates it during each run (Terraform 1.11 ephemeral
  block: cdktf 0.21 has no construct for it, so it is written into the stack as an override);
- a customer-managed secret (the region key) receives `{"username", "password"}` through the write-only
  `secret_string_wo`; the cluster receives the same value through the write-only `master_password_wo`;
- both are written only when `PASSWORD_VERSION` changes: the first apply writes them together, later runs
  generate a value and discard it. Rotating is bumping the version (one apply writes both again).

The secondary region keeps a copy (`MasterPasswordCopy`), encrypted with its own region key, so the
database can be reached from there after a failover even if the primary region is gone. It is read from the
primary's secret through an ephemeral `aws_secretsmanager_secret_version` (never in state) and written when
the same `PASSWORD_VERSION` changes: a rotation reaches it at the next data-secondary apply. (A Secrets
Manager replica could not use the secondary key: that key is created after the primary's secret.)
"""

from __future__ import annotations

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from shared.checkov import skip

PASSWORD_VERSION = 1  # bump to rotate: the secret and the cluster are rewritten in the same apply
PASSWORD_LENGTH = 32
RECOVERY_WINDOW_DAYS = 30  # 0 (delete at once) where the environment is destroyable: a redeploy reuses the name
EPHEMERAL_TYPE = "aws_secretsmanager_random_password"
EPHEMERAL_READ_TYPE = "aws_secretsmanager_secret_version"


def _secret(scope: Construct, *, name: str, kms_key_arn: str, force_delete: bool, value: str) -> SecretsmanagerSecret:
    """A secret encrypted with `kms_key_arn` holding `value` (an ephemeral expression) through write-only arguments."""
    secret = SecretsmanagerSecret(
        scope,
        "secret",
        name=name,
        description=f"{name}: master user of the Aurora global database (written by Terraform, never in state)",
        kms_key_id=kms_key_arn,
        recovery_window_in_days=0 if force_delete else RECOVERY_WINDOW_DAYS,
    )
    skip(secret, "CKV2_AWS_57", "rotated by bumping PASSWORD_VERSION (stacks/data/master_password.py)")
    SecretsmanagerSecretVersion(
        scope, "value", secret_id=secret.id, secret_string_wo=value, secret_string_wo_version=PASSWORD_VERSION
    )
    return secret


class MasterPassword(Construct):
    """Exposes `secret` (`arn`), `password` (an ephemeral reference, for write-only arguments only) and
    `version`. `ephemeral_name` must be unique in the stack."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        secret_name: str,
        username: str,
        kms_key_arn: str,
        force_delete: bool,
        ephemeral_name: str = "aurora_master_password",
    ) -> None:
        super().__init__(scope, construct_id)
        # Punctuation excluded: RDS refuses '/', '"', '@' and spaces; 32 letters and digits are ~190 bits.
        TerraformStack.of(self).add_override(
            f"ephemeral.{EPHEMERAL_TYPE}.{ephemeral_name}",
            {"password_length": PASSWORD_LENGTH, "exclude_punctuation": True},
        )
        self.password = f"${{ephemeral.{EPHEMERAL_TYPE}.{ephemeral_name}.random_password}}"
        self.version = PASSWORD_VERSION
        self.secret = _secret(
            self,
            name=secret_name,
            kms_key_arn=kms_key_arn,
            force_delete=force_delete,
            value=(
                f'${{jsonencode({{"username" = "{username}", '
                f'"password" = ephemeral.{EPHEMERAL_TYPE}.{ephemeral_name}.random_password}})}}'
            ),
        )


class MasterPasswordCopy(Construct):
    """This region's copy of another region's master password secret (read through `source_provider_alias`,
    e.g. `aws.primary`). Exposes `secret` (`arn`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        secret_name: str,
        source_secret_name: str,
        source_provider_alias: str,
        kms_key_arn: str,
        force_delete: bool,
        ephemeral_name: str = "aurora_master_secret",
    ) -> None:
        super().__init__(scope, construct_id)
        TerraformStack.of(self).add_override(
            f"ephemeral.{EPHEMERAL_READ_TYPE}.{ephemeral_name}",
            {"provider": source_provider_alias, "secret_id": source_secret_name},
        )
        self.secret = _secret(
            self,
            name=secret_name,
            kms_key_arn=kms_key_arn,
            force_delete=force_delete,
            value=f"${{ephemeral.{EPHEMERAL_READ_TYPE}.{ephemeral_name}.secret_string}}",
        )
