"""The web ACL in front of the API stage, read from the JSON Terraform receives on both targets."""

from __future__ import annotations

import json
from typing import Any

import cdktf
import pytest
from cdktf_cdktf_provider_aws.provider import AwsProvider

from config import ConfigError, load_settings
from config.schema import WAF_RATE_LIMIT_MAX, WAF_RATE_LIMIT_MIN
from config.settings import Role
from ops.core.aws_clients import client
from shared.naming import Naming
from stacks.compute.waf import LOG_GROUP_PREFIX, WebAcl, log_group_name
from tests.support import Synth
from tests.unit.private_emulator import private_emulator

COMPUTE_STACKS = ("compute-primary", "compute-secondary")
ROLE_OF: dict[str, Role] = {"compute-primary": "primary", "compute-secondary": "secondary"}
REGION_OF = {"primary": "us-east-1", "secondary": "eu-west-1"}
EXPECTED_RULES: list[
    tuple[str, int, dict[str, Any], dict[str, Any]]
] = [  # (name, priority, statement, action or override): the order WAF evaluates them
    (
        "AWSManagedRulesAmazonIpReputationList",
        10,
        {"managed_rule_group_statement": {"name": "AWSManagedRulesAmazonIpReputationList", "vendor_name": "AWS"}},
        {"override_action": {"none": {}}},
    ),
    (
        "rate-per-ip",
        20,
        {"rate_based_statement": {"aggregate_key_type": "IP", "evaluation_window_sec": 300, "limit": 2000}},
        {"action": {"block": {}}},
    ),
    (
        "AWSManagedRulesCommonRuleSet",
        30,
        {"managed_rule_group_statement": {"name": "AWSManagedRulesCommonRuleSet", "vendor_name": "AWS"}},
        {"override_action": {"none": {}}},
    ),
    (
        "AWSManagedRulesKnownBadInputsRuleSet",
        40,
        {"managed_rule_group_statement": {"name": "AWSManagedRulesKnownBadInputsRuleSet", "vendor_name": "AWS"}},
        {"override_action": {"none": {}}},
    ),
]


@pytest.fixture(params=["local_dev", "aws_dev"])
def synth(request: pytest.FixtureRequest) -> Synth:
    """The WAF is the same on both targets: the emulator applies and re-plans it clean (no gap)."""
    found: Synth = request.getfixturevalue(request.param)
    return found


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_the_web_acl_is_regional_allows_by_default_and_lists_its_rules_in_order(synth: Synth, stack: str) -> None:
    acl = synth.resource(stack, "aws_wafv2_web_acl")
    name = Naming("payments", "dev", ROLE_OF[stack], REGION_OF[ROLE_OF[stack]]).name("web-acl")
    assert acl["name"] == name
    assert acl["scope"] == "REGIONAL"
    assert acl["default_action"] == {"allow": {}}
    assert acl["visibility_config"] == {
        "cloudwatch_metrics_enabled": True,
        "metric_name": name,
        "sampled_requests_enabled": True,
    }
    assert len(acl["rule"]) == len(EXPECTED_RULES)
    for rule, (rule_name, priority, statement, action) in zip(acl["rule"], EXPECTED_RULES, strict=True):
        assert rule == {
            "name": rule_name,
            "priority": priority,
            "statement": statement,
            **action,
            "visibility_config": {
                "cloudwatch_metrics_enabled": True,
                "metric_name": rule_name,
                "sampled_requests_enabled": True,
            },
        }


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_the_web_acl_protects_the_api_stage(synth: Synth, stack: str) -> None:
    association = synth.resource(stack, "aws_wafv2_web_acl_association")
    [stage_key] = synth.resources(stack, "aws_api_gateway_stage")
    [acl_key] = synth.resources(stack, "aws_wafv2_web_acl")
    assert association["resource_arn"] == f"${{aws_api_gateway_stage.{stage_key}.arn}}"
    assert association["web_acl_arn"] == f"${{aws_wafv2_web_acl.{acl_key}.arn}}"


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_full_logs_go_to_an_encrypted_aws_waf_logs_group_without_client_credentials(synth: Synth, stack: str) -> None:
    logging = synth.resource(stack, "aws_wafv2_web_acl_logging_configuration")
    [acl_key] = synth.resources(stack, "aws_wafv2_web_acl")
    assert logging["resource_arn"] == f"${{aws_wafv2_web_acl.{acl_key}.arn}}"
    assert logging["redacted_fields"] == [
        {"single_header": {"name": "x-api-key"}},
        {"single_header": {"name": "authorization"}},
    ]
    groups = synth.resources(stack, "aws_cloudwatch_log_group")
    [(group_key, group)] = [(k, g) for k, g in groups.items() if g["name"].startswith(LOG_GROUP_PREFIX)]
    assert logging["log_destination_configs"] == [f"${{aws_cloudwatch_log_group.{group_key}.arn}}"]
    role = ROLE_OF[stack]
    assert group["name"] == f"aws-waf-logs-payments-dev-{role}"
    assert group["retention_in_days"] == 30  # compute.log_retention_days
    [access_logs] = [g for g in groups.values() if g["name"].endswith("/api/access-logs")]
    assert group["kms_key_id"] == access_logs["kms_key_id"]  # the region key, as every log group of the stack
    assert "data-" in group["kms_key_id"]  # read from the data stack of the same region
    assert "checkov:skip=CKV_AWS_338" in group["//"]["checkov_skip"]["CKV_AWS_338"]


