"""What an Application Load Balancer does with a request that reached it (`compute.runtime = "ec2"`), read from the
deployed load balancer: the load balancer the alias named (by its DNS name), its HTTPS :443 listener, the certificate
it serves for the Host, its default action, the health of the target group that action forwards to.

AWS's rules (Elastic Load Balancing, Application Load Balancers user guide):
- certificates (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/https-listener-certificates.html):
  the listener serves the certificate of its list that matches the client's SNI host name, else its default
  certificate;
- health (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html):
  requests go to healthy targets only; a target group of only unhealthy registered targets fails open (all of them
  get requests); with no target in service at all the load balancer answers 503 itself
  (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html:
  "HTTP 503: Service unavailable -- the target groups for the load balancer have no registered targets");
- a fixed-response action answers with its status, content type and body.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from config.settings import Settings
from ops.client import transport
from ops.client.aws import client
from ops.client.certificates import check_issued_for, covers
from ops.client.resolve import Resolution, ResolveError
from ops.client.transport import Answer, Outgoing
from ops.local import processor
from shared.local_target import LOOPBACK, runs_processor_stand_in

HTTPS_PORT = 443
APPLICATION = "application"
HEALTHY = "healthy"
UNHEALTHY = "unhealthy"  # registered and failing its checks: still routed to when every target is (fail open)


def elb_error(status: int, reason: str) -> Answer:
    """An answer the load balancer itself gives (its own HTML page, as an ALB sends)."""
    title = f"{status} {reason}"
    page = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
    page += "</body>\r\n</html>\r\n"
    return Answer(status, {"Content-Type": "text/html", "Server": "awselb/2.0"}, page)


NO_TARGETS = (503, "Service Temporarily Unavailable")
TARGET_UNREACHABLE = (502, "Bad Gateway")  # the target refused the connection or closed it without an answer
TARGET_TIMEOUT = (504, "Gateway Time-out")  # the target did not answer in time


@dataclass(frozen=True)
class Forward:
    """The request passed the load balancer: it goes to a target of `target_group_arn`."""

    region: str
    load_balancer_name: str
    target_group_arn: str


def find_load_balancer(settings: Settings, resolution: Resolution, regions: list[str]) -> tuple[str, dict[str, Any]]:
    """The load balancer whose DNS name the alias named, and its region: DescribeLoadBalancers in the region its
    name says (`<name>-<id>.<region>.elb.amazonaws.com`); a name of no listed region is looked for in each."""
    wanted = resolution.load_balancer_dns_name
    for region in [resolution.region] if resolution.region in regions else regions:
        pages = client(settings, "elbv2", region).get_paginator("describe_load_balancers").paginate()
        for balancer in (b for page in pages for b in page["LoadBalancers"]):
            if balancer.get("DNSName", "").lower() != wanted:
                continue
            if balancer.get("CanonicalHostedZoneId") != resolution.regional_zone_id:
                raise ResolveError(
                    f"{resolution.host}: the alias names zone {resolution.regional_zone_id}, load balancer "
                    f"{balancer['LoadBalancerName']} is in {balancer.get('CanonicalHostedZoneId')}"
                )
            if balancer.get("Type") != APPLICATION:
                raise ResolveError(f"{resolution.host}: {balancer['LoadBalancerName']} is not an Application LB")
            return region, balancer
    raise ResolveError(f"{resolution.host}: no load balancer in {', '.join(regions)} is {wanted}")


def https_listener(settings: Settings, region: str, balancer: dict[str, Any], host: str) -> dict[str, Any]:
    """The listener on 443; without one, nothing accepts the client's connection."""
    pages = (
        client(settings, "elbv2", region)
        .get_paginator("describe_listeners")
        .paginate(LoadBalancerArn=balancer["LoadBalancerArn"])
    )
    listeners: list[dict[str, Any]] = [item for page in pages for item in page["Listeners"]]
    for listener in listeners:
        if listener["Port"] == HTTPS_PORT:
            if listener["Protocol"] != "HTTPS":
                raise ResolveError(f"{host}: {balancer['LoadBalancerName']}'s listener on 443 is not HTTPS")
            return listener
    raise ResolveError(f"{host}: {balancer['LoadBalancerName']} has no listener on 443 (connection refused)")


def _names(settings: Settings, region: str, arn: str) -> list[str]:
    certificate = client(settings, "acm", region).describe_certificate(CertificateArn=arn)["Certificate"]
    return [certificate["DomainName"], *certificate.get("SubjectAlternativeNames", [])]


def serving_certificate(settings: Settings, region: str, listener: dict[str, Any], host: str) -> str:
    """The certificate the listener serves for SNI `host`: one of its list covering the name, else its default."""
    defaults = [str(c["CertificateArn"]) for c in listener.get("Certificates", [])]
    if not defaults:
        raise ResolveError(f"{host}: HTTPS listener {listener['ListenerArn']} has no certificate")
    listed = client(settings, "elbv2", region).describe_listener_certificates(ListenerArn=listener["ListenerArn"])
    candidates = dict.fromkeys([*defaults, *(str(c["CertificateArn"]) for c in listed.get("Certificates", []))])
    return next((arn for arn in candidates if covers(_names(settings, region, arn), host)), defaults[0])


