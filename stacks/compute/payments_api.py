"""The regional REST API in front of the payment functions.

Routes are data (`Route`): each becomes a resource path, a method, an AWS_PROXY integration and a
Lambda permission scoped to that method on this API's stage. Routes that need an API key sit under
a usage plan (throttle + daily quota); the others are open. The stage traces with X-Ray, publishes
per-method metrics and writes JSON access logs to an encrypted log group. A change to the route
table redeploys the stage (the deployment's trigger is a digest of the routes).

API Gateway writes those logs with the account's CloudWatch role, an account-and-region setting
(`aws_api_gateway_account`) that `make bootstrap` sets once per account and region: no stack owns it,
so environments sharing an account cannot overwrite each other's.

The API keys come from the API key secret (`ClientKeys`): one API Gateway key per key in it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.api_gateway_deployment import ApiGatewayDeployment
from cdktf_cdktf_provider_aws.api_gateway_integration import ApiGatewayIntegration
from cdktf_cdktf_provider_aws.api_gateway_method import ApiGatewayMethod
from cdktf_cdktf_provider_aws.api_gateway_method_settings import (
    ApiGatewayMethodSettings,
    ApiGatewayMethodSettingsSettings,
)
from cdktf_cdktf_provider_aws.api_gateway_resource import ApiGatewayResource
from cdktf_cdktf_provider_aws.api_gateway_rest_api import ApiGatewayRestApi, ApiGatewayRestApiEndpointConfiguration
from cdktf_cdktf_provider_aws.api_gateway_stage import ApiGatewayStage, ApiGatewayStageAccessLogSettings
from cdktf_cdktf_provider_aws.api_gateway_usage_plan import (
    ApiGatewayUsagePlan,
    ApiGatewayUsagePlanApiStages,
    ApiGatewayUsagePlanQuotaSettings,
    ApiGatewayUsagePlanThrottleSettings,
)
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from shared.checkov import skip
from shared.naming import Naming
from stacks.compute.client_keys import ClientKeys
from stacks.compute.waf import LOG4J_CHECK_REASON

LOG_RETENTION_REASON = "retention is compute.log_retention_days (30 days by spec); audit records live in the S3 bucket"
NO_CACHE_REASON = "payment responses must never be cached: POST is not idempotent without its key, reads must be fresh"

# One line of JSON per request (CloudWatch Logs Insights parses it without a pattern).
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "extendedRequestId": "$context.extendedRequestId",
        "sourceIp": "$context.identity.sourceIp",
        "apiKeyId": "$context.identity.apiKeyId",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "responseLatency": "$context.responseLatency",
        "integrationStatus": "$context.integration.status",
        "integrationLatency": "$context.integration.latency",
        "xrayTraceId": "$context.xrayTraceId",
        "errorMessage": "$context.error.message",
    },
    separators=(",", ":"),
)
_PATH_PARAMETER = re.compile(r"^\{(\w+)\}$")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: LambdaFunction
    api_key_required: bool

    @property
    def slug(self) -> str:
        return slug(self.path)

    @property
    def path_parameters(self) -> list[str]:
        return [m.group(1) for part in self.path.strip("/").split("/") if (m := _PATH_PARAMETER.match(part))]

    @property
    def arn_path(self) -> str:
        """The path as it appears in execute-api ARNs: every path parameter is a wildcard."""
        return "/".join("*" if _PATH_PARAMETER.match(part) else part for part in self.path.strip("/").split("/"))

    def describe(self) -> dict[str, object]:
        return {"method": self.method, "path": self.path, "api_key_required": self.api_key_required}


def slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "root"


@dataclass(frozen=True)
class UsageLimits:
    rate_limit: int
    burst_limit: int
    quota_per_day: int


class PaymentsApi(Construct):
    """Exposes `rest_api` (`id`, `name`, `execution_arn`), `stage` (`stage_name`, `invoke_url`),
    `api_keys` (`ClientKeys`), `usage_plan` and `access_log_group`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: Naming,
        routes: Sequence[Route],
        stage_name: str,
        limits: UsageLimits,
        kms_key_arn: str,
        log_retention_days: int,
        api_key_secret_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.rest_api = ApiGatewayRestApi(
            self,
            "api",
            name=naming.name("api"),
            description="Payments API",
            endpoint_configuration=ApiGatewayRestApiEndpointConfiguration(types=["REGIONAL"]),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        api_id = self.rest_api.id
        resources: dict[str, ApiGatewayResource] = {}
        deployed: list[str] = []
        for route in routes:
            resource_id = self._resource(route.path, resources)
            method = ApiGatewayMethod(
                self,
                f"{route.method.lower()}-{route.slug}",
                rest_api_id=api_id,
                resource_id=resource_id,
                http_method=route.method,
                authorization="NONE",
                api_key_required=route.api_key_required,
                request_parameters={f"method.request.path.{name}": True for name in route.path_parameters} or None,
            )
            skip(
                method,
                "CKV2_AWS_53",
                "the runtime validates every input and names each offending field in its 400 (API Gateway's "
                "validator would answer with a generic message)",
            )
            if not route.api_key_required:
                skip(method, "CKV_AWS_59", "open on purpose: Route 53 health checks call it without a key")
            integration = ApiGatewayIntegration(
                self,
                f"{route.method.lower()}-{route.slug}-integration",
                rest_api_id=api_id,
                resource_id=resource_id,
                http_method=method.http_method,
                type="AWS_PROXY",
                integration_http_method="POST",
                uri=route.function.invoke_arn,
            )
            LambdaPermission(
                self,
                f"{route.method.lower()}-{route.slug}-permission",
                statement_id=f"api-{route.method.lower()}-{route.slug}",
                action="lambda:InvokeFunction",
                function_name=route.function.function_name,
                principal="apigateway.amazonaws.com",
                source_arn=f"{self.rest_api.execution_arn}/{stage_name}/{route.method}/{route.arn_path}",
            )
            deployed += [method.id, integration.id, integration.uri]

        digest = hashlib.sha256(json.dumps([r.describe() for r in routes], sort_keys=True).encode()).hexdigest()
        deployment = ApiGatewayDeployment(
            self,
            "deployment",
            rest_api_id=api_id,
            description="Payments API routes",
            triggers={"routes": digest, "resources": Fn.sha1(Fn.jsonencode([*resources_ids(resources), *deployed]))},
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )

        self.access_log_group = CloudwatchLogGroup(
            self,
            "access-logs",
            name=naming.path("api", "access-logs"),
            retention_in_days=log_retention_days,
            kms_key_id=kms_key_arn,
        )
        skip(self.access_log_group, "CKV_AWS_338", LOG_RETENTION_REASON)
        # The group API Gateway writes execution logs to, created first so it is encrypted and expires.
        execution_logs = CloudwatchLogGroup(
            self,
            "execution-logs",
            name=f"API-Gateway-Execution-Logs_{api_id}/{stage_name}",
            retention_in_days=log_retention_days,
            kms_key_id=kms_key_arn,
        )
        skip(execution_logs, "CKV_AWS_338", LOG_RETENTION_REASON)
        self.stage = ApiGatewayStage(
            self,
            "stage",
            rest_api_id=api_id,
            stage_name=stage_name,
            deployment_id=deployment.id,
            description="Payments API, live stage",
            xray_tracing_enabled=True,
            access_log_settings=ApiGatewayStageAccessLogSettings(
                destination_arn=self.access_log_group.arn, format=ACCESS_LOG_FORMAT
            ),
            depends_on=[execution_logs],
        )
        skip(self.stage, "CKV_AWS_120", NO_CACHE_REASON)
        skip(
            self.stage,
            "CKV2_AWS_51",
            "clients authenticate with API keys; mutual TLS needs a custom domain name (the DNS layer's choice)",
        )
        skip(self.stage, "CKV2_AWS_77", LOG4J_CHECK_REASON)  # the web ACL in front of it: stacks/compute/waf.py
        method_settings = ApiGatewayMethodSettings(
            self,
            "method-settings",
            rest_api_id=api_id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings=ApiGatewayMethodSettingsSettings(
                metrics_enabled=True,
                logging_level="ERROR",
                data_trace_enabled=False,
                # A stage-wide ceiling; routes without a key (health) are held to it too.
                throttling_rate_limit=limits.rate_limit,
                throttling_burst_limit=limits.burst_limit,
            ),
        )
        skip(method_settings, "CKV_AWS_225", NO_CACHE_REASON)

        self.usage_plan = ApiGatewayUsagePlan(
            self,
            "usage-plan",
            name=naming.name("api-clients"),
            description="Clients of the payment routes: throttle and daily quota per API key",
            api_stages=[ApiGatewayUsagePlanApiStages(api_id=api_id, stage=self.stage.stage_name)],
            throttle_settings=ApiGatewayUsagePlanThrottleSettings(
                rate_limit=limits.rate_limit, burst_limit=limits.burst_limit
            ),
            quota_settings=ApiGatewayUsagePlanQuotaSettings(limit=limits.quota_per_day, period="DAY"),
        )
        self.api_keys = ClientKeys(
            self, "keys", naming=naming, secret_name=api_key_secret_name, usage_plan_id=self.usage_plan.id
        )

    def _resource(self, path: str, resources: dict[str, ApiGatewayResource]) -> str:
        """The id of the resource at `path`, creating it and its parents on first use."""
        parent_id = self.rest_api.root_resource_id
        prefix = ""
        for part in path.strip("/").split("/"):
            prefix = f"{prefix}/{part}"
            if prefix not in resources:
                resources[prefix] = ApiGatewayResource(
                    self, f"resource-{slug(prefix)}", rest_api_id=self.rest_api.id, parent_id=parent_id, path_part=part
                )
            parent_id = resources[prefix].id
        return parent_id


def resources_ids(resources: dict[str, ApiGatewayResource]) -> list[str]:
    return [resources[path].id for path in sorted(resources)]
