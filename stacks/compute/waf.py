"""The regional web ACL in front of a front door (the API stage with `lambda`, the load balancer with `ec2`).

Requests are allowed unless a rule blocks them. The rules, in the order WAF evaluates them:
- `AWSManagedRulesAmazonIpReputationList`: sources Amazon's threat intelligence lists (cheapest, so first);
- `rate-per-ip`: a client IP sending more than `compute.waf_rate_limit` requests in 5 minutes is blocked until
  its rate falls below the limit (API keys and usage plans limit per key; this limits keyless floods too);
- `AWSManagedRulesCommonRuleSet` and `AWSManagedRulesKnownBadInputsRuleSet`: OWASP-style exploits, bad bots,
  oversized requests and known-bad inputs (Log4j lookups among them).
Every rule and the web ACL publish CloudWatch metrics and keep sampled requests. Full request logs go to a
CloudWatch log group encrypted with the region key; WAF requires its name to start with `aws-waf-logs-`, and the
API key and `authorization` headers are redacted before logging (the log would otherwise hold client secrets).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleActionBlock,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleOverrideActionNone,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclLoggingConfigurationRedactedFields,
    Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader,
)
from constructs import Construct

from shared.api_names import API_KEY_HEADER
from shared.checkov import skip
from shared.naming import Naming

# WAF refuses a logging destination whose name does not start with this.
LOG_GROUP_PREFIX: Final = "aws-waf-logs-"
# Headers that carry client credentials: never written to the WAF log.
REDACTED_HEADERS: tuple[str, ...] = (API_KEY_HEADER, "authorization")
# The rate-based rule counts requests over this many seconds (WAF's default; the limit is per 5 minutes).
RATE_WINDOW_SECONDS: Final = 300
RATE_RULE: Final = "rate-per-ip"
MANAGED_VENDOR: Final = "AWS"
# checkov's Log4j checks of a protected stage or load balancer (CKV2_AWS_77, CKV2_AWS_76) also ask for
# AWSManagedRulesAnonymousIpList; its HostingProviderIPList rule blocks cloud and hosting addresses, where merchants'
# servers and Route 53's health checkers call from.
LOG4J_CHECK_REASON = (
    "Log4j lookups are blocked by AWSManagedRulesKnownBadInputsRuleSet (CKV_AWS_192 passes); the AnonymousIpList "
    "this check also wants blocks cloud-hosted callers: merchants' servers and Route 53 health checkers"
)
LOG_RETENTION_REASON = "retention is compute.log_retention_days, like every log group of the region"


@dataclass(frozen=True)
class ManagedGroup:
    name: str
    priority: int


# Priorities leave gaps so a rule can be put between two without renumbering.
IP_REPUTATION = ManagedGroup("AWSManagedRulesAmazonIpReputationList", 10)
RATE_PRIORITY: Final = 20
COMMON = ManagedGroup("AWSManagedRulesCommonRuleSet", 30)
KNOWN_BAD_INPUTS = ManagedGroup("AWSManagedRulesKnownBadInputsRuleSet", 40)
MANAGED_GROUPS: tuple[ManagedGroup, ...] = (IP_REPUTATION, COMMON, KNOWN_BAD_INPUTS)


def log_group_name(naming: Naming) -> str:
    return f"{LOG_GROUP_PREFIX}{naming.prefix}"


def _visibility(metric_name: str) -> Wafv2WebAclRuleVisibilityConfig:
    return Wafv2WebAclRuleVisibilityConfig(
        cloudwatch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


def _managed_rule(group: ManagedGroup) -> Wafv2WebAclRule:
    # The statement is an untyped block in the provider bindings: written as Terraform spells it.
    statement: dict[str, Any] = {"managed_rule_group_statement": {"name": group.name, "vendor_name": MANAGED_VENDOR}}
    return Wafv2WebAclRule(
        name=group.name,
        priority=group.priority,
        # `none`: the group's own actions (block) apply; `count` would only observe.
        override_action=Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()),
        statement=statement,
        visibility_config=_visibility(group.name),
    )


def _rate_rule(limit: int) -> Wafv2WebAclRule:
    statement: dict[str, Any] = {
        "rate_based_statement": {
            "limit": limit,
            "aggregate_key_type": "IP",
            "evaluation_window_sec": RATE_WINDOW_SECONDS,
        }
    }
    return Wafv2WebAclRule(
        name=RATE_RULE,
        priority=RATE_PRIORITY,
        action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
        statement=statement,
        visibility_config=_visibility(RATE_RULE),
    )


def rules(rate_limit: int) -> Sequence[Wafv2WebAclRule]:
    return sorted(
        [*(_managed_rule(group) for group in MANAGED_GROUPS), _rate_rule(rate_limit)], key=lambda r: r.priority
    )


class WebAcl(Construct):
    """A regional web ACL associated with one resource. Exposes `web_acl` (`arn`, `name`) and `log_group`.

    `resource_arn`: what the ACL protects, an API Gateway stage ARN (`aws_api_gateway_stage.arn`) or an
    Application Load Balancer ARN. `rate_limit`: requests per client IP per 5 minutes (`compute.waf_rate_limit`).
    `kms_key_arn`: the region key, which encrypts the WAF log group. `log_retention_days`: the log group's retention.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: Naming,
        resource_arn: str,
        rate_limit: int,
        kms_key_arn: str,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        name = naming.name("web-acl")
        self.web_acl = Wafv2WebAcl(
            self,
            "web-acl",
            name=name,
            description="Front door of the payments API: managed rules and a per-IP rate limit",
            scope="REGIONAL",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=rules(rate_limit),
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
            ),
        )
        Wafv2WebAclAssociation(self, "association", resource_arn=resource_arn, web_acl_arn=self.web_acl.arn)
        self.log_group = CloudwatchLogGroup(
            self,
            "logs",
            name=log_group_name(naming),
            retention_in_days=log_retention_days,
            kms_key_id=kms_key_arn,
        )
        skip(self.log_group, "CKV_AWS_338", LOG_RETENTION_REASON)
        Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            resource_arn=self.web_acl.arn,
            log_destination_configs=[self.log_group.arn],
            redacted_fields=[
                Wafv2WebAclLoggingConfigurationRedactedFields(
                    single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header)
                )
                for header in REDACTED_HEADERS
            ],
        )
