"""The client's load balancer path (`compute.runtime = "ec2"`) and the payment server's local stand-in (gap
`ec2-user-data`), on a private emulator.

Built with boto3 as the compute and DNS stacks deploy it: a VPC with two public subnets, an internet-facing ALB, a
target group (HTTP 8080, health check `HEALTH_PATH`), an ACM certificate for `api.<zone>` + `origin-primary.api.<zone>`
validated in the zone, the HTTPS :443 listener forwarding to the target group, a launch template whose user data
writes the environment file with `environment_heredoc`, an instance launched from it and registered; in the zone,
both names alias the ALB. The last hop is the region's stand-in started by `ops.local.processor`; until the real
server (`lambda_src.payment_server`) is merged, the stand-in's command is `tests.unit.stand_in_echo`, a stdlib
http.server that answers with what it received and the environment it runs with.
"""

from __future__ import annotations

import base64
import json
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from config import load_settings
from config.settings import Settings
from ops.client import load_balancer, records, transport
from ops.client.api_client import ApiClient
from ops.client.records import Alias, Record
from ops.client.resolve import API_GATEWAY, LOAD_BALANCER, ResolveError, Resolver, load_balancer_region
from ops.client.transport import Answer, Outgoing
from ops.core.aws_clients import client
from ops.core.errors import ToolError, UsageError
from ops.deploy import engine, stand_in
from ops.deploy.outputs import update_outputs
from ops.local import pidfile, processor
from ops.local import target as local_target
from ops.terraform.runner import ChangeSummary
from shared.api_names import entry_name, origin_name
from shared.local_target import LOOPBACK
from shared.processor_runtime import HEALTH_PATH, PORT, environment_heredoc
from tests.unit.private_emulator import private_emulator
from tests.unit.stand_in_echo import DELAY_HEADER

ECHO = (sys.executable, "-m", "tests.unit.stand_in_echo")
ROLE = "primary"


def user_data(marker: str) -> str:
    """A launch template's script, as the fleet writes it: the environment file between other steps."""
    values = {"API_BASE_PATH": "v1", "PAYMENTS_TABLE": "payments-test", "MARKER": marker}
    return f"#!/bin/bash\nset -euo pipefail\n{environment_heredoc(values)}systemctl enable --now payment-processor\n"


@dataclass
class Emulated:
    settings: Settings
    region: str
    zone_id: str
    subnets: list[str]
    vpc_id: str
    certificate_arn: str
    template_id: str
    instance_id: str

    def aws(self, service: str) -> Any:
        return client(self.settings, service, self.region)


@dataclass
class FrontDoor:
    """One ALB with its target group and :443 listener; both API names alias it."""

    balancer: dict[str, Any]
    target_group_arn: str
    listener_arn: str


def _certificate(settings: Settings, region: str, zone_id: str, names: list[str]) -> str:
    acm = client(settings, "acm", region)
    alternatives = {"SubjectAlternativeNames": names[1:]} if names[1:] else {}
    arn: str = acm.request_certificate(DomainName=names[0], ValidationMethod="DNS", **alternatives)["CertificateArn"]
    options = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"]
    changes = [
        {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": o["ResourceRecord"]["Name"],
                "Type": o["ResourceRecord"]["Type"],
                "TTL": 300,
                "ResourceRecords": [{"Value": o["ResourceRecord"]["Value"]}],
            },
        }
        for o in options
        if "ResourceRecord" in o
    ]
    assert changes, "the emulator returned no validation records"
    client(settings, "route53", settings.regions.primary).change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Changes": changes}
    )
    for _ in range(100):  # issued after the emulator's MOTO_ACM_VALIDATION_WAIT (gap `acm-validation-wait`)
        if acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED":
            return arn
        time.sleep(0.1)
    pytest.fail(f"certificate {arn} was not issued within 10 s")


