"""This region's view of the write home (`docs/write-home.md`): one SSM String parameter, and what the payment
function needs to act on it.

Terraform creates the parameter once with `shared.write_home.INITIAL` and then ignores its value: ops owns it
(`ops.traffic.write_home` fences and opens regions during failover and failback), so a later apply must never
put a moved write home back.
"""

from __future__ import annotations

import json
from typing import Any

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from config.settings import ROLES, Role, Settings
from shared import api_names, iam, write_home
from shared.checkov import skip


class WriteHomeParameter(Construct):
    """Exposes `parameter`, `environment()` (the payment function's WRITE_HOME_* variables) and `read_grant()`."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, role: Role) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.role = role
        self.parameter = SsmParameter(
            self,
            "parameter",
            name=write_home.parameter_name(settings, role),
            type="String",
            value=write_home.INITIAL,
            description="The write home as this region sees it: a role, or fenced (owned by ops after creation)",
            lifecycle=TerraformResourceLifecycle(ignore_changes=["value"]),
        )
        skip(self.parameter, "CKV2_AWS_34", "a region role, not a secret; plain on purpose")

    def environment(self) -> dict[str, str]:
        origins = {role: api_names.base_url(api_names.origin_name(self.settings.dns, role)) for role in ROLES}
        return {
            "WRITE_HOME_PARAMETER": self.parameter.name,
            "REGION_ROLE": self.role,
            "WRITE_HOME_ORIGINS": json.dumps(origins, sort_keys=True),
            "WRITE_HOME_CACHE_SECONDS": str(write_home.CACHE_SECONDS),
        }

    def read_grant(self) -> dict[str, Any]:
        """GetParameter on this one parameter's ARN: a grant on a path would reach every level below it."""
        return iam.allow(["ssm:GetParameter"], [self.parameter.arn], sid="ReadWriteHome")
