"""The region's alarms, their encrypted SNS topic and the composite "region-unhealthy" alarm.

Every alarm notifies the topic when it fires and when it recovers. The critical ones (the API
failing or slow, the payment function failing or throttled, the table throttled, the Aurora
replica falling behind) are OR-ed into `region-unhealthy`: the one alarm the traffic rollout
watches before it shifts more traffic to a region.

The Aurora alarms, and which of them make the region unhealthy:
- replication lag (the secondary's cluster, `data.replication_lag_alarm_ms`): critical. That cluster is the
  failover target; while it lags, a failover loses the lagging ledger writes and its region's data is stale, so
  the rollout must not move more traffic there.
- CPU (the region's cluster, `data.aurora_cpu_alarm_percent`): notifies only. The ledger's writer serves both
  regions' functions, so a busy writer is no reason to prefer the other region (its functions write to the same
  writer); when it hurts payments, the API latency and 5xx alarms, which are critical, fire.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from cdktf_cdktf_provider_aws.cloudwatch_composite_alarm import CloudwatchCompositeAlarm
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from shared.alarm_names import REGION_UNHEALTHY, REPLICATION_LAG
from shared.naming import Naming

PERIOD_SECONDS = 60
# Fire when 3 of the last 5 minutes breach: one bad minute is noise, three is an incident.
EVALUATION_PERIODS = 5
DATAPOINTS_TO_ALARM = 3

LAMBDA_ERRORS_PER_MINUTE = 1
LAMBDA_THROTTLES_PER_MINUTE = 1
API_5XX_RATE = 0.05  # 5XXError's Average is the share of requests answered 5xx
API_P99_LATENCY_MS = 2000
TABLE_THROTTLED_REQUESTS_PER_MINUTE = 1
EVENT_DELIVERY_FAILURES = 1  # any: each one is a payment.created event that reached no queue

GREATER_OR_EQUAL = "GreaterThanOrEqualToThreshold"
GREATER = "GreaterThanThreshold"


class CriticalAlarms(Protocol):
    """More alarms that make the region unhealthy, built in RegionAlarms (they notify its topic), by key."""

    def build(self, scope: Construct, *, naming: Naming, topic_arn: str) -> Mapping[str, CloudwatchMetricAlarm]: ...


@dataclass(frozen=True)
class Watched:
    """What the alarms watch in one region."""

    functions: Mapping[str, str]  # label -> function name
    critical_functions: Sequence[str]  # labels whose errors/throttles make the region unhealthy
    api_name: str | None  # None: no API Gateway (compute.runtime = "ec2")
    api_stage: str | None
    table_name: str
    event_bus_name: str
    event_rule_name: str  # the rule delivering payment.created to its queue
    dead_letter_queues: Mapping[str, str]  # label -> queue name
    cluster_identifier: str  # the region's Aurora cluster
    cpu_alarm_percent: int
    replication_lag_alarm_ms: int
    replica_cluster_identifier: str | None = None  # the secondary's Aurora cluster
    extra_critical: Sequence[CriticalAlarms] = ()  # e.g. stacks.compute.ec2.alarms.LoadBalancerWatched


class RegionAlarms(Construct):
    """Exposes `topic`, `alarms` (key -> alarm), `alarm_names`, `region_unhealthy_name`, `alarm_arns`.

    `composite=False` (the local emulator cannot create composite alarms) makes `region-unhealthy`
    a metric alarm on the API's 5xx rate, the composite's most direct signal, under the same name.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: Naming,
        kms_key_arn: str,
        alarm_email: str,
        watched: Watched,
        composite: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self._naming = naming
        self.topic = SnsTopic(self, "topic", name=naming.name("alarms"), kms_master_key_id=kms_key_arn)
        if alarm_email:
            SnsTopicSubscription(self, "email", topic_arn=self.topic.arn, protocol="email", endpoint=alarm_email)
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}
        self._api: dict[str, str] = {}
        critical: list[str] = []

        for label, function_name in watched.functions.items():
            for metric, threshold in (("Errors", LAMBDA_ERRORS_PER_MINUTE), ("Throttles", LAMBDA_THROTTLES_PER_MINUTE)):
                key = f"{label}-{metric.lower()}"
                self._metric_alarm(
                    key,
                    description=f"{function_name}: {metric.lower()} in {DATAPOINTS_TO_ALARM} of the last "
                    f"{EVALUATION_PERIODS} minutes",
                    namespace="AWS/Lambda",
                    metric=metric,
                    dimensions={"FunctionName": function_name},
                    statistic="Sum",
                    threshold=threshold,
                    comparison=GREATER_OR_EQUAL,
                )
                if label in watched.critical_functions:
                    critical.append(key)

        if watched.api_name and watched.api_stage:
            critical += self._api_alarms({"ApiName": watched.api_name, "Stage": watched.api_stage})
        for extra in watched.extra_critical:
            built = extra.build(self, naming=naming, topic_arn=self.topic.arn)
            self.alarms.update(built)
            critical += list(built)
        critical += self._data_alarms(watched)
        self._register_region_unhealthy(naming, watched, critical, composite)

    def _api_alarms(self, api: dict[str, str]) -> list[str]:
        self._api = api
        self._metric_alarm(
            "api-5xx-rate",
            description=f"More than {API_5XX_RATE:.0%} of API requests answered 5xx",
            namespace="AWS/ApiGateway",
            metric="5XXError",
            dimensions=api,
            statistic="Average",
            threshold=API_5XX_RATE,
            comparison=GREATER,
        )
        self._metric_alarm(
            "api-p99-latency",
            description=f"API p99 latency above {API_P99_LATENCY_MS} ms",
            namespace="AWS/ApiGateway",
            metric="Latency",
            dimensions=api,
            extended_statistic="p99",
            threshold=API_P99_LATENCY_MS,
            comparison=GREATER,
        )
        return ["api-5xx-rate", "api-p99-latency"]

    def _data_alarms(self, watched: Watched) -> list[str]:
        critical: list[str] = []
        self._sum_alarm(
            "table-throttles",
            description=f"{watched.table_name}: read or write requests throttled",
            label="Throttled requests",
            namespace="AWS/DynamoDB",
            metrics={"reads": "ReadThrottleEvents", "writes": "WriteThrottleEvents"},
            dimensions={"TableName": watched.table_name},
            threshold=TABLE_THROTTLED_REQUESTS_PER_MINUTE,
        )
        critical.append("table-throttles")

        # Events that failed for good without a dead letter, or whose dead letter could not be written: lost.
        # (Events that were dead-lettered show in the dead-letter queue's depth alarm below.)
        self._sum_alarm(
            "event-delivery-failures",
            description=f"{watched.event_rule_name}: payment events neither delivered nor dead-lettered",
            label="Undelivered events",
            namespace="AWS/Events",
            metrics={"failed": "FailedInvocations", "undeliverable": "InvocationsFailedToBeSentToDlq"},
            dimensions={"EventBusName": watched.event_bus_name, "RuleName": watched.event_rule_name},
            threshold=EVENT_DELIVERY_FAILURES,
            evaluation_periods=1,
            datapoints_to_alarm=1,
        )

        for label, queue_name in watched.dead_letter_queues.items():
            self._metric_alarm(
                f"{label}-depth",
                description=f"{queue_name} holds messages that could not be processed",
                namespace="AWS/SQS",
                metric="ApproximateNumberOfMessagesVisible",
                dimensions={"QueueName": queue_name},
                statistic="Maximum",
                threshold=0,
                comparison=GREATER,
                evaluation_periods=1,
                datapoints_to_alarm=1,
            )

        self._metric_alarm(
            "aurora-cpu",
            description=f"Aurora cluster {watched.cluster_identifier}: an instance's CPU at or above "
            f"{watched.cpu_alarm_percent}%",
            namespace="AWS/RDS",
            metric="CPUUtilization",
            dimensions={"DBClusterIdentifier": watched.cluster_identifier},
            statistic="Maximum",
            threshold=watched.cpu_alarm_percent,
            comparison=GREATER_OR_EQUAL,
        )
        if watched.replica_cluster_identifier:
            self._metric_alarm(
                REPLICATION_LAG,
                description=f"Aurora global replication to {watched.replica_cluster_identifier} lags more than "
                f"{watched.replication_lag_alarm_ms} ms",
                namespace="AWS/RDS",
                metric="AuroraGlobalDBReplicationLag",
                dimensions={"DBClusterIdentifier": watched.replica_cluster_identifier},
                statistic="Maximum",
                threshold=watched.replication_lag_alarm_ms,
                comparison=GREATER,
            )
            critical.append(REPLICATION_LAG)
        return critical

    def _register_region_unhealthy(
        self, naming: Naming, watched: Watched, critical: list[str], composite: bool
    ) -> None:
        self.critical_alarm_names = [self.alarms[key].alarm_name for key in critical]
        self.region_unhealthy_name = naming.name(REGION_UNHEALTHY)
        description = "The region is unhealthy: any of " + ", ".join(critical)
        if composite:
            self.region_unhealthy: CloudwatchCompositeAlarm | CloudwatchMetricAlarm = CloudwatchCompositeAlarm(
                self,
                "region-unhealthy",
                alarm_name=self.region_unhealthy_name,
                alarm_description=description,
                alarm_rule=" OR ".join(f'ALARM("{name}")' for name in self.critical_alarm_names),
                alarm_actions=[self.topic.arn],
                ok_actions=[self.topic.arn],
            )
        elif watched.api_name:
            self.region_unhealthy = self._metric_alarm(
                "region-unhealthy",
                name=self.region_unhealthy_name,
                description=description + " (local stand-in: the API's 5xx rate)",
                namespace="AWS/ApiGateway",
                metric="5XXError",
                dimensions=self._api,
                statistic="Average",
                threshold=API_5XX_RATE,
                comparison=GREATER,
                register=False,
            )
        else:  # no API (ec2): the table's throttled writes, the most direct signal left here
            self.region_unhealthy = self._metric_alarm(
                "region-unhealthy",
                name=self.region_unhealthy_name,
                description=description + " (local stand-in: the table's throttled writes)",
                namespace="AWS/DynamoDB",
                metric="WriteThrottleEvents",
                dimensions={"TableName": watched.table_name},
                statistic="Sum",
                threshold=TABLE_THROTTLED_REQUESTS_PER_MINUTE,
                comparison=GREATER_OR_EQUAL,
                register=False,
            )
        self.alarm_names = [alarm.alarm_name for alarm in self.alarms.values()] + [self.region_unhealthy_name]
        self.alarm_arns = [alarm.arn for alarm in self.alarms.values()] + [self.region_unhealthy.arn]

    def _metric_alarm(
        self,
        key: str,
        *,
        description: str,
        namespace: str,
        metric: str,
        dimensions: dict[str, str],
        threshold: float,
        comparison: str,
        statistic: str | None = None,
        extended_statistic: str | None = None,
        evaluation_periods: int = EVALUATION_PERIODS,
        datapoints_to_alarm: int = DATAPOINTS_TO_ALARM,
        name: str | None = None,
        register: bool = True,
    ) -> CloudwatchMetricAlarm:
        alarm = metric_alarm(
            self,
            key,
            name=name or self._naming.name(key),
            description=description,
            namespace=namespace,
            metric=metric,
            dimensions=dimensions,
            threshold=threshold,
            comparison=comparison,
            topic_arn=self.topic.arn,
            statistic=statistic,
            extended_statistic=extended_statistic,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
        )
        if register:
            self.alarms[key] = alarm
        return alarm

    def _sum_alarm(
        self,
        key: str,
        *,
        description: str,
        label: str,
        namespace: str,
        metrics: Mapping[str, str],  # query id -> metric name, summed
        dimensions: dict[str, str],
        threshold: float,
        evaluation_periods: int = EVALUATION_PERIODS,
        datapoints_to_alarm: int = DATAPOINTS_TO_ALARM,
    ) -> None:
        """One alarm on the per-minute sum of several metrics; a metric with no data point counts as 0."""
        queries = [
            CloudwatchMetricAlarmMetricQuery(
                id=query_id,
                metric=CloudwatchMetricAlarmMetricQueryMetric(
                    namespace=namespace, metric_name=name, dimensions=dimensions, period=PERIOD_SECONDS, stat="Sum"
                ),
            )
            for query_id, name in metrics.items()
        ]
        self.alarms[key] = CloudwatchMetricAlarm(
            self,
            key,
            alarm_name=self._naming.name(key),
            alarm_description=description,
            metric_query=[
                CloudwatchMetricAlarmMetricQuery(
                    id="total",
                    expression=" + ".join(f"FILL({query_id}, 0)" for query_id in metrics),
                    label=label,
                    return_data=True,
                ),
                *queries,
            ],
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            threshold=threshold,
            comparison_operator=GREATER_OR_EQUAL,
            treat_missing_data="notBreaching",
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
        )


def metric_alarm(
    scope: Construct,
    key: str,
    *,
    name: str,
    description: str,
    namespace: str,
    metric: str,
    dimensions: dict[str, str],
    threshold: float,
    comparison: str,
    topic_arn: str,
    statistic: str | None = None,
    extended_statistic: str | None = None,
    evaluation_periods: int = EVALUATION_PERIODS,
    datapoints_to_alarm: int = DATAPOINTS_TO_ALARM,
    missing: str = "notBreaching",
) -> CloudwatchMetricAlarm:
    """One of the region's metric alarms: one-minute periods, ALARM and OK both notify `topic_arn`."""
    return CloudwatchMetricAlarm(
        scope,
        key,
        alarm_name=name,
        alarm_description=description,
        namespace=namespace,
        metric_name=metric,
        dimensions=dimensions,
        statistic=statistic,
        extended_statistic=extended_statistic,
        period=PERIOD_SECONDS,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=datapoints_to_alarm,
        threshold=threshold,
        comparison_operator=comparison,
        treat_missing_data=missing,
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
    )
