"""AWS rules for the ec2 runtime's fleet (compute.runtime = "ec2"): instance metadata, volumes, access, the security
group graph, health checks and the key policy, over aws/dev and aws/prod."""

from __future__ import annotations

import json

import pytest

from shared.processor_runtime import PORT
from stacks.compute.ec2.instance_profile import SESSION_MANAGER_ACTIONS
from tests.support import Synth
from tests.unit.aws_rules.support import each

REGIONS = 2  # one fleet per compute stack
ACCOUNT = "${data.aws_caller_identity.caller.account_id}"  # the deploying account (the provider allows only it)


@pytest.fixture(params=["ec2_aws_dev", "ec2_aws_prod"])
def fleet(request: pytest.FixtureRequest) -> Synth:
    synth: Synth = request.getfixturevalue(request.param)
    return synth


def test_instances_require_imdsv2_and_keep_its_token_on_the_instance(fleet: Synth) -> None:
    """With HttpTokens `required` IMDSv1 is off, so a server-side request forgery cannot read the role's credentials
    with a plain GET; a PUT response hop limit of 1 keeps the session token from travelling past the instance (a
    container or a forwarded hop cannot get one).
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LaunchTemplateInstanceMetadataOptionsRequest.html
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-ec2-launchtemplate-metadataoptions.html"""
    for _, _, template in each(fleet, "aws_launch_template", at_least=REGIONS):
        options = template["metadata_options"]
        assert options["http_tokens"] == "required"
        assert options["http_put_response_hop_limit"] == 1
        assert options["http_endpoint"] == "enabled"


def test_root_volumes_are_encrypted_with_the_region_key_whose_policy_admits_auto_scaling(fleet: Synth) -> None:
    """Auto Scaling launches instances through its service-linked role, which cannot use a customer managed key
    unless the key policy allows it the key's use and `kms:CreateGrant` for AWS resources; without both statements
    every launch of an encrypted volume fails.
    https://docs.aws.amazon.com/autoscaling/ec2/userguide/key-policy-requirements-EBS-encryption.html"""
    templates = each(fleet, "aws_launch_template", at_least=REGIONS)
    for stack, _, template in templates:
        [device] = template["block_device_mappings"]
        assert device["ebs"]["encrypted"] == "true"
        assert f"input-data-{stack.removeprefix('compute-')}" in device["ebs"]["kms_key_id"]
    keys = each(fleet, "aws_kms_key", at_least=REGIONS, where=lambda k: "S3ReplicationRoleUsesKey" in k["policy"])
    for _, _, key in keys:
        sids = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}
        role = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
        for sid in ("AutoScalingUsesKeyForVolumes", "AutoScalingGrantsKeyToVolumes"):
            principal = sids[sid]["Condition"]["ArnEquals"]["aws:PrincipalArn"]
            assert principal == f"arn:${{data.aws_partition.partition.partition}}:iam::{ACCOUNT}:{role}"
        assert {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"} <= set(
            sids["AutoScalingUsesKeyForVolumes"]["Action"]
        )
        assert sids["AutoScalingGrantsKeyToVolumes"]["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}


def test_no_ssh_key_and_session_manager_instead(fleet: Synth) -> None:
    """No key pair and no open SSH port: operators reach an instance through Session Manager, whose agent needs
    `ssm:UpdateInstanceInformation` and the four `ssmmessages` channel actions (Resource "*"), as AWS's minimal
    instance profile for Session Manager lists them.
    https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-create-iam-instance-profile.html"""
    for _, _, template in each(fleet, "aws_launch_template", at_least=REGIONS):
        assert "key_name" not in template
    rules = each(fleet, "aws_security_group_rule", at_least=8)
    assert not [r for _, _, r in rules if r["type"] == "ingress" and r["from_port"] <= 22 <= r["to_port"]]
    profiles = each(fleet, "aws_iam_role_policy", at_least=REGIONS, where=lambda p: "SessionManager" in p["policy"])
    for _, _, policy in profiles:
        [statement] = [s for s in json.loads(policy["policy"])["Statement"] if s["Sid"] == "SessionManager"]
        assert statement["Action"] == list(SESSION_MANAGER_ACTIONS)
        assert statement["Resource"] == ["*"]


def test_instances_accept_traffic_only_from_the_load_balancer_group(fleet: Synth) -> None:
    """To make targets receive traffic exclusively from the load balancer, their security group admits only the
    load balancer's group (on the traffic port, which is also the health check port); the load balancer's group
    reaches the targets on that port only.
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-update-security-groups.html"""
    groups = each(fleet, "aws_security_group", at_least=2 * REGIONS, where=lambda g: g["name"].endswith(("-alb",
                  "-instances")))  # fmt: skip
    for stack, _, _ in groups:
        ids = {g["name"].rsplit("-", 1)[1]: f"${{aws_security_group.{key}.id}}"
               for key, g in fleet.resources(stack, "aws_security_group").items()}  # fmt: skip
        rules = fleet.resources(stack, "aws_security_group_rule").values()
        into_instances = [r for r in rules if r["security_group_id"] == ids["instances"] and r["type"] == "ingress"]
        assert [(r["from_port"], r["source_security_group_id"]) for r in into_instances] == [(PORT, ids["alb"])]
        out_of_alb = [r for r in rules if r["security_group_id"] == ids["alb"] and r["type"] == "egress"]
        assert [(r["from_port"], r["source_security_group_id"]) for r in out_of_alb] == [(PORT, ids["instances"])]
        into_alb = sorted(
            r["from_port"] for r in rules if r["security_group_id"] == ids["alb"] and r["type"] == "ingress"
        )
        assert into_alb == [80, 443]


def test_the_group_replaces_instances_the_load_balancer_finds_unhealthy_after_a_grace_period(
    fleet: Synth,
) -> None:
    """With health check type ELB, Auto Scaling also replaces an instance that fails the target group's health
    check (not only EC2 status checks); the grace period keeps a booting instance from being replaced before its
    service answers. Instances are spread over the private subnets of every zone.
    https://docs.aws.amazon.com/autoscaling/ec2/userguide/health-check-grace-period.html
    https://docs.aws.amazon.com/amazonq/detector-library/cloudformation/checkov-custom-autoscaling-group-elb"""
    for _, _, group in each(fleet, "aws_autoscaling_group", at_least=REGIONS):
        assert group["health_check_type"] == "ELB"
        assert group["health_check_grace_period"] > 0
        assert len(group["vpc_zone_identifier"]) >= 2
        assert group["min_size"] >= 1


def test_the_instance_role_trusts_only_ec2_and_denies_destructive_actions(fleet: Synth) -> None:
    """An instance profile's role is assumed by EC2 for the instances it is passed to (`iam:PassRole` in this
    account only); its policy keeps the same explicit Deny the functions carry, which no Allow can override.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2_instance-profiles.html
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"""
    roles = each(fleet, "aws_iam_role", at_least=REGIONS, where=lambda r: r["name"].endswith("-processor"))
    for _, _, role in roles:
        [statement] = json.loads(role["assume_role_policy"])["Statement"]
        assert statement["Principal"] == {"Service": "ec2.amazonaws.com"}
    policies = each(fleet, "aws_iam_role_policy", at_least=REGIONS, where=lambda p: "SessionManager" in p["policy"])
    for _, _, policy in policies:
        statements = json.loads(policy["policy"])["Statement"]
        assert statements[-1]["Effect"] == "Deny"
        assert statements[-1]["Resource"] == ["*"]