@pytest.fixture(scope="module")
def emulated() -> Iterator[Emulated]:
    with private_emulator() as settings:
        region = settings.regions.of(ROLE)
        route53 = client(settings, "route53", settings.regions.primary)
        zone = route53.create_hosted_zone(Name=settings.dns.zone_name, CallerReference=uuid.uuid4().hex)
        zone_id = records.bare_zone_id(zone["HostedZone"]["Id"])
        ec2 = client(settings, "ec2", region)
        vpc_id = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
        subnets = [
            ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.40.{n}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
            for n, az in enumerate(zones)
        ]
        names = [entry_name(settings.dns), origin_name(settings.dns, ROLE)]
        certificate = _certificate(settings, region, zone_id, names)
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        template_id = ec2.create_launch_template(
            LaunchTemplateName=f"processor-{uuid.uuid4().hex[:8]}",
            LaunchTemplateData={
                "ImageId": image,
                "InstanceType": "t3.medium",
                "UserData": base64.b64encode(user_data("one").encode()).decode(),
            },
        )["LaunchTemplate"]["LaunchTemplateId"]
        instance_id = ec2.run_instances(
            LaunchTemplate={"LaunchTemplateId": template_id}, MinCount=1, MaxCount=1, SubnetId=subnets[0]
        )["Instances"][0]["InstanceId"]
        emulated = Emulated(settings, region, zone_id, subnets, vpc_id, certificate, template_id, instance_id)
        try:
            yield emulated
        finally:
            local_target_lines = processor.down(settings.local, [region])
            assert all("stopped" in line for line in local_target_lines)


def _alias_both_names(emulated: Emulated, balancer: dict[str, Any]) -> None:
    dns = emulated.settings.dns
    changes = [
        {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": name,
                "Type": "A",
                "AliasTarget": {
                    "DNSName": balancer["DNSName"],
                    "HostedZoneId": balancer["CanonicalHostedZoneId"],
                    "EvaluateTargetHealth": True,
                },
            },
        }
        for name in (entry_name(dns), origin_name(dns, ROLE))
    ]
    client(emulated.settings, "route53", emulated.settings.regions.primary).change_resource_record_sets(
        HostedZoneId=emulated.zone_id, ChangeBatch={"Changes": changes}
    )


