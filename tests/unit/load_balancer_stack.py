"""A small stack holding the load balancer constructs as ComputeStack/DnsStack will wire them, synthesized with
the project's stack base (its provider, backend and naming) for unit and aws-rule tests."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import cdktf
from constructs import Construct

from config.settings import Role, Settings
from shared.local_target import supports_composite_alarms, supports_tls_only_bucket_policy
from shared.stack_id import Layer
from stacks.base import PlatformStack
from stacks.compute.dashboard import RegionDashboard
from stacks.compute.ec2.alarms import LoadBalancerWatched
from stacks.compute.ec2.load_balancer import LoadBalancer
from stacks.compute.monitoring import RegionAlarms, Watched
from stacks.dns.https_listener import HttpsListener
from stacks.dns.records import ApiTarget, origin_record
from tests.conftest import AWS_ZONE
from tests.support import Synth

STACK = "lb-test"
VPC_ID = "vpc-0123456789abcdef0"
PUBLIC_SUBNETS = ("subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2")
ALB_SECURITY_GROUP = "sg-0123456789abcdef0"
CERTIFICATE_ARN = "arn:aws:acm:us-east-1:111122223333:certificate/11111111-2222-3333-4444-555555555555"
ZONE_ID = "Z0123456789ABCDEFGHIJ"
FLEET_MIN = 2
P99_MS = 1000
REGION_UNHEALTHY_EXTRA = "lb"


class LoadBalancerTestStack(PlatformStack):
    layer: ClassVar[Layer] = "compute"

    def __init__(self, scope: Construct, *, settings: Settings, role: Role) -> None:
        super().__init__(scope, settings=settings, role=role)
        lb = LoadBalancer(
            self,
            "load-balancer",
            naming=self.naming,
            vpc_id=VPC_ID,
            public_subnet_ids=list(PUBLIC_SUBNETS),
            security_group_id=ALB_SECURITY_GROUP,
            deletion_protection=self.protection.deletion_protection,
            force_destroy=self.protection.force_destroy,
            log_retention_days=settings.compute.log_retention_days,
            noncurrent_version_expiration_days=settings.data.noncurrent_version_expiration_days,
            tls_only_log_bucket=supports_tls_only_bucket_policy(settings),
        )
        HttpsListener(
            self,
            "https",
            load_balancer_arn=lb.alb_arn,
            certificate_arn=CERTIFICATE_ARN,
            target_group_arn=lb.target_group_arn,
        )
        alarms = RegionAlarms(
            self,
            "alarms",
            naming=self.naming,
            kms_key_arn="arn:aws:kms:us-east-1:111122223333:key/test",
            alarm_email="",
            watched=Watched(
                functions={"payment-retry": "retry"},
                critical_functions=[],
                api_name="api",
                api_stage="v1",
                table_name="payments",
                event_bus_name="bus",
                event_rule_name="rule",
                dead_letter_queues={},
                cluster_identifier="cluster",
                cpu_alarm_percent=80,
                replication_lag_alarm_ms=1000,
                extra_critical=[
                    LoadBalancerWatched(
                        alb_arn_suffix=lb.alb_arn_suffix,
                        target_group_arn_suffix=lb.target_group_arn_suffix,
                        min_healthy_hosts=FLEET_MIN,
                        p99_response_ms=P99_MS,
                    )
                ],
            ),
            composite=supports_composite_alarms(settings),
        )
        RegionDashboard(
            self,
            "dashboard",
            name="dashboard",
            region=self.region,
            api_name="api",
            api_stage="v1",
            functions={},
            table_name="payments",
            cluster_identifier="cluster",
            queues={},
            alarm_arns=alarms.alarm_arns,
            load_balancer=(lb.alb_arn_suffix, lb.target_group_arn_suffix),
        )
        origin_record(
            self,
            "origin",
            zone_id=ZONE_ID,
            name=f"origin-{role}.api.{AWS_ZONE}",
            target=ApiTarget(name=lb.dns_name, zone_id=lb.zone_id),
        )


def synth_stack(settings: Settings, role: Role = "primary") -> dict[str, Any]:
    stack = LoadBalancerTestStack(cdktf.Testing.app(), settings=settings, role=role)
    body: dict[str, Any] = json.loads(cdktf.Testing.synth(stack))
    return body


class OneStack(Synth):
    """A `Synth` of one stack, so the aws-rule helpers (`support.each`) read it as they read the app."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.stacks = {STACK: body}
        self.manifest = {}
