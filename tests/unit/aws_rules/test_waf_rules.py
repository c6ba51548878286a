"""AWS rules for the web ACLs in front of the API: limits, names, logging and the key their logs are encrypted with."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from typing import Any

from tests.support import Synth
from tests.unit.aws_rules.support import each

ACLS_AT_LEAST = 2  # one per compute stack
# Web ACL capacity units of each AWS managed rule group (fixed by AWS) and of a rate-based rule without a scope-down.
MANAGED_GROUP_WCU = {
    "AWSManagedRulesCommonRuleSet": 700,
    "AWSManagedRulesKnownBadInputsRuleSet": 200,
    "AWSManagedRulesAmazonIpReputationList": 25,
}
RATE_RULE_WCU = 2
INCLUDED_WCU = 1500
EVALUATION_WINDOWS = {60, 120, 300, 600}
METRIC_NAME = re.compile(r"[\w#:.\-/]{1,255}")


def _acls(aws: Synth) -> list[tuple[str, str, dict[str, Any]]]:
    return each(aws, "aws_wafv2_web_acl", at_least=ACLS_AT_LEAST)


def test_every_api_stage_is_associated_with_exactly_one_regional_web_acl(aws: Synth) -> None:
    """A resource can be associated with one web ACL only, and an API Gateway stage only with a REGIONAL one (a
    CLOUDFRONT web ACL protects distributions).
    https://docs.aws.amazon.com/waf/latest/developerguide/web-acl-associating-aws-resource.html
    https://docs.aws.amazon.com/waf/latest/APIReference/API_AssociateWebACL.html"""
    stages = each(aws, "aws_api_gateway_stage", at_least=ACLS_AT_LEAST)
    for stack, key, _ in stages:
        associations = [
            a for s, _, a in each(aws, "aws_wafv2_web_acl_association", at_least=ACLS_AT_LEAST) if s == stack
        ]
        [association] = [a for a in associations if a["resource_arn"] == f"${{aws_api_gateway_stage.{key}.arn}}"]
        [(acl_key, acl)] = aws.resources(stack, "aws_wafv2_web_acl").items()
        assert association["web_acl_arn"] == f"${{aws_wafv2_web_acl.{acl_key}.arn}}"
        assert acl["scope"] == "REGIONAL"


def test_the_rules_fit_the_capacity_a_web_acl_includes(aws: Synth) -> None:
    """A web ACL may use up to 5,000 WCUs, but above 1,500 every request costs more; the managed groups' WCUs are
    fixed: Core rule set 700, Known bad inputs 200, Amazon IP reputation list 25; a rate-based rule 2.
    https://docs.aws.amazon.com/waf/latest/developerguide/aws-waf-capacity-units.html
    https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html
    https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-ip-rep.html
    https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based.html"""
    for _, _, acl in _acls(aws):
        total = 0
        for rule in acl["rule"]:
            statement = rule["statement"]
            if "managed_rule_group_statement" in statement:
                total += MANAGED_GROUP_WCU[statement["managed_rule_group_statement"]["name"]]
            else:
                assert set(statement) == {"rate_based_statement"}, rule["name"]
                total += RATE_RULE_WCU
        assert total <= INCLUDED_WCU


def test_the_rate_rule_blocks_per_ip_within_the_limits_waf_accepts(aws: Synth) -> None:
    """A rate-based rule's limit is 10 to 2,000,000,000 requests per evaluation window; the window is 60, 120, 300
    or 600 seconds (300 by default); `IP` aggregates on the request's origin address; Allow is not a valid action.
    https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-high-level-settings.html
    https://docs.aws.amazon.com/waf/latest/APIReference/API_RateBasedStatement.html"""
    for _, _, acl in _acls(aws):
        [rule] = [r for r in acl["rule"] if "rate_based_statement" in r["statement"]]
        rate = rule["statement"]["rate_based_statement"]
        assert 10 <= rate["limit"] <= 2_000_000_000
        assert rate["evaluation_window_sec"] in EVALUATION_WINDOWS
        assert rate["aggregate_key_type"] == "IP"
        assert rule["action"] == {"block": {}}


