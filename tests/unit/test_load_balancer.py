"""The load balancer constructs synthesized in a small stack: alarms feeding `region-unhealthy`, the dashboard
section, names, and what changes with the region and the target."""

from __future__ import annotations

import json
import re
from typing import Any

import cdktf
import pytest

from config import load_settings
from config.schema import REGIONS_WITHOUT_ELB_ACCOUNT
from shared.alarm_names import REGION_UNHEALTHY
from shared.naming import Naming
from stacks.compute.ec2.access_logs import has_elb_account
from stacks.compute.ec2.load_balancer import ELB_NAME_MAX, elb_name
from tests.aws_target import aws_settings
from tests.unit.load_balancer_stack import FLEET_MIN, P99_MS, synth_stack

LB_ALARMS = ("alb-healthy-hosts", "alb-target-5xx", "alb-elb-5xx", "alb-p99-response")


@pytest.fixture(scope="module")
def dev() -> dict[str, Any]:
    return synth_stack(aws_settings("dev"))


def _by_name(body: dict[str, Any], rtype: str, key: str) -> dict[str, dict[str, Any]]:
    found = {config[key]: config for config in body["resource"].get(rtype, {}).values()}
    assert found, f"count guard: no {rtype}"
    return found


def test_the_four_alarms_watch_the_alb_and_its_target_group(dev: dict[str, Any]) -> None:
    alarms = _by_name(dev, "aws_cloudwatch_metric_alarm", "alarm_name")
    (alb,) = dev["resource"]["aws_lb"]
    (group,) = dev["resource"]["aws_lb_target_group"]
    both = {
        "LoadBalancer": f"${{aws_lb.{alb}.arn_suffix}}",
        "TargetGroup": f"${{aws_lb_target_group.{group}.arn_suffix}}",
    }
    ge, gt = "GreaterThanOrEqualToThreshold", "GreaterThanThreshold"
    expected = {
        "alb-healthy-hosts": ("HealthyHostCount", both, "Minimum", None, FLEET_MIN, "LessThanThreshold", "breaching"),
        "alb-target-5xx": ("HTTPCode_Target_5XX_Count", both, "Sum", None, 5, ge, "notBreaching"),
        "alb-elb-5xx": ("HTTPCode_ELB_5XX_Count", {"LoadBalancer": both["LoadBalancer"]}, "Sum", None, 5, ge,
                        "notBreaching"),
        "alb-p99-response": ("TargetResponseTime", both, None, "p99", P99_MS / 1000, gt, "notBreaching"),
    }  # fmt: skip
    (topic,) = dev["resource"]["aws_sns_topic"]
    for key, (metric, dimensions, statistic, extended, threshold, comparison, missing) in expected.items():
        alarm = alarms[f"payments-dev-primary-{key}"]
        assert alarm["namespace"] == "AWS/ApplicationELB"
        assert (alarm["metric_name"], alarm["dimensions"]) == (metric, dimensions)
        assert (alarm.get("statistic"), alarm.get("extended_statistic")) == (statistic, extended)
        assert (alarm["threshold"], alarm["comparison_operator"]) == (threshold, comparison)
        assert alarm["treat_missing_data"] == missing
        assert alarm["alarm_actions"] == alarm["ok_actions"] == [f"${{aws_sns_topic.{topic}.arn}}"]


def test_the_alarms_make_the_region_unhealthy(dev: dict[str, Any]) -> None:
    (composite,) = dev["resource"]["aws_cloudwatch_composite_alarm"].values()
    assert composite["alarm_name"] == f"payments-dev-primary-{REGION_UNHEALTHY}"
    names = {rid: alarm["alarm_name"] for rid, alarm in dev["resource"]["aws_cloudwatch_metric_alarm"].items()}
    referenced = re.findall(
        r'ALARM\("\$\{aws_cloudwatch_metric_alarm\.([^.]+)\.alarm_name\}"\)', composite["alarm_rule"]
    )
    watched = [names[rid] for rid in referenced]
    for key in LB_ALARMS:
        assert f"payments-dev-primary-{key}" in watched
    assert "payments-dev-primary-api-5xx-rate" in watched  # the hook adds; it replaces nothing