@pytest.mark.parametrize("stack", COMPUTE_STACKS)
def test_the_stage_no_longer_skips_the_waf_check(synth: Synth, stack: str) -> None:
    stage = synth.resource(stack, "aws_api_gateway_stage")
    skips = stage["//"]["checkov_skip"]
    assert "CKV2_AWS_29" not in skips
    assert "AWSManagedRulesKnownBadInputsRuleSet" in skips["CKV2_AWS_77"]


def test_the_local_target_sends_wafv2_calls_to_the_emulator(local_dev: Synth) -> None:
    for stack in COMPUTE_STACKS:
        [provider, *_] = local_dev[stack]["provider"]["aws"]
        [endpoints] = provider["endpoints"]
        assert endpoints["wafv2"] == "http://127.0.0.1:4566"


def _construct_json(resource_arn: str, rate_limit: int) -> dict[str, Any]:
    """WebAcl alone, on a stack of its own: as compute puts it in front of the load balancer."""
    stack = cdktf.TerraformStack(cdktf.App(), "waf-test")
    AwsProvider(stack, "aws", region="eu-west-1")
    WebAcl(
        stack,
        "waf",
        naming=Naming("payments", "dev", "secondary", "eu-west-1"),
        resource_arn=resource_arn,
        rate_limit=rate_limit,
        kms_key_arn="arn:aws:kms:eu-west-1:111122223333:key/abc",
        log_retention_days=90,
    )
    parsed: dict[str, Any] = json.loads(cdktf.Testing.synth(stack))
    return parsed


def test_the_construct_takes_any_resource_arn_and_the_configured_limit_and_retention() -> None:
    alb = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/payments/0123456789abcdef"
    resources = _construct_json(alb, 500)["resource"]
    [association] = resources["aws_wafv2_web_acl_association"].values()
    assert association["resource_arn"] == alb
    [acl] = resources["aws_wafv2_web_acl"].values()
    [rate] = [rule for rule in acl["rule"] if "rate_based_statement" in rule["statement"]]
    assert rate["statement"]["rate_based_statement"]["limit"] == 500
    [group] = resources["aws_cloudwatch_log_group"].values()
    assert group["name"] == log_group_name(Naming("payments", "dev", "secondary", "eu-west-1"))
    assert group["retention_in_days"] == 90
    assert group["kms_key_id"] == "arn:aws:kms:eu-west-1:111122223333:key/abc"


def test_the_rate_limit_is_configuration_within_the_range_waf_accepts() -> None:
    def limit(value: str | None = None) -> int:
        extra = {} if value is None else {"PAYMENTS_COMPUTE_WAF_RATE_LIMIT": value}
        return load_settings(environ={"PAYMENTS_DOTENV": "none", **extra}).compute.waf_rate_limit

    assert limit() == 2000  # per 5 minutes, the evaluation window
    assert limit(str(WAF_RATE_LIMIT_MIN)) == 10
    assert limit(str(WAF_RATE_LIMIT_MAX)) == 2 * 10**9
    for bad in (str(WAF_RATE_LIMIT_MIN - 1), str(WAF_RATE_LIMIT_MAX + 1), "fast"):
        with pytest.raises(ConfigError) as caught:
            limit(bad)
        [line] = caught.value.lines
        assert line.startswith("compute.waf_rate_limit="), line
        assert "PAYMENTS_COMPUTE_WAF_RATE_LIMIT" in line, line