def test_managed_rule_groups_act_and_every_rule_reports_metrics_and_samples(aws: Synth) -> None:
    """A rule in a web ACL references a rule group through a statement and takes an override action: `none` keeps
    the group's own rule actions (block), `count` only counts. Metric names are 1-255 characters of letters,
    digits and `_ # : . - /`; the web ACL and every rule keep CloudWatch metrics and sampled requests.
    https://docs.aws.amazon.com/waf/latest/APIReference/API_OverrideAction.html
    https://docs.aws.amazon.com/waf/latest/APIReference/API_VisibilityConfig.html
    https://docs.aws.amazon.com/waf/latest/developerguide/web-acl-testing-view-sample.html"""
    for _, _, acl in _acls(aws):
        managed = [r for r in acl["rule"] if "managed_rule_group_statement" in r["statement"]]
        assert {r["statement"]["managed_rule_group_statement"]["name"] for r in managed} == set(MANAGED_GROUP_WCU)
        for rule in managed:
            assert rule["statement"]["managed_rule_group_statement"]["vendor_name"] == "AWS"
            assert rule["override_action"] == {"none": {}}
            assert "action" not in rule
        priorities = [r["priority"] for r in acl["rule"]]
        assert len(set(priorities)) == len(priorities)
        configs = [acl["visibility_config"], *(r["visibility_config"] for r in acl["rule"])]
        for config in configs:
            assert config["cloudwatch_metrics_enabled"] is True
            assert config["sampled_requests_enabled"] is True
            assert METRIC_NAME.fullmatch(config["metric_name"]), config["metric_name"]
        assert acl["default_action"] == {"allow": {}}


def test_web_acl_logs_go_to_a_log_group_named_as_waf_requires_without_credentials(aws: Synth) -> None:
    """A logging destination's name must start with `aws-waf-logs-`; a web ACL has one logging configuration; the
    fields WAF logs can be redacted, and single headers are matched by name without regard to case.
    https://docs.aws.amazon.com/waf/latest/APIReference/API_LoggingConfiguration.html
    https://docs.aws.amazon.com/waf/latest/developerguide/logging-cw-logs.html
    https://docs.aws.amazon.com/waf/latest/developerguide/logging-management.html"""
    configurations = each(aws, "aws_wafv2_web_acl_logging_configuration", at_least=ACLS_AT_LEAST)
    for stack, _, configuration in configurations:
        [destination] = configuration["log_destination_configs"]
        groups = aws.resources(stack, "aws_cloudwatch_log_group")
        [group] = [g for key, g in groups.items() if destination == f"${{aws_cloudwatch_log_group.{key}.arn}}"]
        assert group["name"].startswith("aws-waf-logs-")
        assert group["kms_key_id"]
        redacted = {field["single_header"]["name"].lower() for field in configuration["redacted_fields"]}
        assert {"x-api-key", "authorization"} <= redacted
    logged = [(stack, c["resource_arn"]) for stack, _, c in configurations]  # references are per stack
    assert len(set(logged)) == len(logged)


def _region_of(aws: Synth, stack: str) -> str:
    [provider] = aws[stack]["provider"]["aws"]
    region: str = provider["region"]
    return region


def test_the_region_key_lets_cloudwatch_logs_encrypt_the_waf_log_group(aws: Synth) -> None:
    """CloudWatch Logs encrypts a log group with a customer managed key only if the key policy allows the regional
    `logs.<region>.amazonaws.com` principal, and it calls KMS with the encryption context
    `kms:EncryptionContext:aws:logs:arn` = the log group's ARN (`arn:aws:logs:<region>:<account>:log-group:<name>`).
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html"""
    for stack, _, group in each(
        aws, "aws_cloudwatch_log_group", at_least=ACLS_AT_LEAST, where=lambda g: g["name"].startswith("aws-waf-logs-")
    ):
        region = _region_of(aws, stack)
        data_stack = stack.replace("compute-", "data-")
        assert data_stack in group["kms_key_id"]
        [key] = aws.resources(data_stack, "aws_kms_key").values()
        statements = json.loads(key["policy"])["Statement"]
        [logs] = [s for s in statements if s.get("Principal") == {"Service": f"logs.{region}.amazonaws.com"}]
        assert logs["Effect"] == "Allow"
        assert {"kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"} <= set(logs["Action"])
        pattern = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
        arn = pattern.replace(":*", f":log-group:{group['name']}")
        # The account and partition are the same references in both strings; only the wildcard is matched.
        assert arn.startswith(pattern.removesuffix("*"))
        assert fnmatchcase(arn, pattern)
