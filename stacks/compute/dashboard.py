"""One CloudWatch dashboard per region: the API, the functions, the table, the queues, Aurora and the alarms."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from constructs import Construct

WIDTH = 12  # two widgets per row (the grid is 24 wide)
HEIGHT = 6
# DynamoDB publishes ThrottledRequests per TableName *and* Operation (a series without the Operation stays
# empty): one line for each operation the payment runtime calls.
TABLE_OPERATIONS = ("GetItem", "PutItem", "UpdateItem", "Query")
# The region's Aurora cluster. AuroraGlobalDBReplicationLag is published by whichever cluster is the global
# database's secondary: the primary region's dashboard shows it after a failover or switchover.
AURORA_PANELS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("Aurora CPU (%)", ("CPUUtilization",), "Maximum"),
    ("Aurora connections", ("DatabaseConnections",), "Maximum"),
    (
        "Aurora commit latency and global replication lag (ms)",
        ("CommitLatency", "AuroraGlobalDBReplicationLag"),
        "Maximum",
    ),
)


def load_balancer_panels(alb_arn_suffix: str, target_group_arn_suffix: str) -> list[tuple[str, list[list[Any]], str]]:
    """The load balancer section (`compute.runtime = "ec2"`): requests and 5xx, p99 response time, healthy hosts."""
    alb = ["LoadBalancer", alb_arn_suffix]
    target = ["TargetGroup", target_group_arn_suffix, *alb]
    return [
        (
            "Load balancer requests and 5xx",
            [
                ["AWS/ApplicationELB", "RequestCount", *alb],
                ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", *target],
                ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", *alb],
            ],
            "Sum",
        ),
        ("Target response time p99 (s)", [["AWS/ApplicationELB", "TargetResponseTime", *target]], "p99"),
        (
            "Healthy and unhealthy hosts",
            [
                ["AWS/ApplicationELB", "HealthyHostCount", *target],
                ["AWS/ApplicationELB", "UnHealthyHostCount", *target],
            ],
            "Minimum",
        ),
    ]


class RegionDashboard(Construct):
    """Exposes `dashboard` (`dashboard_name`).

    `load_balancer` (the ALB's and target group's `arn_suffix`) adds the load balancer section first.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        region: str,
        api_name: str | None,
        api_stage: str | None,
        functions: Mapping[str, str],
        table_name: str,
        cluster_identifier: str,
        queues: Mapping[str, str],
        alarm_arns: Sequence[str],
        load_balancer: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        api = ["ApiName", api_name, "Stage", api_stage]
        # No API Gateway panels without an API (compute.runtime = "ec2").
        api_panels: list[tuple[str, list[list[Any]], str]] = [
            (
                "API requests and errors",
                [
                    ["AWS/ApiGateway", "Count", *api],
                    ["AWS/ApiGateway", "4XXError", *api],
                    ["AWS/ApiGateway", "5XXError", *api],
                ],
                "Sum",
            ),
            (
                "API latency p99 (ms)",
                [["AWS/ApiGateway", "Latency", *api], ["AWS/ApiGateway", "IntegrationLatency", *api]],
                "p99",
            ),
        ]
        panels: list[tuple[str, list[list[Any]], str]] = [
            *(api_panels if api_name else []),
            (
                "Function errors and throttles",
                [
                    ["AWS/Lambda", metric, "FunctionName", function_name, {"label": f"{label} {metric.lower()}"}]
                    for label, function_name in functions.items()
                    for metric in ("Errors", "Throttles")
                ],
                "Sum",
            ),
            (
                "Function duration p99 (ms)",
                [["AWS/Lambda", "Duration", "FunctionName", fn, {"label": label}] for label, fn in functions.items()],
                "p99",
            ),
            (
                "Payments table",
                [
                    *(
                        ["AWS/DynamoDB", metric, "TableName", table_name]
                        for metric in ("ConsumedWriteCapacityUnits", "ConsumedReadCapacityUnits")
                    ),
                    *(
                        ["AWS/DynamoDB", "ThrottledRequests", "TableName", table_name, "Operation", operation]
                        for operation in TABLE_OPERATIONS
                    ),
                ],
                "Sum",
            ),
            (
                "Queue depth",
                [
                    ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue, {"label": label}]
                    for label, queue in queues.items()
                ],
                "Maximum",
            ),
            *(
                (title, [["AWS/RDS", metric, "DBClusterIdentifier", cluster_identifier] for metric in metrics], stat)
                for title, metrics, stat in AURORA_PANELS
            ),
        ]
        if load_balancer is not None:
            panels[:0] = load_balancer_panels(*load_balancer)
        widgets: list[dict[str, Any]] = [
            {
                "type": "metric",
                "x": (index % 2) * WIDTH,
                "y": (index // 2) * HEIGHT,
                "width": WIDTH,
                "height": HEIGHT,
                "properties": {
                    "title": title,
                    "region": region,
                    "metrics": metrics,
                    "stat": stat,
                    "period": 60,
                    "view": "timeSeries",
                },
            }
            for index, (title, metrics, stat) in enumerate(panels)
        ]
        widgets.append(
            {
                "type": "alarm",
                "x": 0,
                "y": ((len(panels) + 1) // 2) * HEIGHT,
                "width": 2 * WIDTH,
                "height": HEIGHT,
                "properties": {"title": "Alarms", "alarms": list(alarm_arns)},
            }
        )
        self.dashboard = CloudwatchDashboard(
            self, "dashboard", dashboard_name=name, dashboard_body=json.dumps({"widgets": widgets})
        )
