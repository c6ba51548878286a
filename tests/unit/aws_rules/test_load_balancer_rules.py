"""AWS rules the load balancer constructs must follow (aws/dev and aws/prod), each with the AWS doc it comes from."""

from __future__ import annotations

import json
from typing import Any

from shared.processor_runtime import HEALTH_PATH, PORT
from tests.support import Synth
from tests.unit.aws_rules.support import each
from tests.unit.load_balancer_stack import ALB_SECURITY_GROUP, CERTIFICATE_ARN, PUBLIC_SUBNETS, STACK


def _policy(synth: Synth) -> dict[str, Any]:
    (_, _, policy), *more = each(synth, "aws_s3_bucket_policy")
    assert not more
    document: dict[str, Any] = json.loads(policy["policy"])
    return document


def test_the_alb_is_internet_facing_in_the_public_subnets_and_drops_invalid_headers(load_balancer_aws: Synth) -> None:
    """AWS: Application Load Balancers, "Load balancer attributes": `routing.http.drop_invalid_header_fields.enabled`
    removes headers whose names do not match `[-A-Za-z0-9]+` (request smuggling through odd header names); an
    internet-facing scheme needs a subnet in at least two Availability Zones ("Subnets for your load balancer").

    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html
    """
    for _, _, alb in each(load_balancer_aws, "aws_lb"):
        assert alb["load_balancer_type"] == "application"
        assert alb["internal"] is False
        assert alb["drop_invalid_header_fields"] is True
        assert alb["subnets"] == list(PUBLIC_SUBNETS)
        assert len(alb["subnets"]) >= 2
        assert alb["security_groups"] == [ALB_SECURITY_GROUP]


def test_deletion_protection_follows_the_environment(load_balancer_aws: Synth) -> None:
    """AWS: "Deletion protection" attribute of an Application Load Balancer: on, the ALB cannot be deleted until it
    is turned off; prod keeps it (stacks.protection), dev destroys cleanly.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#deletion-protection
    """
    production = "payments-prod-" in next(iter(each(load_balancer_aws, "aws_lb")))[2]["name"]
    for _, _, alb in each(load_balancer_aws, "aws_lb"):
        assert alb["enable_deletion_protection"] is production
    for _, _, bucket in each(load_balancer_aws, "aws_s3_bucket"):
        assert bucket["force_destroy"] is (not production)


def test_access_logs_go_to_an_sse_s3_bucket_of_the_same_region(load_balancer_aws: Synth) -> None:
    """AWS: Enable access logs for your Application Load Balancer, step 1: "The only server-side encryption option
    that's supported is Amazon S3-managed keys (SSE-S3)"; the bucket is in the load balancer's Region (the stack's
    one provider).

    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
    """
    (_, _alb_name, alb), *_ = each(load_balancer_aws, "aws_lb")
    (_, bucket_name, _), *more = each(load_balancer_aws, "aws_s3_bucket")
    assert not more
    assert alb["access_logs"] == {"bucket": f"${{aws_s3_bucket.{bucket_name}.bucket}}", "enabled": True}
    for _, _, encryption in each(load_balancer_aws, "aws_s3_bucket_server_side_encryption_configuration"):
        (rule,) = encryption["rule"]
        assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "AES256"}
        assert encryption["bucket"] == f"${{aws_s3_bucket.{bucket_name}.id}}"
    assert alb["depends_on"] == [
        f"aws_s3_bucket_policy.{next(iter(each(load_balancer_aws, 'aws_s3_bucket_policy')))[1]}"
    ]


def test_log_delivery_may_write_only_this_accounts_prefix(load_balancer_aws: Synth) -> None:
    """AWS: Enable access logs for your Application Load Balancer, step 2 (bucket policy): the service principal
    `logdelivery.elasticloadbalancing.amazonaws.com` (Regions opened August 2022 or later, and every Region since
    September 2025 per the ELB document history) and, in Regions available before August 2022, the Region's Elastic
    Load Balancing account (`arn:aws:iam::<elb-account-id>:root`, `data aws_elb_service_account`), each allowed
    `s3:PutObject` on `<bucket>/[prefix/]AWSLogs/<your account id>/*` only.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
    https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/DocumentHistory.html
    """
    (_, bucket, _), *_ = each(load_balancer_aws, "aws_s3_bucket")
    statements = {s.get("Sid"): s for s in _policy(load_balancer_aws)["Statement"]}
    logs = f"${{aws_s3_bucket.{bucket}.arn}}/AWSLogs/${{data.aws_caller_identity.caller.account_id}}/*"
    service = statements["LogDeliveryWrite"]
    assert service == {
        "Sid": "LogDeliveryWrite",
        "Effect": "Allow",
        "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
        "Action": ["s3:PutObject"],
        "Resource": [logs],
    }
    (account_source,) = load_balancer_aws[STACK]["data"]["aws_elb_service_account"]
    account = statements["ElbAccountWrite"]
    assert account["Principal"] == {"AWS": f"${{data.aws_elb_service_account.{account_source}.arn}}"}
    assert (account["Effect"], account["Action"], account["Resource"]) == ("Allow", ["s3:PutObject"], [logs])
    assert len(statements) == 3  # the two writers and the TLS-only deny: nobody else is allowed anything


