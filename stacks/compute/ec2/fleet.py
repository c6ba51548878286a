"""The processor fleet: an Auto Scaling group in the private subnets of every zone, behind the load balancer.

The group replaces an instance its target group finds unhealthy (`health_check_type = "ELB"`, after a boot grace
period), runs the launch template's version it was applied with (pinned: a new version is a change Terraform
shows), and rolls a new version out by instance refresh, keeping a share of the fleet in service. A
target-tracking policy holds the fleet's average CPU at the configured percent. Its tags reach every instance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktf import ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.autoscaling_group import (
    AutoscalingGroup,
    AutoscalingGroupInstanceRefresh,
    AutoscalingGroupInstanceRefreshPreferences,
    AutoscalingGroupLaunchTemplate,
    AutoscalingGroupTag,
)
from cdktf_cdktf_provider_aws.autoscaling_policy import (
    AutoscalingPolicy,
    AutoscalingPolicyTargetTrackingConfiguration,
    AutoscalingPolicyTargetTrackingConfigurationPredefinedMetricSpecification,
)
from constructs import Construct

from config.settings import Compute

CPU_METRIC = "ASGAverageCPUUtilization"
# Every group metric, at one-minute granularity (free for Auto Scaling groups).
GROUP_METRICS: tuple[str, ...] = (
    "GroupMinSize",
    "GroupMaxSize",
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupStandbyInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
)


class ProcessorFleet(Construct):
    """Exposes `group` (`name`, `arn`) and `scaling_policy`.

    `target_group_arns`: the load balancer's target group(s) the instances register with (the `LoadBalancer`
    construct's target group ARN); `tags`: the platform's tags, propagated to every instance; `after`: what must
    exist before an instance boots (the artifact); `instance_refresh` False and `policy_ignore_changes`: the local
    target's gaps (shared.local_target)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        compute: Compute,
        subnet_ids: list[str],
        launch_template_id: str,
        launch_template_version: str,
        target_group_arns: list[str],
        tags: Mapping[str, str],
        after: Sequence[ITerraformDependable] = (),
        instance_refresh: bool = True,
        policy_ignore_changes: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.group = AutoscalingGroup(
            self,
            "group",
            name=name,
            vpc_zone_identifier=subnet_ids,
            min_size=compute.fleet_min,
            max_size=compute.fleet_max,
            desired_capacity=compute.fleet_desired,
            health_check_type="ELB",
            health_check_grace_period=compute.health_check_grace_seconds,
            target_group_arns=target_group_arns,
            launch_template=AutoscalingGroupLaunchTemplate(id=launch_template_id, version=launch_template_version),
            instance_refresh=AutoscalingGroupInstanceRefresh(
                strategy="Rolling",
                preferences=AutoscalingGroupInstanceRefreshPreferences(
                    min_healthy_percentage=compute.instance_refresh_min_healthy_percent
                ),
            )
            if instance_refresh
            else None,
            enabled_metrics=list(GROUP_METRICS),
            metrics_granularity="1Minute",
            tag=[
                AutoscalingGroupTag(key=key, value=value, propagate_at_launch=True)
                for key, value in sorted({**tags, "Name": name}.items())
            ],
            # Target tracking moves the desired capacity; an apply must not reset it to the configured start.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["desired_capacity"]),
            depends_on=list(after) or None,
        )
        self.scaling_policy = AutoscalingPolicy(
            self,
            "cpu-target",
            name=f"{name}-cpu-target",
            autoscaling_group_name=self.group.name,
            policy_type="TargetTrackingScaling",
            target_tracking_configuration=AutoscalingPolicyTargetTrackingConfiguration(
                predefined_metric_specification=(
                    AutoscalingPolicyTargetTrackingConfigurationPredefinedMetricSpecification(
                        predefined_metric_type=CPU_METRIC
                    )
                ),
                target_value=compute.fleet_cpu_target_percent,
            ),
            lifecycle=TerraformResourceLifecycle(ignore_changes=list(policy_ignore_changes))
            if policy_ignore_changes
            else None,
        )
