"""The load balancer's alarms: the fleet short of healthy hosts, 5xx from the targets or the ALB itself, slow p99.

All four are critical: RegionAlarms OR-s them into `region-unhealthy` (`Watched.extra_critical`), and they
notify the region's alarms topic like every other alarm. Dimensions are the ALB's and target group's
`arn_suffix` (`app/<name>/<id>`, `targetgroup/<name>/<id>`), as AWS/ApplicationELB publishes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct

from shared.naming import Naming
from stacks.compute.monitoring import GREATER, GREATER_OR_EQUAL, metric_alarm

NAMESPACE = "AWS/ApplicationELB"
LESS = "LessThanThreshold"
TARGET_5XX_PER_MINUTE = 5
ELB_5XX_PER_MINUTE = 5  # 502/503/504 the ALB answers itself: no healthy target, target refused or timed out


@dataclass(frozen=True)
class LoadBalancerWatched:
    """What the load balancer alarms watch: plain values from `LoadBalancer` and the settings."""

    alb_arn_suffix: str
    target_group_arn_suffix: str
    min_healthy_hosts: int  # compute.fleet_min
    p99_response_ms: int  # compute.target_p99_response_ms

    def build(self, scope: Construct, *, naming: Naming, topic_arn: str) -> Mapping[str, CloudwatchMetricAlarm]:
        """RegionAlarms' hook (`Watched.extra_critical`): the alarms, by key, all critical."""
        return LoadBalancerAlarms(scope, "load-balancer", naming=naming, topic_arn=topic_arn, watched=self).alarms


class LoadBalancerAlarms(Construct):
    """Exposes `alarms` (key -> alarm), `alarm_names` and `alarm_arns`."""

    def __init__(
        self, scope: Construct, construct_id: str, *, naming: Naming, topic_arn: str, watched: LoadBalancerWatched
    ) -> None:
        super().__init__(scope, construct_id)
        self._naming = naming
        self._topic_arn = topic_arn
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}
        target = {"LoadBalancer": watched.alb_arn_suffix, "TargetGroup": watched.target_group_arn_suffix}
        # Missing data means no target reported at all: as bad as none healthy.
        self._alarm(
            "alb-healthy-hosts",
            f"Fewer than {watched.min_healthy_hosts} healthy instances behind the load balancer",
            metric="HealthyHostCount",
            dimensions=target,
            statistic="Minimum",
            threshold=watched.min_healthy_hosts,
            comparison=LESS,
            missing="breaching",
        )
        self._alarm(
            "alb-target-5xx",
            f"Instances answered {TARGET_5XX_PER_MINUTE} or more 5xx a minute",
            metric="HTTPCode_Target_5XX_Count",
            dimensions=target,
            statistic="Sum",
            threshold=TARGET_5XX_PER_MINUTE,
            comparison=GREATER_OR_EQUAL,
        )
        self._alarm(
            "alb-elb-5xx",
            f"The load balancer itself answered {ELB_5XX_PER_MINUTE} or more 5xx a minute",
            metric="HTTPCode_ELB_5XX_Count",
            dimensions={"LoadBalancer": watched.alb_arn_suffix},
            statistic="Sum",
            threshold=ELB_5XX_PER_MINUTE,
            comparison=GREATER_OR_EQUAL,
        )
        self._alarm(
            "alb-p99-response",
            f"Instances' p99 response time above {watched.p99_response_ms} ms",
            metric="TargetResponseTime",
            dimensions=target,
            extended_statistic="p99",
            threshold=watched.p99_response_ms / 1000,  # TargetResponseTime is in seconds
            comparison=GREATER,
        )
        self.alarm_names = [alarm.alarm_name for alarm in self.alarms.values()]
        self.alarm_arns = [alarm.arn for alarm in self.alarms.values()]

    def _alarm(
        self,
        key: str,
        description: str,
        *,
        metric: str,
        dimensions: dict[str, str],
        threshold: float,
        comparison: str,
        statistic: str | None = None,
        extended_statistic: str | None = None,
        missing: str = "notBreaching",
    ) -> None:
        self.alarms[key] = metric_alarm(
            self,
            key,
            name=self._naming.name(key),
            description=description,
            namespace=NAMESPACE,
            metric=metric,
            dimensions=dimensions,
            threshold=threshold,
            comparison=comparison,
            topic_arn=self._topic_arn,
            statistic=statistic,
            extended_statistic=extended_statistic,
            missing=missing,
        )
