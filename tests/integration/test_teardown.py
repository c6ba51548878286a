"""`destroy all` (what `make destroy` runs) takes both regions down in reverse dependency order, each stack as soon as
the stacks that read it are gone, and leaves nothing behind; destroying the primary alone is refused while the
secondary still reads it. Runs last."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.platform import Platform

pytestmark = pytest.mark.phase("teardown")


def test_destroying_primary_first_is_refused_while_secondary_reads_it(
    platform: Platform, deployed: dict[str, Any]
) -> None:
    result = platform.ops("destroy", "primary")
    assert result.returncode != 0
    assert "refusing to destroy" in result.stdout + result.stderr
    assert "-secondary" in result.stdout + result.stderr


def non_default_vpcs(platform: Platform, role: str) -> list[dict[str, Any]]:
    return [v for v in platform.client("ec2", role).describe_vpcs()["Vpcs"] if not v.get("IsDefault")]


def test_destroy_all_leaves_nothing(platform: Platform, deployed: dict[str, Any]) -> None:
    for role in ("primary", "secondary"):  # so that "nothing left" below cannot pass by looking in the wrong place
        assert non_default_vpcs(platform, role), f"{role}: no VPC before the destroy"
    summary = json.loads(platform.must("destroy", "all", "--json"))
    assert summary["ok"] is True
    assert len(summary["stacks"]) == 8
    assert {row["result"] for row in summary["stacks"]} == {"ok"}
    for role in ("primary", "secondary"):
        ec2 = platform.client("ec2", role)
        assert non_default_vpcs(platform, role) == [], f"{role}: VPCs left behind"
        assert ec2.describe_nat_gateways(Filter=[{"Name": "state", "Values": ["available"]}])["NatGateways"] == []
        peerings = ec2.describe_vpc_peering_connections()["VpcPeeringConnections"]
        assert [p for p in peerings if p["Status"]["Code"] == "active"] == []
        assert platform.client("dynamodb", role).list_tables()["TableNames"] in (
            [],
            [platform.settings.state.lock_table],
        )
        assert platform.client("lambda", role).list_functions()["Functions"] == []
        assert platform.client("rds", role).describe_db_clusters()["DBClusters"] == []
        # The ec2 runtime's front door (the runtime phase switched this deployment to it).
        assert platform.client("elbv2", role).describe_load_balancers()["LoadBalancers"] == []
        assert platform.client("autoscaling", role).describe_auto_scaling_groups()["AutoScalingGroups"] == []
        running = ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["pending", "running"]}])
        assert [i for r in running["Reservations"] for i in r["Instances"]] == []
        buckets = [b["Name"] for b in platform.client("s3", role).list_buckets()["Buckets"]]
        homes = [platform.settings.state_bucket_of(home) for home in ("primary", "secondary")]
        assert sorted(buckets) == sorted(homes)  # the state's home and its replica: all that may outlive a destroy
    assert platform.outputs() == {}
