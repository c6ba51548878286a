"""The load balancer's HTTPS :443 listener (`compute.runtime = "ec2"`): the region's TLS front door.

The DNS stack builds it, as it builds API Gateway's custom domains in `lambda`: the certificate is validated in the
zone DNS owns (`stacks.dns.custom_domain.ValidatedCertificate`). It terminates TLS with that certificate and
forwards every request to compute's target group. ELBSecurityPolicy-TLS13-1-2-2021-06 accepts TLS 1.3 and 1.2
only, with forward-secret ciphers: the same floor as the custom domains' `TLS_1_2`.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction
from constructs import Construct

from stacks.compute.ec2.load_balancer import HTTPS_PORT

SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


class HttpsListener(Construct):
    """HTTPS on `HTTPS_PORT` of the ALB `load_balancer_arn` with `certificate_arn` (validated: pass
    `ValidatedCertificate.certificate_arn`, so the listener waits for ACM to issue it), forwarding to
    `target_group_arn`. Exposes `listener` (`arn`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        load_balancer_arn: str,
        certificate_arn: str,
        target_group_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.listener = LbListener(
            self,
            "https",
            load_balancer_arn=load_balancer_arn,
            port=HTTPS_PORT,
            protocol="HTTPS",
            ssl_policy=SSL_POLICY,
            certificate_arn=certificate_arn,
            default_action=[LbListenerDefaultAction(type="forward", target_group_arn=target_group_arn)],
        )
