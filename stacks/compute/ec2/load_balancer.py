"""The region's internet-facing Application Load Balancer: the API's front door when `compute.runtime = "ec2"`.

Compute builds the load balancer, its target group (the fleet registers there), the HTTP :80 listener, which only
redirects to HTTPS, and the access-log bucket. The HTTPS :443 listener is the DNS stack's
(`stacks.dns.https_listener`): the certificate is validated in the zone DNS owns, as for API Gateway's custom
domain. The target group checks `shared.processor_runtime.HEALTH_PATH` on `PORT` over HTTP inside the VPC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction, LbListenerDefaultActionRedirect
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from constructs import Construct

from shared.checkov import skip
from shared.naming import Naming
from shared.processor_runtime import HEALTH_PATH, PORT
from stacks.compute.ec2.access_logs import AccessLogBucket

HTTP_PORT = 80
HTTPS_PORT = 443
DEREGISTRATION_DELAY_SECONDS = 30  # requests in flight finish; an instance refresh does not wait minutes per host
HEALTH_CHECK_INTERVAL_SECONDS = 15
HEALTH_CHECK_TIMEOUT_SECONDS = 5
HEALTHY_THRESHOLD = 2
UNHEALTHY_THRESHOLD = 3
HEALTHY_STATUS = "200"
REDIRECT_STATUS = "HTTP_301"
ELB_NAME_MAX = 32  # load balancers and target groups (AWS: CreateLoadBalancer, CreateTargetGroup `Name`)


def elb_name(naming: Naming, component: str) -> str:
    """`naming.name(component)`, refused when Elastic Load Balancing would refuse it."""
    name = naming.name(component)
    if len(name) > ELB_NAME_MAX:
        raise ValueError(
            f"load balancer name {name} is longer than {ELB_NAME_MAX} characters: shorten project or environment_suffix"
        )
    return name


class LoadBalancer(Construct):
    """An internet-facing ALB in `public_subnet_ids` behind `security_group_id` (network's `alb` group).

    Parameters are plain values: `vpc_id`, `public_subnet_ids` (one per zone), `security_group_id`,
    `deletion_protection` and `force_destroy` (`stacks.protection.Protection`), `log_retention_days` and
    `noncurrent_version_expiration_days` for the access-log bucket, `tls_only_log_bucket`
    (`shared.local_target.supports_tls_only_bucket_policy`), `tags` for the ALB and target group.

    Exposes `alb_arn`, `alb_arn_suffix` (CloudWatch's `LoadBalancer` dimension), `dns_name`, `zone_id` (the alias
    target of the API's records), `target_group_arn`, `target_group_arn_suffix` (`TargetGroup` dimension),
    `access_log_bucket` (its name), and `load_balancer`, `target_group`, `http_listener`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: Naming,
        vpc_id: str,
        public_subnet_ids: Sequence[str],
        security_group_id: str,
        deletion_protection: bool,
        force_destroy: bool,
        log_retention_days: int,
        noncurrent_version_expiration_days: int,
        tls_only_log_bucket: bool = True,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        name = elb_name(naming, "alb")
        logs = AccessLogBucket(
            self,
            "access-logs",
            naming=naming,
            region=naming.region,
            retention_days=log_retention_days,
            noncurrent_version_expiration_days=noncurrent_version_expiration_days,
            force_destroy=force_destroy,
            tls_only=tls_only_log_bucket,
        )
        self.access_log_bucket: str = logs.bucket.bucket
        self.load_balancer = Lb(
            self,
            "alb",
            name=name,
            load_balancer_type="application",
            internal=False,
            subnets=list(public_subnet_ids),
            security_groups=[security_group_id],
            drop_invalid_header_fields=True,
            enable_deletion_protection=deletion_protection,
            access_logs=LbAccessLogs(bucket=logs.bucket.bucket, enabled=True),
            tags={"Name": name, **(tags or {})},
            depends_on=[logs.policy],  # ELB checks it may write to the bucket when logging is turned on
        )
        target_group_name = elb_name(naming, "api")
        self.target_group = LbTargetGroup(
            self,
            "targets",
            name=target_group_name,
            port=PORT,
            protocol="HTTP",
            target_type="instance",
            vpc_id=vpc_id,
            deregistration_delay=str(DEREGISTRATION_DELAY_SECONDS),
            health_check=LbTargetGroupHealthCheck(
                enabled=True,
                path=HEALTH_PATH,
                port="traffic-port",
                protocol="HTTP",
                matcher=HEALTHY_STATUS,
                interval=HEALTH_CHECK_INTERVAL_SECONDS,
                timeout=HEALTH_CHECK_TIMEOUT_SECONDS,
                healthy_threshold=HEALTHY_THRESHOLD,
                unhealthy_threshold=UNHEALTHY_THRESHOLD,
            ),
            tags={"Name": target_group_name, **(tags or {})},
        )
        skip(
            self.target_group,
            "CKV_AWS_378",
            "TLS ends at the load balancer's HTTPS listener; the hop to an instance stays inside the VPC (private "
            "subnets, the instances' group admits only the load balancer's group on this port)",
        )
        self.http_listener = LbListener(
            self,
            "http",
            load_balancer_arn=self.load_balancer.arn,
            port=HTTP_PORT,
            protocol="HTTP",
            default_action=[
                LbListenerDefaultAction(
                    type="redirect",
                    redirect=LbListenerDefaultActionRedirect(
                        protocol="HTTPS", port=str(HTTPS_PORT), status_code=REDIRECT_STATUS
                    ),
                )
            ],
        )
        self.alb_arn: str = self.load_balancer.arn
        self.alb_arn_suffix: str = self.load_balancer.arn_suffix
        self.dns_name: str = self.load_balancer.dns_name
        self.zone_id: str = self.load_balancer.zone_id
        self.target_group_arn: str = self.target_group.arn
        self.target_group_arn_suffix: str = self.target_group.arn_suffix