@pytest.fixture
def front_door(emulated: Emulated) -> FrontDoor:
    """A fresh ALB per test (a test may break its listener), registered instance, records aliasing it."""
    elbv2 = emulated.aws("elbv2")
    suffix = uuid.uuid4().hex[:8]
    balancer = elbv2.create_load_balancer(
        Name=f"alb-{suffix}", Subnets=emulated.subnets, Scheme="internet-facing", Type="application"
    )["LoadBalancers"][0]
    group = elbv2.create_target_group(
        Name=f"tg-{suffix}",
        Protocol="HTTP",
        Port=PORT,
        VpcId=emulated.vpc_id,
        HealthCheckPath=HEALTH_PATH,
        Matcher={"HttpCode": "200"},
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": emulated.instance_id, "Port": PORT}])
    listener = elbv2.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"],
        Protocol="HTTPS",
        Port=443,
        SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
        Certificates=[{"CertificateArn": emulated.certificate_arn}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
    )["Listeners"][0]["ListenerArn"]
    _alias_both_names(emulated, balancer)
    return FrontDoor(balancer, group, listener)


@pytest.fixture
def running(emulated: Emulated) -> str:
    """The region's stand-in runs (the echo server) from the launch template's latest version."""
    return processor.start(emulated.settings, emulated.region, emulated.template_id, command=ECHO)


def _client(emulated: Emulated) -> ApiClient:
    return ApiClient(emulated.settings, "key-not-checked-by-the-echo", health_of=lambda _: True)


def _post(emulated: Emulated) -> tuple[int, dict[str, Any], str]:
    api = _client(emulated)
    answer, region = api.send(
        "POST",
        api.url("/payments?x=1"),
        body='{"amount": "10.00"}',
        headers={"Content-Type": "application/json"},
        key=api.key,
    )
    assert region == emulated.region
    return answer.status, answer.headers, answer.body


# -- the resolver -------------------------------------------------------------------------------------------------


def test_an_alias_to_a_load_balancer_ends_the_walk_in_the_region_its_name_says() -> None:
    """Route 53 aliases an ALB by its DNS name `<name>-<id>.<region>.elb.amazonaws.com`, which it also accepts
    prefixed `dualstack.` (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-to-elb-load-balancer.html);
    an API Gateway regional domain still ends it as API Gateway."""
    alb = "dualstack.pay-alb-0123456789.eu-west-1.elb.amazonaws.com"
    zone = {
        "api.z": [Record("api.z", "A", alias=Alias("leg.api.z", "ZOWN", True))],
        "leg.api.z": [Record("leg.api.z", "A", alias=Alias(alb, "Z32O12XQLNTSW2", True))],
        "gw.z": [Record("gw.z", "A", alias=Alias("d-abc123.execute-api.eu-west-1.amazonaws.com", "ZGW", False))],
    }
    resolver = Resolver(zone, "ZOWN", lambda _: True)
    found = resolver.resolve("api.z")
    assert (found.front_door, found.region, found.regional_zone_id) == (LOAD_BALANCER, "eu-west-1", "Z32O12XQLNTSW2")
    assert found.load_balancer_dns_name == "pay-alb-0123456789.eu-west-1.elb.amazonaws.com"
    assert len(found.hops) == 2
    assert resolver.resolve("gw.z").front_door == API_GATEWAY
    assert load_balancer_region("internal-pay-1.us-gov-west-1.elb.amazonaws.com") == "us-gov-west-1"
    assert load_balancer_region("bucket.s3.amazonaws.com") is None


def test_the_emulators_load_balancer_names_are_followed(emulated: Emulated, front_door: FrontDoor) -> None:
    """The emulator names an ALB `<name>-1.<region>.elb.amazonaws.com` and gives it a canonical hosted zone id;
    the resolver reaches it through the zone's records."""
    assert load_balancer_region(front_door.balancer["DNSName"]) == emulated.region
    zone = records.zone_records(emulated.settings, emulated.zone_id)
    found = Resolver(zone, emulated.zone_id, lambda _: True).resolve(entry_name(emulated.settings.dns))
    assert found.front_door == LOAD_BALANCER
    assert found.load_balancer_dns_name == front_door.balancer["DNSName"].lower()


def test_load_balancer_rules_fail_open_only_when_every_target_is_unhealthy() -> None:
    """Requests go to healthy targets; a group of only unhealthy registered targets fails open; none in service
    (none registered, initial, draining, unused) is the load balancer's own 503
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html,
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html)."""
    assert load_balancer.routable(["healthy", "unhealthy"])
    assert load_balancer.routable(["unhealthy", "unhealthy"])
    assert not load_balancer.routable([])
    assert not load_balancer.routable(["initial"])
    assert not load_balancer.routable(["draining", "unhealthy"])
    assert not load_balancer.routable(["unused"])


# -- the stand-in -------------------------------------------------------------------------------------------------


def test_the_stand_in_runs_with_the_user_datas_environment_and_the_emulators_access(
    emulated: Emulated, running: str
) -> None:
    """The environment is the launch template's user data (decoded, the heredoc read back), then the emulator's
    endpoint and region as the in-process functions get them, then where to listen (loopback, a free port)."""
    assert "stand-in" in running
    assert emulated.template_id in running
    port = processor.running_port(emulated.settings.local, emulated.region)
    assert port is not None
    status = processor.status(emulated.settings.local, emulated.region)
    assert f"{LOOPBACK}:{port}" in status
    assert "healthy" in status
    code, _, body = _post(emulated)
    assert code == 201
    environment = json.loads(body)["environment"]
    assert environment == {
        "API_BASE_PATH": "v1",
        "AWS_ENDPOINT_URL": emulated.settings.local.endpoint,
        "AWS_REGION": emulated.region,
        "MARKER": "one",
        "PAYMENTS_TABLE": "payments-test",
        processor.BIND_VARIABLE: LOOPBACK,
        processor.PORT_VARIABLE: str(port),
    }
    assert processor.files(emulated.settings.local, emulated.region).log.stat().st_mode & 0o077 == 0  # owner only


def test_a_new_launch_template_version_restarts_the_stand_in(emulated: Emulated, running: str) -> None:
    """A new version (new artifact or setting: an instance refresh on AWS) restarts it with the new environment;
    the same version finds it running."""
    pid_file = processor.files(emulated.settings.local, emulated.region).pid
    first = pidfile.running_pid(pid_file)
    again = processor.start(emulated.settings, emulated.region, emulated.template_id, command=ECHO)
    assert "already runs" in again
    ec2 = emulated.aws("ec2")
    ec2.create_launch_template_version(
        LaunchTemplateId=emulated.template_id,
        SourceVersion="1",
        LaunchTemplateData={"UserData": base64.b64encode(user_data("two").encode()).decode()},
    )
    try:
        restarted = processor.start(emulated.settings, emulated.region, emulated.template_id, command=ECHO)
        assert "restarted" in restarted
        assert f"{emulated.template_id}:2" in restarted
        assert first is not None
        assert pidfile.running_pid(pid_file) not in {None, first}
        _, _, body = _post(emulated)
        assert json.loads(body)["environment"]["MARKER"] == "two"
    finally:
        ec2.create_launch_template_version(
            LaunchTemplateId=emulated.template_id,
            SourceVersion="1",
            LaunchTemplateData={"UserData": base64.b64encode(user_data("one").encode()).decode()},
        )


def test_deploy_hooks_follow_compute_outputs(emulated: Emulated, monkeypatch: pytest.MonkeyPatch) -> None:
    """After compute-<role> applies in ec2 the stand-in runs (started with the default command, here patched to the
    echo); lambda outputs and a destroy of compute stop it; other stacks are left alone."""
    monkeypatch.setattr(processor, "DEFAULT_COMMAND", ECHO)
    settings, stack = emulated.settings, f"compute-{ROLE}"
    processor.stop(settings.local, emulated.region)
    ec2_outputs = {stand_in.RUNTIME_OUTPUT: "ec2", stand_in.LAUNCH_TEMPLATE_OUTPUT: emulated.template_id}
    assert stand_in.after_apply(settings, f"dns-{ROLE}", ec2_outputs) == []
    [started] = stand_in.after_apply(settings, stack, ec2_outputs)
    assert "started" in started
    [stopped] = stand_in.after_apply(settings, stack, {stand_in.RUNTIME_OUTPUT: "lambda"})
    assert "stopped" in stopped
    assert processor.running_port(settings.local, emulated.region) is None
    stand_in.after_apply(settings, stack, ec2_outputs)
    [stopped] = stand_in.before_destroy(settings, stack)
    assert "stopped" in stopped
    assert stand_in.before_destroy(settings, stack) == []


def test_the_stand_in_command_reads_compute_outputs_from_the_outputs_file(
    emulated: Emulated, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`python -m ops stand-in start` does what a deploy that finds compute unchanged does: it starts each region's
    stand-in from the outputs file; a region whose compute has no ec2 outputs says so."""
    monkeypatch.setattr(processor, "DEFAULT_COMMAND", ECHO)
    monkeypatch.setenv("PAYMENTS_OUTPUTS_DIR", str(tmp_path))
    settings = emulated.settings
    processor.stop(settings.local, emulated.region)
    ec2_outputs = {stand_in.RUNTIME_OUTPUT: "ec2", stand_in.LAUNCH_TEMPLATE_OUTPUT: emulated.template_id}
    update_outputs(settings, {f"compute-{ROLE}": ec2_outputs})
    started, other = stand_in.command(settings, "start")
    assert "started" in started
    assert other == "compute-secondary is not deployed with runtime ec2: no stand-in"
    assert "healthy" in stand_in.command(settings, "status")[0]
    assert "stopped" in stand_in.command(settings, "stop")[0]
    with pytest.raises(UsageError, match="action 'restart' is invalid"):
        stand_in.command(settings, "restart")


def test_local_down_stops_the_stand_ins(emulated: Emulated, running: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make local-down` stops the stand-ins first (the emulator's own processes are not this test's: the target's
    other parts are stubbed)."""
    pid = pidfile.running_pid(processor.files(emulated.settings.local, emulated.region).pid)
    assert pid is not None
    monkeypatch.setattr(local_target.replication, "down", lambda _: "replication stubbed")
    monkeypatch.setattr(local_target.postgres, "down", lambda _: [])
    monkeypatch.setattr(local_target.emulator, "down", lambda _: "emulator stubbed")
    lines = local_target.down(emulated.settings)
    assert any(f"pid {pid}) stopped" in line for line in lines)
    assert processor.running_port(emulated.settings.local, emulated.region) is None


# -- the client through the load balancer -------------------------------------------------------------------------


def test_a_request_reaches_the_stand_in_with_the_called_host(
    emulated: Emulated, front_door: FrontDoor, running: str
) -> None:
    """An ALB keeps the Host header and the path with its query, and adds X-Forwarded-For/-Proto/-Port
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html)."""
    code, _, body = _post(emulated)
    assert code == 201
    seen = json.loads(body)
    assert (seen["method"], seen["path"], seen["body"]) == ("POST", "/v1/payments?x=1", '{"amount": "10.00"}')
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert headers["host"] == entry_name(emulated.settings.dns)
    assert (headers["x-forwarded-proto"], headers["x-forwarded-port"]) == ("https", "443")
    assert headers["x-api-key"] == "key-not-checked-by-the-echo"


def test_no_target_in_service_is_the_load_balancers_503(
    emulated: Emulated, front_door: FrontDoor, running: str
) -> None:
    """With no registered target the ALB answers 503 itself (load-balancer-troubleshooting.html: "the target
    groups for the load balancer have no registered targets"); the stand-in is not reached."""
    emulated.aws("elbv2").deregister_targets(
        TargetGroupArn=front_door.target_group_arn, Targets=[{"Id": emulated.instance_id, "Port": PORT}]
    )
    code, headers, body = _post(emulated)
    assert code == 503
    assert "503 Service Temporarily Unavailable" in body
    assert headers["Content-Type"] == "text/html"


def test_a_stopped_stand_in_is_the_load_balancers_502(emulated: Emulated, front_door: FrontDoor) -> None:
    """A target that refuses the connection: the ALB answers 502 Bad Gateway (load-balancer-troubleshooting.html:
    "HTTP 502: Bad gateway")."""
    processor.stop(emulated.settings.local, emulated.region)
    code, _, body = _post(emulated)
    assert code == 502
    assert "Bad Gateway" in body


def test_a_stand_in_answering_too_late_is_the_load_balancers_504(
    emulated: Emulated, front_door: FrontDoor, running: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target that does not answer in time: the ALB answers 504 Gateway Timeout (load-balancer-troubleshooting.html:
    "HTTP 504: Gateway timeout")."""
    monkeypatch.setattr(transport, "HTTPS_TIMEOUT_SECONDS", 0.2)
    api = _client(emulated)
    answer, _ = api.send("GET", api.url("/payments/p1"), headers={DELAY_HEADER: "1"}, key=api.key)
    assert answer.status == 504
    assert "Gateway Time-out" in answer.body


def test_the_payment_server_itself_serves_as_the_stand_in(emulated: Emulated, front_door: FrontDoor) -> None:
    """The default command, `python -m lambda_src.payment_server`, started from a launch template whose user data
    names the API key secret, the table and the bucket: healthy once its checks pass, and through the load balancer
    it refuses a wrong key as API Gateway did (403 `{"message": "Forbidden"}`)."""
    pytest.importorskip("lambda_src.payment_server")  # merged from the server branch
    settings, region = emulated.settings, emulated.region
    secret = f"stand-in-key-{uuid.uuid4().hex[:8]}"
    client(settings, "secretsmanager", region).create_secret(
        Name=secret, SecretString=json.dumps({"keys": {"k1": "v" * 40}, "current": "k1"})
    )
    table, bucket = f"stand-in-{uuid.uuid4().hex[:8]}", f"stand-in-{uuid.uuid4().hex[:8]}"
    client(settings, "dynamodb", region).create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "payment_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "payment_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client(settings, "s3", region).create_bucket(Bucket=bucket)
    values = {"API_KEY_SECRET_NAME": secret, "API_BASE_PATH": "v1", "PAYMENTS_TABLE": table, "AUDIT_BUCKET": bucket}
    script = f"#!/bin/bash\n{environment_heredoc(values)}"
    ec2 = emulated.aws("ec2")
    template = ec2.create_launch_template(
        LaunchTemplateName=f"server-{uuid.uuid4().hex[:8]}",
        LaunchTemplateData={"ImageId": "ami-any", "UserData": base64.b64encode(script.encode()).decode()},
    )["LaunchTemplate"]["LaunchTemplateId"]
    try:
        assert "started" in processor.start(settings, region, template)
        assert _post(emulated)[:3:2] == (403, '{"message": "Forbidden"}')
    finally:
        processor.stop(settings.local, region)


def test_a_certificate_not_covering_the_host_is_refused(emulated: Emulated, front_door: FrontDoor) -> None:
    """The listener serves the certificate matching the SNI name, else its default
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/https-listener-certificates.html); one
    not covering the called name fails the client's TLS check."""
    other = _certificate(
        emulated.settings, emulated.region, emulated.zone_id, [f"other.{emulated.settings.dns.zone_name}"]
    )
    emulated.aws("elbv2").modify_listener(ListenerArn=front_door.listener_arn, Certificates=[{"CertificateArn": other}])
    with pytest.raises(ResolveError, match=r"covers other\."):
        _post(emulated)


def test_a_certificate_listed_for_the_sni_name_is_served(
    emulated: Emulated, front_door: FrontDoor, running: str
) -> None:
    """A default certificate for another name plus the right one in the listener's list: the right one is served."""
    elbv2 = emulated.aws("elbv2")
    other = _certificate(
        emulated.settings, emulated.region, emulated.zone_id, [f"other.{emulated.settings.dns.zone_name}"]
    )
    elbv2.modify_listener(ListenerArn=front_door.listener_arn, Certificates=[{"CertificateArn": other}])
    elbv2.add_listener_certificates(
        ListenerArn=front_door.listener_arn, Certificates=[{"CertificateArn": emulated.certificate_arn}]
    )
    assert _post(emulated)[0] == 201


def test_a_pending_certificate_is_refused(emulated: Emulated, front_door: FrontDoor) -> None:
    """Only an ISSUED certificate is served (https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html)."""
    acm = emulated.aws("acm")
    pending = acm.request_certificate(DomainName=entry_name(emulated.settings.dns), ValidationMethod="DNS")
    emulated.aws("elbv2").modify_listener(
        ListenerArn=front_door.listener_arn, Certificates=[{"CertificateArn": pending["CertificateArn"]}]
    )
    with pytest.raises(ResolveError, match="not ISSUED"):
        _post(emulated)


def test_no_https_listener_refuses_the_connection(emulated: Emulated, front_door: FrontDoor) -> None:
    """Without a listener on 443 nothing accepts the client's TLS connection."""
    emulated.aws("elbv2").delete_listener(ListenerArn=front_door.listener_arn)
    with pytest.raises(ResolveError, match="no listener on 443"):
        _post(emulated)


def test_a_fixed_response_is_the_load_balancers_answer(emulated: Emulated, front_door: FrontDoor) -> None:
    """A fixed-response action answers with its status, content type and body
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html)."""
    emulated.aws("elbv2").modify_listener(
        ListenerArn=front_door.listener_arn,
        DefaultActions=[
            {
                "Type": "fixed-response",
                "FixedResponseConfig": {"StatusCode": "418", "ContentType": "text/plain", "MessageBody": "teapot"},
            }
        ],
    )
    code, headers, body = _post(emulated)
    assert (code, headers["Content-Type"], body) == (418, "text/plain", "teapot")


def test_an_alias_to_an_unknown_load_balancer_is_refused(emulated: Emulated, front_door: FrontDoor) -> None:
    """A name the emulator has no load balancer for (deleted behind the records) is a resolve error, not a hop."""
    emulated.aws("elbv2").delete_load_balancer(LoadBalancerArn=front_door.balancer["LoadBalancerArn"])
    with pytest.raises(ResolveError, match="no load balancer"):
        _post(emulated)


def test_on_aws_the_last_hop_is_https_to_the_load_balancer_for_the_called_name(
    emulated: Emulated, front_door: FrontDoor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The aws target: the ALB terminates TLS itself, so the client connects to the alias's DNS name with SNI and
    Host = the name called (the certificate is verified against it), as to API Gateway (`over_https`)."""
    sent: list[tuple[str, str, str]] = []

    def over_https(host: str, address: str, request: Outgoing, **_: object) -> Answer:
        sent.append((host, address, request.headers["Host"]))
        return Answer(201, {}, "{}")

    monkeypatch.setattr(load_balancer, "runs_processor_stand_in", lambda _: False)
    monkeypatch.setattr(load_balancer.transport, "over_https", over_https)
    assert _post(emulated)[0] == 201
    name = entry_name(emulated.settings.dns)
    assert sent == [(name, front_door.balancer["DNSName"].lower(), name)]


# -- the deploy engine's steps ------------------------------------------------------------------------------------


class _Terraform:
    """Terraform's apply, without Terraform: records when it ran."""

    ran: ClassVar[list[str]] = []

    def __init__(self, stack: str, *_: object) -> None:
        self.stack = stack

    def apply(self, *, destroy: bool, **_: object) -> ChangeSummary:
        self.ran.append(f"terraform {'destroy' if destroy else 'apply'} {self.stack}")
        return ChangeSummary(add=1)


@pytest.fixture
def engine_without_terraform(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    ran: ClassVar[list[str]] = []
    monkeypatch.setattr(_Terraform, "ran", ran)
    monkeypatch.setattr(engine, "_before_stack", [])
    monkeypatch.setattr(engine, "StackTerraform", _Terraform)
    monkeypatch.setattr(engine.serials, "check_current", lambda *_: None)
    monkeypatch.setattr(engine, "_journal", lambda *_: None)
    monkeypatch.setattr(engine.store, "delete_record", lambda *_: None)
    monkeypatch.setattr(engine.store, "read_state", lambda *_: None)
    monkeypatch.setattr(engine, "update_outputs", lambda *_: None)
    return ran


def test_a_compute_apply_starts_the_stand_in_and_a_failed_start_fails_the_stack(
    engine_without_terraform: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """After compute-<role> applies in ec2 the engine starts the stand-in from the outputs it just wrote; when it
    cannot, the stack is FAILED with the reason (applied, but the local target would not serve it)."""
    settings = load_settings(environ={"PAYMENTS_DOTENV": "none"})
    ec2_outputs = {stand_in.RUNTIME_OUTPUT: "ec2", stand_in.LAUNCH_TEMPLATE_OUTPUT: "lt-0abc"}
    monkeypatch.setattr(engine, "_after_apply", lambda *_: ec2_outputs)
    started: list[tuple[str, str]] = []

    def start(_: Settings, region: str, template_id: str) -> str:
        started.append((region, template_id))
        return f"stand-in ({region}) started"

    monkeypatch.setattr(stand_in.processor, "start", start)
    result = engine._run_one(settings, "compute-secondary", destroy=False, force=True, out=engine.console)
    assert (result.result, started) == ("ok", [(settings.regions.secondary, "lt-0abc")])
    assert f"[compute-secondary] stand-in ({settings.regions.secondary}) started" in capsys.readouterr().out

    def refuse(*_: object) -> str:
        raise ToolError("payment server stand-in did not answer /health within 30s")

    monkeypatch.setattr(stand_in.processor, "start", refuse)
    result = engine._run_one(settings, "compute-secondary", destroy=False, force=True, out=engine.console)
    assert result.result == "FAILED"
    assert "==> compute-secondary: payment server stand-in did not answer /health" in capsys.readouterr().out


def test_a_compute_destroy_stops_the_stand_in_before_terraform(
    engine_without_terraform: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stand-in goes before the launch template it was started from."""
    settings = load_settings(environ={"PAYMENTS_DOTENV": "none"})
    monkeypatch.setattr(
        stand_in.processor, "stop", lambda _, region: engine_without_terraform.append(f"stop {region}") or "stopped"
    )
    result = engine._run_one(settings, "compute-primary", destroy=True, force=False, out=engine.console)
    assert result.result == "ok"
    assert engine_without_terraform == [f"stop {settings.regions.primary}", "terraform destroy compute-primary"]
