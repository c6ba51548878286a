"""The ec2 runtime, on the shared deployment: once the lambda runtime's checks and second plans have passed, the
same deployment changes its front door (`PAYMENTS_COMPUTE_RUNTIME=ec2 make deploy`, what a team moving its
processor onto instances does). The load balancer, its listeners and the fleet replace API Gateway and the two API
functions in both regions; the records alias the load balancers.
Then: the fleet's targets are healthy, payments go through the load balancer path, a second plan is clean, and
the teardown phase destroys this deployment (and checks that no load balancer or group is left).

Sharing the deployment is what keeps the integration lane within its budget: a second private deployment of both
regions would cost the lane another ten minutes of Aurora, queues and buckets that the runtime does not touch.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.platform import Platform
from shared.processor_runtime import PORT

pytestmark = pytest.mark.phase("runtime")

ROLES = ("primary", "secondary")
LAYERS = ("network", "data", "compute", "dns")


@pytest.fixture(scope="module")
def ec2_deploy(platform: Platform, deployed: dict[str, Any]) -> dict[str, Any]:
    """`deploy all` with the ec2 runtime; every later command of the session (the teardown too) keeps it."""
    platform.settings_env["PAYMENTS_COMPUTE_RUNTIME"] = "ec2"
    return json.loads(platform.must("deploy", "all", "--json"))


def test_every_layer_applies_and_data_only_widens_its_key_policy(ec2_deploy: dict[str, Any]) -> None:
    """network adds the load balancer's and the instances' groups, compute and dns swap the front door; data only
    lets Auto Scaling use the region key for the instances' volumes (one change, nothing added or destroyed)."""
    rows = {row["stack"]: row for row in ec2_deploy["stacks"]}
    assert len(rows) == 8
    assert ec2_deploy["ok"], ec2_deploy
    for stack, row in rows.items():
        assert row["result"] == "ok", f"{stack}: {row}"
        if stack.startswith("data-"):
            assert (row["added"], row["changed"], row["destroyed"]) == (0, 1, 0), row
        else:
            assert row["added"] > 0, row


@pytest.mark.parametrize("role", ROLES)
def test_the_fleet_is_healthy_behind_the_load_balancer(
    platform: Platform, ec2_deploy: dict[str, Any], role: str
) -> None:
    outputs = platform.outputs()[f"compute-{role}"]
    assert outputs["runtime"] == "ec2"
    elbv2 = platform.client("elbv2", role)
    group = platform.client("autoscaling", role).describe_auto_scaling_groups(
        AutoScalingGroupNames=[outputs["autoscaling_group_name"]]
    )["AutoScalingGroups"]
    assert len(group) == 1
    assert group[0]["DesiredCapacity"] == platform.settings.compute.fleet_desired
    assert group[0]["HealthCheckType"] == "ELB"
    target_group = elbv2.describe_target_groups(TargetGroupArns=[outputs["target_group_arn"]])["TargetGroups"][0]
    assert target_group["Port"] == PORT
    health = elbv2.describe_target_health(TargetGroupArn=outputs["target_group_arn"])["TargetHealthDescriptions"]
    assert len(health) == platform.settings.compute.fleet_desired
    assert {t["TargetHealth"]["State"] for t in health} == {"healthy"}
    listeners = elbv2.describe_listeners(LoadBalancerArn=outputs["load_balancer_arn"])["Listeners"]
    assert sorted(listener["Port"] for listener in listeners) == [80, 443]
    web_acl = platform.client("wafv2", role).get_web_acl_for_resource(ResourceArn=outputs["load_balancer_arn"])
    assert web_acl["WebACL"]["Name"] == f"payments-dev-{role}-web-acl"  # the WAF moved to the new front door


@pytest.mark.parametrize("role", ROLES)
def test_api_gateway_and_the_api_functions_are_gone(platform: Platform, ec2_deploy: dict[str, Any], role: str) -> None:
    assert platform.client("apigateway", role).get_rest_apis()["items"] == []
    functions = {f["FunctionName"] for f in platform.client("lambda", role).list_functions()["Functions"]}
    outputs = platform.outputs()[f"compute-{role}"]
    assert outputs["retry_function_name"] in functions  # the background functions stay
    assert not any(name.endswith(("-payment-processor", "-health")) for name in functions), functions


def test_smoke_goes_through_the_load_balancer(platform: Platform, ec2_deploy: dict[str, Any]) -> None:
    result = platform.ops("smoke", "--count", "6")
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    assert "201: 6 of 6; duplicates: 0" in log


def test_a_second_plan_of_every_stack_is_clean(platform: Platform, ec2_deploy: dict[str, Any]) -> None:
    """`drift`: the refreshing plan of all eight stacks, concurrently."""
    result = platform.ops("drift", "--json")
    status = {row["stack"]: row["status"] for row in json.loads(result.stdout)["stacks"]}
    assert status == {f"{layer}-{role}": "clean" for layer in LAYERS for role in ROLES}
    assert result.returncode == 0, result.stdout
