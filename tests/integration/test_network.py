"""The network layer as deployed on the emulator, seen through boto3."""

from __future__ import annotations

from typing import Any

import pytest

from config.settings import ROLES
from harness.platform import Platform
from shared.stack_id import LAYERS


@pytest.mark.parametrize("role", ROLES)
def test_vpc_exists_in_its_region_with_its_cidr(platform: Platform, deployed: dict[str, Any], role: str) -> None:
    out = deployed[f"network-{role}"]
    ec2 = platform.client("ec2", role)
    vpcs = ec2.describe_vpcs(VpcIds=[out["vpc_id"]])["Vpcs"]
    assert [v["CidrBlock"] for v in vpcs] == [platform.settings.network.cidr(role)]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [out["vpc_id"]]}])["Subnets"]
    assert len(subnets) == 3 * platform.settings.network.az_count
    assert {s["AvailabilityZone"][:-1] for s in subnets} == {platform.region(role)}


@pytest.mark.parametrize("role", ROLES)
def test_flow_logs_are_active(platform: Platform, deployed: dict[str, Any], role: str) -> None:
    out = deployed[f"network-{role}"]
    logs = platform.client("ec2", role).describe_flow_logs(
        Filters=[{"Name": "resource-id", "Values": [out["vpc_id"]]}]
    )["FlowLogs"]
    assert len(logs) == 1
    assert logs[0]["LogDestination"].endswith(f":log-group:{out['flow_log_group_name']}")
    assert logs[0]["TrafficType"] == "ALL"
    group = platform.client("logs", role).describe_log_groups(logGroupNamePrefix=out["flow_log_group_name"])
    assert group["logGroups"][0]["kmsKeyId"].startswith("arn:aws:kms:")


def test_peering_is_active_and_routes_lead_to_the_peer_on_both_sides(
    platform: Platform, deployed: dict[str, Any]
) -> None:
    peering_id = deployed["network-secondary"]["peering_connection_id"]
    for role in ROLES:
        connection = platform.client("ec2", role).describe_vpc_peering_connections(
            VpcPeeringConnectionIds=[peering_id]
        )["VpcPeeringConnections"][0]
        assert connection["Status"]["Code"] == "active"
    sides = {"primary": "secondary", "secondary": "primary"}
    for role, peer in sides.items():
        out = deployed[f"network-{role}"]
        tables = platform.client("ec2", role).describe_route_tables(RouteTableIds=out["internal_route_table_ids"])
        for table in tables["RouteTables"]:
            peer_routes = [
                r for r in table["Routes"] if r.get("DestinationCidrBlock") == platform.settings.network.cidr(peer)
            ]
            assert [r.get("VpcPeeringConnectionId") for r in peer_routes] == [peering_id], table["RouteTableId"]


def test_security_groups_admit_nothing_from_anywhere(platform: Platform, deployed: dict[str, Any]) -> None:
    for role in ROLES:
        out = deployed[f"network-{role}"]
        groups = platform.client("ec2", role).describe_security_groups(
            GroupIds=[out["lambda_security_group_id"], out["database_security_group_id"]]
        )["SecurityGroups"]
        for group in groups:
            for permission in group["IpPermissions"]:
                assert not [r for r in permission.get("IpRanges", []) if r["CidrIp"] == "0.0.0.0/0"]


def test_deploy_reported_every_stack_of_both_regions_applied(deploy_log: dict[str, Any]) -> None:
    assert deploy_log["ok"] is True
    rows = {row["stack"]: row for row in deploy_log["stacks"]}
    assert list(rows) == [f"{layer}-{role}" for role in ROLES for layer in LAYERS]  # graph order
    for row in rows.values():
        assert row["result"] == "ok", row
        assert min(row["added"], row["changed"], row["destroyed"]) >= 0
        assert row["seconds"] > 0