def forwarded_target_group(listener: dict[str, Any], host: str) -> str | Answer:
    """The target group of the listener's default action (a forward), or the answer of a fixed-response action."""
    actions = sorted(listener.get("DefaultActions", []), key=lambda a: a.get("Order", 0))
    if not actions:
        raise ResolveError(f"{host}: listener {listener['ListenerArn']} has no default action")
    action = actions[-1]  # the terminal one (authenticate-* actions come first, and the platform has none)
    if action["Type"] == "fixed-response":
        fixed = action["FixedResponseConfig"]
        headers = {"Content-Type": fixed.get("ContentType", "text/plain")}
        return Answer(int(fixed["StatusCode"]), headers, fixed.get("MessageBody", ""))
    if action["Type"] != "forward":
        raise ResolveError(f"{host}: listener's default action is {action['Type']}; the client follows forward only")
    if action.get("TargetGroupArn"):
        return str(action["TargetGroupArn"])
    groups = [g for g in action.get("ForwardConfig", {}).get("TargetGroups", []) if g.get("Weight", 1)]
    if not groups:
        raise ResolveError(f"{host}: the listener's forward action names no target group")
    return str(groups[0]["TargetGroupArn"])  # the platform forwards to one group


def routable(states: Iterable[str]) -> bool:
    """Does the load balancer send the request on? Yes to a healthy target, or (fail open) when every target in
    the group is registered but unhealthy; no when no target is in service (none registered, initial, draining,
    unused)."""
    found = list(states)
    return HEALTHY in found or (bool(found) and all(state == UNHEALTHY for state in found))


def target_states(settings: Settings, region: str, target_group_arn: str) -> list[str]:
    """DescribeTargetHealth: the state of each registered target."""
    health = client(settings, "elbv2", region).describe_target_health(TargetGroupArn=target_group_arn)
    return [str(t["TargetHealth"]["State"]) for t in health["TargetHealthDescriptions"]]


def route(settings: Settings, resolution: Resolution, regions: list[str]) -> tuple[str, Forward | Answer]:
    """Everything the load balancer checks before it forwards, and its region: Forward, or an answer it gives itself
    (503 without a target in service, a fixed response); ResolveError where the client could not even connect to it
    or trust it."""
    region, balancer = find_load_balancer(settings, resolution, regions)
    listener = https_listener(settings, region, balancer, resolution.host)
    served = serving_certificate(settings, region, listener, resolution.host)
    check_issued_for(settings, region, served, resolution.host)
    group = forwarded_target_group(listener, resolution.host)
    if isinstance(group, Answer):
        return region, group
    if not routable(target_states(settings, region, group)):
        return region, elb_error(*NO_TARGETS)
    return region, Forward(region, balancer["LoadBalancerName"], group)


def forwarded_headers(request: Outgoing) -> dict[str, str]:
    """The request's headers as the load balancer passes them on: Host kept, the X-Forwarded-* headers added
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html)."""
    return {**request.headers, "X-Forwarded-For": LOOPBACK, "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"}


def to_stand_in(settings: Settings, forward: Forward, request: Outgoing) -> Answer:
    """Gap `ec2-user-data`: the target is the region's payment server stand-in, reached over plain HTTP on loopback;
    the load balancer answers 502 when it does not run or closes without answering, 504 when it answers too late
    (load-balancer-troubleshooting.html: "HTTP 502: Bad gateway", "HTTP 504: Gateway timeout")."""
    port = processor.running_port(settings.local, forward.region)
    if port is None:
        return elb_error(*TARGET_UNREACHABLE)
    try:
        return transport.over_http(LOOPBACK, port, replace(request, headers=forwarded_headers(request)))
    except TimeoutError:
        return elb_error(*TARGET_TIMEOUT)
    except (OSError, http.client.HTTPException):
        return elb_error(*TARGET_UNREACHABLE)


def send(settings: Settings, resolved: Resolution, regions: list[str], request: Outgoing) -> tuple[Answer, str]:
    """`request` through the ALB the records resolved to: (the answer, the region that gave it). On AWS the load
    balancer itself (HTTPS, SNI and Host the name called); locally its checks read from the emulator, then the
    region's stand-in (gap `ec2-user-data`)."""
    if not runs_processor_stand_in(settings):
        region, _ = find_load_balancer(settings, resolved, regions)
        return transport.over_https(resolved.host, resolved.regional_domain_name, request), region
    region, decision = route(settings, resolved, regions)
    if isinstance(decision, Answer):
        return decision, region
    return to_stand_in(settings, decision, request), region