def test_the_log_bucket_refuses_plain_http(load_balancer_aws: Synth) -> None:
    """AWS: S3 security best practices, "Enforce encryption of data in transit": deny any request with
    `aws:SecureTransport` false (Security Hub S3.5).

    https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html
    """
    (_, bucket, _), *_ = each(load_balancer_aws, "aws_s3_bucket")
    deny = next(s for s in _policy(load_balancer_aws)["Statement"] if s["Effect"] == "Deny")
    assert deny["Action"] == ["s3:*"]
    assert deny["Principal"] == {"AWS": "*"}
    assert deny["Resource"] == [f"${{aws_s3_bucket.{bucket}.arn}}", f"${{aws_s3_bucket.{bucket}.arn}}/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_log_bucket_is_private_versioned_and_expires_logs(load_balancer_aws: Synth) -> None:
    """AWS: S3 "Blocking public access to your Amazon S3 storage" (all four settings on), "Controlling ownership of
    objects" (BucketOwnerEnforced: ACLs off), and S3 lifecycle: expire current objects and noncurrent versions, abort
    incomplete multipart uploads.

    https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lifecycle-mgmt.html
    """
    for _, _, block in each(load_balancer_aws, "aws_s3_bucket_public_access_block"):
        flags = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
        assert all(block[flag] is True for flag in flags)
    for _, _, ownership in each(load_balancer_aws, "aws_s3_bucket_ownership_controls"):
        assert ownership["rule"] == {"object_ownership": "BucketOwnerEnforced"}
    for _, _, versioning in each(load_balancer_aws, "aws_s3_bucket_versioning"):
        assert versioning["versioning_configuration"] == {"status": "Enabled"}
    for _, _, lifecycle in each(load_balancer_aws, "aws_s3_bucket_lifecycle_configuration"):
        (rule,) = lifecycle["rule"]
        assert rule["status"] == "Enabled"
        assert rule["expiration"][0]["days"] >= 1
        assert rule["noncurrent_version_expiration"][0]["noncurrent_days"] >= 1
        assert rule["abort_incomplete_multipart_upload"][0]["days_after_initiation"] >= 1


def test_the_target_group_checks_the_health_route_on_the_service_port(load_balancer_aws: Synth) -> None:
    """AWS: "Health checks for Application Load Balancer target groups": HTTP on the traffic port, path
    HEALTH_PATH, success code 200; "Deregistration delay" 30 s (default 300) so an instance refresh drains fast.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html
    """
    for _, _, group in each(load_balancer_aws, "aws_lb_target_group"):
        assert (group["protocol"], group["port"], group["target_type"]) == ("HTTP", PORT, "instance")
        assert group["deregistration_delay"] == "30"
        check = group["health_check"]
        assert (check["enabled"], check["protocol"], check["port"]) == (True, "HTTP", "traffic-port")
        assert (check["path"], check["matcher"]) == (HEALTH_PATH, "200")
        assert len(group["name"]) <= 32  # AWS: CreateTargetGroup, Name: at most 32 characters


def test_http_only_redirects_to_https_and_https_uses_tls13_policy(load_balancer_aws: Synth) -> None:
    """AWS: "Create an HTTP listener" redirect actions (`HTTP_301`, protocol HTTPS, port 443), and "Security
    policies for your Application Load Balancer": ELBSecurityPolicy-TLS13-1-2-2021-06 (TLS 1.3 and 1.2 only),
    the HTTPS listener's certificate from ACM, default action forward to the target group.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
    """
    listeners = {config["port"]: config for _, _, config in each(load_balancer_aws, "aws_lb_listener", at_least=2)}
    (_, group, _), *_ = each(load_balancer_aws, "aws_lb_target_group")
    http = listeners[80]
    assert http["protocol"] == "HTTP"
    assert http["default_action"] == [
        {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}}
    ]
    https = listeners[443]
    assert (https["protocol"], https["ssl_policy"]) == ("HTTPS", "ELBSecurityPolicy-TLS13-1-2-2021-06")
    assert https["certificate_arn"] == CERTIFICATE_ARN
    assert https["default_action"] == [{"type": "forward", "target_group_arn": f"${{aws_lb_target_group.{group}.arn}}"}]


def test_the_records_alias_the_alb_by_its_name_and_canonical_zone(load_balancer_aws: Synth) -> None:
    """AWS: Route 53 "Routing traffic to an ELB load balancer": an alias A record whose target is the load
    balancer's DNS name and its canonical hosted zone id (`aws_lb.dns_name`, `aws_lb.zone_id`).

    https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-to-elb-load-balancer.html
    """
    (_, alb, _), *_ = each(load_balancer_aws, "aws_lb")
    for _, _, record in each(load_balancer_aws, "aws_route53_record"):
        assert record["type"] == "A"
        assert record["alias"] == {
            "name": f"${{aws_lb.{alb}.dns_name}}",
            "zone_id": f"${{aws_lb.{alb}.zone_id}}",
            "evaluate_target_health": False,
        }