_IRREGULAR = {"cloudwatch_metrics_enabled": "CloudWatchMetricsEnabled"}


def _api_shape(value: Any) -> Any:
    """Terraform's spelling of a WAF block (`rate_based_statement`) in the WAFv2 API's (`RateBasedStatement`)."""
    if isinstance(value, list):
        return [_api_shape(item) for item in value]
    if isinstance(value, dict):
        return {
            _IRREGULAR.get(key, "".join(part.capitalize() for part in key.split("_"))): _api_shape(item)
            for key, item in value.items()
            if key != "//"
        }
    return value


def test_the_emulator_takes_the_synthesized_web_acl_its_stage_association_and_logging(local_dev: Synth) -> None:
    """Why no gap: the web ACL exactly as synthesized, its association with a REST API stage and its logging
    configuration round-trip through the emulator's WAFv2 API (Terraform applies and re-plans them clean too)."""
    acl = local_dev.resource("compute-primary", "aws_wafv2_web_acl")
    logging = local_dev.resource("compute-primary", "aws_wafv2_web_acl_logging_configuration")
    [group] = [
        g for g in local_dev.resources("compute-primary", "aws_cloudwatch_log_group").values()
        if g["name"].startswith(LOG_GROUP_PREFIX)
    ]  # fmt: skip
    with private_emulator() as settings:
        region = settings.regions.primary
        waf, apigateway = client(settings, "wafv2", region), client(settings, "apigateway", region)
        logs, kms = client(settings, "logs", region), client(settings, "kms", region)
        api_id = apigateway.create_rest_api(name="waf-test")["id"]
        root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
        apigateway.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
        apigateway.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
        deployment = apigateway.create_deployment(restApiId=api_id)["id"]
        apigateway.create_stage(restApiId=api_id, stageName="v1", deploymentId=deployment)
        stage_arn = f"arn:aws:apigateway:{region}::/restapis/{api_id}/stages/v1"

        created = waf.create_web_acl(
            Name=acl["name"],
            Scope=acl["scope"],
            DefaultAction=_api_shape(acl["default_action"]),
            Rules=_api_shape(acl["rule"]),
            VisibilityConfig=_api_shape(acl["visibility_config"]),
        )["Summary"]
        stored = waf.get_web_acl(Name=acl["name"], Scope="REGIONAL", Id=created["Id"])["WebACL"]
        for sent, kept in zip(_api_shape(acl["rule"]), stored["Rules"], strict=True):
            assert {key: kept[key] for key in sent} == sent

        waf.associate_web_acl(WebACLArn=created["ARN"], ResourceArn=stage_arn)
        assert waf.get_web_acl_for_resource(ResourceArn=stage_arn)["WebACL"]["ARN"] == created["ARN"]

        key_arn = kms.create_key()["KeyMetadata"]["Arn"]
        logs.create_log_group(logGroupName=group["name"], kmsKeyId=key_arn)
        [described] = logs.describe_log_groups(logGroupNamePrefix=group["name"])["logGroups"]
        destination = described["arn"].removesuffix(":*")
        redacted = _api_shape(logging["redacted_fields"])
        waf.put_logging_configuration(
            LoggingConfiguration={
                "ResourceArn": created["ARN"],
                "LogDestinationConfigs": [destination],
                "RedactedFields": redacted,
            }
        )
        kept_logging = waf.get_logging_configuration(ResourceArn=created["ARN"])["LoggingConfiguration"]
        assert kept_logging["LogDestinationConfigs"] == [destination]
        assert (
            kept_logging["RedactedFields"]
            == redacted
            == [
                {"SingleHeader": {"Name": "x-api-key"}},
                {"SingleHeader": {"Name": "authorization"}},
            ]
        )
