"""The region's runtime configuration in SSM Parameter Store, one parameter per value.

Plain values are `String`s; secrets are `SecureString`s encrypted with the region key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from shared.checkov import skip


class RuntimeParameters(Construct):
    """Exposes `parameters`: name -> SsmParameter (the `name`s are full paths)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        path: Callable[[str], str],
        values: Mapping[str, str],
        secrets: Mapping[str, str],
        kms_key_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        overlap = set(values) & set(secrets)
        if overlap:
            raise ValueError(f"parameters both plain and secret: {sorted(overlap)}")
        self.parameters: dict[str, SsmParameter] = {}
        for name, value in sorted(values.items()):
            self.parameters[name] = SsmParameter(
                self, name, name=path(name), type="String", value=value, description=f"Runtime setting {name}"
            )
            skip(
                self.parameters[name],
                "CKV2_AWS_34",
                "a non-secret setting (a name, URL or limit), plain on purpose; secrets are SecureStrings",
            )
        for name, value in sorted(secrets.items()):
            self.parameters[name] = SsmParameter(
                self,
                name,
                name=path(name),
                type="SecureString",
                value=value,
                key_id=kms_key_arn,
                description=f"Runtime secret {name}",
            )