def test_the_dashboard_starts_with_the_load_balancer_section(dev: dict[str, Any]) -> None:
    (dashboard,) = dev["resource"]["aws_cloudwatch_dashboard"].values()
    widgets = json.loads(dashboard["dashboard_body"])["widgets"]
    titles = [w["properties"]["title"] for w in widgets]
    assert titles[:3] == [
        "Load balancer requests and 5xx",
        "Target response time p99 (s)",
        "Healthy and unhealthy hosts",
    ]
    metrics = {m[1] for w in widgets[:3] for m in w["properties"]["metrics"]}
    assert metrics == {
        "RequestCount", "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "TargetResponseTime",
        "HealthyHostCount", "UnHealthyHostCount",
    }  # fmt: skip
    assert all(m[0] == "AWS/ApplicationELB" for w in widgets[:3] for m in w["properties"]["metrics"])
    assert titles[-1] == "Alarms"
    assert len(widgets[-1]["properties"]["alarms"]) == len(dev["resource"]["aws_cloudwatch_metric_alarm"]) + 1


def test_the_dashboard_has_no_load_balancer_section_without_one() -> None:
    from stacks.compute.dashboard import RegionDashboard  # noqa: PLC0415

    stack = cdktf.TerraformStack(cdktf.Testing.app(), "plain")
    RegionDashboard(
        stack, "d", name="d", region="us-east-1", api_name="a", api_stage="v1", functions={}, table_name="t",
        cluster_identifier="c", queues={}, alarm_arns=[],
    )  # fmt: skip
    (dashboard,) = json.loads(cdktf.Testing.synth(stack))["resource"]["aws_cloudwatch_dashboard"].values()
    titles = [w["properties"]["title"] for w in json.loads(dashboard["dashboard_body"])["widgets"]]
    assert titles
    assert not any("oad balancer" in title for title in titles)


def test_names_follow_the_naming_scheme_and_elb_limits(dev: dict[str, Any]) -> None:
    (alb,) = dev["resource"]["aws_lb"].values()
    (group,) = dev["resource"]["aws_lb_target_group"].values()
    assert (alb["name"], group["name"]) == ("payments-dev-primary-alb", "payments-dev-primary-api")
    assert alb["tags"] == {"Name": alb["name"]}
    assert group["tags"] == {"Name": group["name"]}
    (bucket,) = dev["resource"]["aws_s3_bucket"].values()
    assert bucket["bucket"] == "payments-dev-alb-us-east-1-${data.aws_caller_identity.caller.account_id}"


def test_a_name_elb_would_refuse_is_refused_at_synth_with_the_fix() -> None:
    naming = Naming("paymentsplatform", "feature-1234", "secondary", "us-east-1")
    assert len(naming.name("alb")) > ELB_NAME_MAX
    with pytest.raises(ValueError, match=r"longer than 32 characters: shorten project or environment_suffix"):
        elb_name(naming, "alb")


def test_every_configurable_region_has_an_elb_account_and_newer_regions_only_the_principal() -> None:
    from config.schema import REGION_ZONE_COUNTS  # noqa: PLC0415

    assert all(has_elb_account(region) for region in REGION_ZONE_COUNTS)
    body = synth_stack(aws_settings("dev"))
    assert "aws_elb_service_account" in body["data"]
    assert not any(has_elb_account(region) for region in REGIONS_WITHOUT_ELB_ACCOUNT)
    assert not set(REGION_ZONE_COUNTS) & REGIONS_WITHOUT_ELB_ACCOUNT


def test_a_region_without_elb_account_gets_the_service_principal_only() -> None:
    from stacks.compute.ec2.access_logs import AccessLogBucket  # noqa: PLC0415

    stack = cdktf.TerraformStack(cdktf.Testing.app(), "new-region")
    AccessLogBucket(
        stack, "logs", naming=Naming("payments", "dev", "primary", "eu-central-2"), region="eu-central-2",
        retention_days=30, noncurrent_version_expiration_days=30, force_destroy=True,
    )  # fmt: skip
    body = json.loads(cdktf.Testing.synth(stack))
    assert "aws_elb_service_account" not in body.get("data", {})
    (policy,) = body["resource"]["aws_s3_bucket_policy"].values()
    principals = [s["Principal"] for s in json.loads(policy["policy"])["Statement"] if s["Effect"] == "Allow"]
    assert principals == [{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}]


def test_the_local_target_leaves_the_tls_only_statement_out() -> None:
    """Gap `s3-tls-only-policy`: the emulator refuses object requests under a condition it cannot evaluate."""
    body = synth_stack(load_settings(environ={"PAYMENTS_DOTENV": "none"}))
    (policy,) = body["resource"]["aws_s3_bucket_policy"].values()
    statements = json.loads(policy["policy"])["Statement"]
    assert [s["Effect"] for s in statements] == ["Allow", "Allow"]
    assert "aws_cloudwatch_composite_alarm" not in body["resource"]  # gap `composite-alarm`
