"""Conscious exceptions to checkov checks, written next to the resource they concern.

checkov's terraform_json runner does not read inline `checkov:skip` comments,
so the reason is stored in the resource's `//` comment block, where Terraform
ignores it and `ops/build/security.py` applies it to checkov's report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keeps ops/build/security.py (which reads SKIP_KEY) from starting the jsii runtime
    from cdktf import TerraformElement

SKIP_KEY = "checkov_skip"


def skip(resource: TerraformElement, check_id: str, reason: str) -> None:
    """`checkov:skip=<check_id>: <reason>` for this one resource or data source; the reason is one line."""
    if "\n" in reason or not reason.strip():
        raise ValueError(f"checkov skip {check_id}: the reason must be one non-empty line")
    from cdktf import TerraformDataSource, TerraformStack  # noqa: PLC0415 -- see the TYPE_CHECKING import above

    comment = f"checkov:skip={check_id}: {reason}"
    if isinstance(resource, TerraformDataSource):  # cdktf rewrites a data source's `//` after its own overrides
        address = f"data.{resource.terraform_resource_type}.{resource.friendly_unique_id}"
        TerraformStack.of(resource).add_override(f"{address}.//.{SKIP_KEY}.{check_id}", comment)
    else:
        resource.add_override(f"//.{SKIP_KEY}.{check_id}", comment)
