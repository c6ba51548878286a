"""`make plan-report` on the shared deployment after a one-line change: exactly the changed stack is planned with
changes, its replacement flagged in both files, every other stack proven unchanged (not planned). Plans only.

The change: the name of network-secondary's inline flow-log role policy, in its synthesized configuration (what a
one-line source change to that stack synthesizes; a setting would change both regions' stacks). An inline role
policy's `name` forces a new resource (terraform-provider-aws, aws_iam_role_policy: `name` is ForceNew), and the
stack's outputs do not change, so no consumer of network-secondary has to be planned.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.platform import Platform
from ops.state import store as state_store

pytestmark = pytest.mark.phase("redeploy")

CHANGED = "network-secondary"


def test_plan_report_shows_exactly_the_changed_stack_with_its_replacement(
    platform: Platform, deployed: dict[str, Any], tmp_path: Path
) -> None:
    config_path = platform.workdir / "cdktf.out" / "stacks" / CHANGED / "cdk.tf.json"
    original = config_path.read_text()
    config = json.loads(original)
    policies = config["resource"]["aws_iam_role_policy"]
    assert len(policies) == 1, sorted(policies)  # count guard: the one flow-log delivery policy
    [(key, policy)] = policies.items()
    address = f"aws_iam_role_policy.{key}"
    policy["name"] = f"{policy['name']}-renamed"
    serials = {s: (state_store.read_state(platform.settings, s) or {}).get("serial") for s in deployed}
    config_path.write_text(json.dumps(config, indent=2))
    try:
        result = platform.ops("plan-report", "--out", str(tmp_path), "--json")
    finally:
        config_path.write_text(original)

    assert result.returncode == 0, result.stdout + result.stderr
    rows = {row["stack"]: row for row in json.loads(result.stdout)["stacks"]}
    assert len(rows) == 8
    assert rows[CHANGED]["status"] == "changes"
    assert rows[CHANGED]["replace"] == [address]
    assert (rows[CHANGED]["add"], rows[CHANGED]["change"], rows[CHANGED]["destroy"]) == (1, 0, 1)
    assert rows[CHANGED]["destroyed"] == []
    assert {s: r["status"] for s, r in rows.items() if s != CHANGED} == {s: "unchanged" for s in rows if s != CHANGED}

    written = json.loads((tmp_path / "plan-report.json").read_text())
    assert [row["stack"] for row in written["stacks"]] == list(rows)  # the printed document is the file's
    markdown = (tmp_path / "plan-report.md").read_text()
    assert f"| {CHANGED} | changes | 1 | 0 | 1 | `{address}` |" in markdown
    assert f"- **REPLACE** `{address}`" in markdown
    # a report plans: no state was written
    assert {s: (state_store.read_state(platform.settings, s) or {}).get("serial") for s in deployed} == serials
