"""compute.runtime = "ec2": the fleet's network, artifact, launch template, instance profile and Auto Scaling group,
read property by property from the synthesized JSON of both targets; and the lambda runtime left as it was."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from config import ConfigError, Settings, load_settings
from shared.api_names import API_BASE_PATH
from shared.local_target import LOCAL_ENDPOINT_SERVICES
from shared.processor_runtime import ENVIRONMENT_FILE, HEREDOC_START, PORT, environment_from_user_data
from stacks.compute.ec2 import artifact
from stacks.compute.ec2.fleet import GROUP_METRICS
from stacks.compute.ec2.instance_profile import SESSION_MANAGER_ACTIONS
from stacks.compute.ec2.launch_template import AMI_PARAMETER
from stacks.compute.lambda_function import DESTRUCTIVE_ACTIONS
from stacks.compute.packaging import write_zip
from tests.support import Synth
from tests.unit.ec2_synth import synth_ec2

ROLES = ("primary", "secondary")
TARGETS = ["ec2_local", "ec2_aws_dev"]


@pytest.fixture(params=TARGETS)
def ec2(request: pytest.FixtureRequest) -> Synth:
    synth: Synth = request.getfixturevalue(request.param)
    return synth


def is_local_synth(synth: Synth) -> bool:
    """The local target's providers point every endpoint at the emulator."""
    return "endpoints" in synth["compute-primary"]["provider"]["aws"][0]


def script_of(user_data: str) -> str:
    """The user data script, its references written `${...}`: the synthesized `base64encode(join("", [...]))`."""
    match = re.fullmatch(r'\$\{base64encode\(join\("", \[(.*)\]\)\)\}', user_data, re.S)
    assert match, user_data[:200]
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"|([A-Za-z_][\w.\-]*)', match[1])
    return "".join(json.loads(f'"{literal}"') if literal or not ref else f"${{{ref}}}" for literal, ref in parts)


def settings_with(**overrides: str) -> Settings:
    return load_settings(environ={"PAYMENTS_DOTENV": "none", **overrides})


# -- config --------------------------------------------------------------------------------------------------


def test_defaults_are_lambda_and_a_fleet_of_2_to_6() -> None:
    compute = settings_with().compute
    assert (compute.runtime, compute.instance_type) == ("lambda", "t3.medium")
    assert (compute.fleet_min, compute.fleet_desired, compute.fleet_max) == (2, 2, 6)
    assert (compute.fleet_cpu_target_percent, compute.instance_refresh_min_healthy_percent) == (50, 90)
    assert (compute.health_check_grace_seconds, compute.target_p99_response_ms) == (300, 1000)


@pytest.mark.parametrize(
    ("overrides", "first_words"),
    [
        ({"PAYMENTS_COMPUTE_RUNTIME": "fargate"}, "compute.runtime='fargate' is invalid: use one of lambda, ec2"),
        ({"PAYMENTS_COMPUTE_FLEET_MIN": "0"}, "compute.fleet_min=0 is invalid: use a whole number from 1 to 100"),
        ({"PAYMENTS_COMPUTE_FLEET_MAX": "101"}, "compute.fleet_max=101 is invalid"),
        ({"PAYMENTS_COMPUTE_FLEET_MIN": "5", "PAYMENTS_COMPUTE_FLEET_MAX": "4"}, "compute.fleet_min=5 exceeds"),
        ({"PAYMENTS_COMPUTE_FLEET_DESIRED": "7"}, "compute.fleet_desired=7 is outside compute.fleet_min=2"),
        ({"PAYMENTS_COMPUTE_FLEET_CPU_TARGET_PERCENT": "95"}, "compute.fleet_cpu_target_percent=95 is invalid"),
        ({"PAYMENTS_COMPUTE_INSTANCE_REFRESH_MIN_HEALTHY_PERCENT": "101"}, "compute.instance_refresh_min_healthy"),
        ({"PAYMENTS_COMPUTE_INSTANCE_TYPE": "big"}, "compute.instance_type='big' is invalid: use an EC2 instance"),
    ],
)
def test_bad_fleet_settings_get_one_line_naming_the_field_and_the_fix(
    overrides: dict[str, str], first_words: str
) -> None:
    with pytest.raises(ConfigError) as error:
        settings_with(**overrides)
    [line] = error.value.lines
    assert line.startswith(first_words), line
    assert "set PAYMENTS_COMPUTE_" in line
    assert "config/environments/dev.toml" in line


# -- the lambda runtime builds none of it ----------------------------------------------------------------------


def test_lambda_runtime_has_no_fleet_groups_no_fleet_and_no_autoscaling_key_statements(local_dev: Synth) -> None:
    groups = [
        g["name"] for role in ROLES for g in local_dev.resources(f"network-{role}", "aws_security_group").values()
    ]
    assert sorted(groups) == sorted(f"payments-dev-{role}-{name}" for role in ROLES for name in ("lambda", "database"))
    kinds = {kind for _, kind, _, _ in local_dev.all_resources()}
    assert not kinds & {"aws_launch_template", "aws_autoscaling_group", "aws_iam_instance_profile", "aws_s3_object"}
    for role in ROLES:
        assert "runtime" not in local_dev.outputs(f"compute-{role}")
        key = local_dev.resource(f"data-{role}", "aws_kms_key")
        assert "AutoScaling" not in key["policy"]


# -- network ---------------------------------------------------------------------------------------------------


def rules_of(synth: Synth, stack: str) -> dict[str, dict[str, Any]]:
    rules = synth.resources(stack, "aws_security_group_rule")
    assert rules, f"count guard: {stack} has no security group rules"
    return rules


@pytest.mark.parametrize("role", ROLES)
def test_security_group_graph_alb_to_instances_to_database(ec2: Synth, role: str) -> None:
    stack = f"network-{role}"
    groups = ec2.resources(stack, "aws_security_group")
    ids = {config["name"].removeprefix(f"payments-dev-{role}-"): f"${{aws_security_group.{key}.id}}"
           for key, config in groups.items()}  # fmt: skip
    assert sorted(ids) == ["alb", "database", "instances", "lambda"]
    rules = rules_of(ec2, stack)

    def rule(group: str, direction: str) -> list[tuple[int, object]]:
        found = [r for r in rules.values() if r["security_group_id"] == ids[group] and r["type"] == direction]
        assert all(r["protocol"] == "tcp" and r["from_port"] == r["to_port"] for r in found)
        return sorted(
            ((r["from_port"], r.get("source_security_group_id") or [*r.get("cidr_blocks", []),
              *r.get("ipv6_cidr_blocks", [])]) for r in found),
            key=str,
        )  # fmt: skip

    anywhere = ["0.0.0.0/0", "::/0"]
    assert rule("alb", "ingress") == [(443, anywhere), (80, anywhere)]
    assert rule("alb", "egress") == [(PORT, ids["instances"])]
    assert rule("instances", "ingress") == [(PORT, ids["alb"])]
    peer_isolated = [r for r in rule("instances", "egress") if isinstance(r[1], list) and r[1] != ["0.0.0.0/0"]]
    assert [port for port, _ in peer_isolated] == [5432]
    assert len(peer_isolated[0][1]) >= 2
    assert (443, ["0.0.0.0/0"]) in rule("instances", "egress")
    assert (5432, ids["database"]) in rule("instances", "egress")
    assert (5432, ids["instances"]) in rule("database", "ingress")
    outputs = ec2.outputs(stack)
    assert outputs["alb_security_group_id"]["value"] == ids["alb"]
    assert outputs["instance_security_group_id"]["value"] == ids["instances"]


# -- compute: what the runtime switch removes and keeps ------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_ec2_builds_no_api_and_no_api_functions_but_keeps_the_background_functions(ec2: Synth, role: str) -> None:
    stack = f"compute-{role}"
    assert not [kind for s, kind, _, _ in ec2.all_resources() if s == stack and kind.startswith("aws_api_gateway")]
    functions = sorted(f["function_name"] for f in ec2.resources(stack, "aws_lambda_function").values())
    expected = ["ledger-admin", "payment-retry"] + (["region-alarms"] if role == "primary" else [])
    assert functions == sorted(f"payments-dev-{role}-{name}" for name in expected)
    outputs = ec2.outputs(stack)
    assert outputs["runtime"]["value"] == "ec2"
    assert outputs["api_key_secret_name"]["value"] == "payments-dev-api-key"
    for name in ("launch_template_id", "autoscaling_group_name", "artifacts_bucket", "retry_function_name"):
        assert outputs[name]["value"], name
    for gone in ("api_endpoint", "api_id", "payment_function_name", "health_function_name"):
        assert gone not in outputs
    alarms = [a["alarm_name"] for a in ec2.resources(stack, "aws_cloudwatch_metric_alarm").values()]
    assert f"payments-dev-{role}-payment-retry-errors" in alarms
    assert not [a for a in alarms if "payment-processor" in a or "-health-" in a or "api-" in a]


@pytest.mark.parametrize("role", ["primary", "secondary"])
def test_dns_serves_https_on_the_load_balancer_and_aliases_it(ec2: Synth, role: str) -> None:
    """In ec2 the DNS stack (which holds the certificate) adds the :443 listener on compute's load balancer,
    forwarding to the fleet's target group, and both the origin name and the region's leg alias the load balancer;
    no API Gateway custom domain is built."""
    stack = f"dns-{role}"
    assert ec2.resources(stack, "aws_api_gateway_domain_name") == {}
    [listener] = ec2.resources(stack, "aws_lb_listener").values()
    assert listener["port"] == 443
    assert listener["protocol"] == "HTTPS"
    assert listener["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert "aws_acm_certificate_validation" in listener["certificate_arn"]
    assert listener["load_balancer_arn"].startswith(
        f"${{data.terraform_remote_state.cross-stack-reference-input-compute-{role}"
    )
    assert listener["default_action"][0]["type"] == "forward"
    assert "compute-" + role in listener["default_action"][0]["target_group_arn"]
    aliases = [r["alias"] for r in ec2.resources(stack, "aws_route53_record").values() if r.get("alias")]
    to_load_balancer = [a for a in aliases if "compute-" + role in a["name"]]
    assert to_load_balancer, aliases  # the origin record (and the leg halves of this region) alias the ALB
    assert all(a["zone_id"] != "" for a in to_load_balancer)


# -- artifact ------------------------------------------------------------------------------------------------------


def test_the_artifact_is_the_payment_code_and_driver_and_zips_to_the_same_bytes(tmp_path: Path) -> None:
    content = artifact.artifact_files()
    files = {path.as_posix() for path in content}
    assert "lambda_src/__init__.py" in files  # `python -m lambda_src.payment_server` from the install directory
    assert "lambda_src/payment_server/__main__.py" in files
    for package in ("payment_processor", "health", "ledger", "common"):
        assert f"lambda_src/{package}/__init__.py" in files
    # The ledger's driver, and the AWS SDK Amazon Linux 2023's Python lacks (Lambda's runtime brings its own).
    for top in ("pg8000", "boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3"):
        assert f"{top}/__init__.py" in files, top
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    assert write_zip(content, first) == write_zip(content, second)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as zipped:
        assert {info.date_time for info in zipped.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        assert not [n for n in zipped.namelist() if "__pycache__" in n or n.endswith(".pyc")]


@pytest.mark.parametrize("role", ROLES)
def test_artifact_object_is_in_the_regions_encrypted_versioned_private_bucket(ec2: Synth, role: str) -> None:
    stack = f"compute-{role}"
    obj = ec2.resource(stack, "aws_s3_object")
    assert re.fullmatch(r"processor/processor-[0-9a-f]{16}\.zip", obj["key"])
    assert re.fullmatch(r"[0-9a-f]{64}", obj["source_hash"])
    assert obj["source"].endswith(".zip")
    buckets = ec2.resources(stack, "aws_s3_bucket")
    [bucket_key] = [key for key in buckets if obj["bucket"] == f"${{aws_s3_bucket.{key}.bucket}}"]
    bucket = buckets[bucket_key]
    assert bucket["bucket"].startswith("payments-dev-code-")
    ref = f"${{aws_s3_bucket.{bucket_key}.id}}"
    [sse] = [
        r
        for r in ec2.resources(stack, "aws_s3_bucket_server_side_encryption_configuration").values()
        if r["bucket"] == ref
    ]
    default = sse["rule"][0]["apply_server_side_encryption_by_default"]
    assert sse["bucket"] == ref
    assert default["sse_algorithm"] == "aws:kms"
    assert "kms_key_id" not in default
    assert default["kms_master_key_id"].endswith("arn}")
    assert sse["rule"][0]["bucket_key_enabled"] is True
    [versioning] = [r for r in ec2.resources(stack, "aws_s3_bucket_versioning").values() if r["bucket"] == ref]
    assert versioning["versioning_configuration"]["status"] == "Enabled"
    [block] = [r for r in ec2.resources(stack, "aws_s3_bucket_public_access_block").values() if r["bucket"] == ref]
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                          "restrict_public_buckets"))  # fmt: skip
    policies = [r for r in ec2.resources(stack, "aws_s3_bucket_policy").values() if r["bucket"] == ref]
    if is_local_synth(ec2):
        assert policies == []  # gap s3-tls-only-policy
    else:
        [policy] = policies
        statement = json.loads(policy["policy"])["Statement"][0]
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    [lifecycle] = [
        r for r in ec2.resources(stack, "aws_s3_bucket_lifecycle_configuration").values() if r["bucket"] == ref
    ]
    assert lifecycle["rule"][0]["noncurrent_version_expiration"][0]["noncurrent_days"] >= 1


# -- launch template -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_launch_template_imdsv2_encrypted_gp3_no_ssh_monitored(ec2: Synth, role: str) -> None:
    stack = f"compute-{role}"
    lt = ec2.resource(stack, "aws_launch_template")
    assert lt["metadata_options"] == {
        "http_endpoint": "enabled",
        "http_tokens": "required",
        "http_put_response_hop_limit": 1,
    }
    [device] = lt["block_device_mappings"]
    assert device["device_name"] == "/dev/xvda"
    assert device["ebs"]["volume_type"] == "gp3"
    assert device["ebs"]["encrypted"] == "true"
    data_outputs = f"data.terraform_remote_state.cross-stack-reference-input-data-{role}.outputs"
    region_key = f"${{{data_outputs}.cross-stack-output-aws_kms_keykey_F64E54E4arn}}"
    assert device["ebs"]["kms_key_id"] == region_key  # the region key, from the data stack
    assert "key_name" not in lt
    assert lt["monitoring"] == {"enabled": True}
    assert lt["instance_type"] == "t3.medium"
    assert lt["update_default_version"] is True
    [(ami_key, ami)] = ec2.data_sources(stack, "aws_ssm_parameter").items()
    assert ami["name"] == AMI_PARAMETER
    assert lt["image_id"] == f"${{data.aws_ssm_parameter.{ami_key}.value}}"
    [(profile_key, _)] = ec2.resources(stack, "aws_iam_instance_profile").items()
    assert lt["iam_instance_profile"] == {"arn": f"${{aws_iam_instance_profile.{profile_key}.arn}}"}
    assert len(lt["vpc_security_group_ids"]) == 1
    assert "instances" in lt["vpc_security_group_ids"][0]
    assert sorted(spec["resource_type"] for spec in lt["tag_specifications"]) == ["instance", "volume"]
    for spec in lt["tag_specifications"]:
        assert spec["tags"]["Name"] == f"payments-dev-{role}-processor"
        assert spec["tags"]["Project"] == "payments"


@pytest.mark.parametrize("role", ROLES)
def test_user_data_writes_the_payment_environment_and_names_the_artifact(ec2: Synth, role: str) -> None:
    stack = f"compute-{role}"
    script = script_of(ec2.resource(stack, "aws_launch_template")["user_data"])
    obj = ec2.resource(stack, "aws_s3_object")
    assert f"/{obj['key']} /tmp/processor.zip" in script
    assert "aws s3 cp --region " in script
    assert HEREDOC_START in script
    assert f"EnvironmentFile={ENVIRONMENT_FILE}" in script
    env = environment_from_user_data(script)
    [processor_env] = [  # what payment-retry (the same runtime) reads, plus the API function's own additions
        f["environment"]["variables"] for f in ec2.resources(stack, "aws_lambda_function").values()
        if f["function_name"].endswith("payment-retry")
    ]  # fmt: skip
    assert {k: v for k, v in env.items() if k in processor_env} == processor_env
    assert env["API_KEY_SECRET_NAME"] == "payments-dev-api-key"
    assert env["API_BASE_PATH"] == API_BASE_PATH
    assert env["PROCESSOR_PORT"] == str(PORT)
    assert env["AWS_REGION"] == env["REGION"]
    assert env["REGION_ROLE"] == role
    assert "WRITE_HOME_PARAMETER" in env
    assert not [k for k in env if "PASSWORD" in k or k.endswith("_VALUE")]
    for hardening in ("DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict", "Restart=always"):
        assert hardening in script
    assert script.startswith("#!/bin/bash\nset -euo pipefail\n")


# -- instance profile ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_instance_role_has_the_api_functions_grants_the_deny_and_session_manager(ec2: Synth, role: str) -> None:
    stack = f"compute-{role}"
    [(role_key, instance_role)] = [
        (k, r) for k, r in ec2.resources(stack, "aws_iam_role").items() if r["name"].endswith("-processor")
    ]
    trust = json.loads(instance_role["assume_role_policy"])["Statement"]
    assert trust == [{"Effect": "Allow", "Action": ["sts:AssumeRole"], "Principal": {"Service": "ec2.amazonaws.com"}}]
    [policy] = [p for p in ec2.resources(stack, "aws_iam_role_policy").values()
                if p["role"] == f"${{aws_iam_role.{role_key}.id}}"]  # fmt: skip
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    for sid in (
        "PaymentItems",
        "ListCustomerPayments",
        "WriteAuditRecords",
        "PublishPaymentEvents",
        "QueueFailedSteps",
        "ReadWriteHome",
        "ConnectToLedgerAsWriter",
        "DescribeTable",
        "HeadAuditBucket",
    ):
        assert statements[sid]["Effect"] == "Allow", sid  # fmt: skip
    assert statements["DenyDestructiveActions"] == {
        "Effect": "Deny", "Action": list(DESTRUCTIVE_ACTIONS), "Sid": "DenyDestructiveActions", "Resource": ["*"],
    }  # fmt: skip
    assert statements["ReadArtifact"]["Action"] == ["s3:GetObject"]
    assert statements["ReadArtifact"]["Resource"][0].endswith(".arn}/processor/*")
    assert statements["ReadApiKeys"]["Action"] == ["secretsmanager:GetSecretValue"]
    assert statements["ReadApiKeys"]["Resource"][0].endswith(":secret:payments-dev-api-key-??????")
    assert statements["SessionManager"]["Action"] == list(SESSION_MANAGER_ACTIONS)
    [profile] = ec2.resources(stack, "aws_iam_instance_profile").values()
    assert profile["role"] == f"${{aws_iam_role.{role_key}.name}}"


# -- fleet ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_fleet_scaling_refresh_health_and_tags(ec2: Synth, role: str) -> None:
    stack = f"compute-{role}"
    group = ec2.resource(stack, "aws_autoscaling_group")
    [(lt_key, _)] = ec2.resources(stack, "aws_launch_template").items()
    assert group["launch_template"] == {
        "id": f"${{aws_launch_template.{lt_key}.id}}",
        "version": f"${{aws_launch_template.{lt_key}.latest_version}}",
    }
    assert (group["min_size"], group["desired_capacity"], group["max_size"]) == (2, 2, 6)
    assert group["health_check_type"] == "ELB"
    assert group["health_check_grace_period"] == 300
    if is_local_synth(ec2):
        assert "instance_refresh" not in group  # gap autoscaling-instance-refresh
    else:
        assert group["instance_refresh"] == {"strategy": "Rolling", "preferences": {"min_healthy_percentage": 90}}
    assert group["enabled_metrics"] == list(GROUP_METRICS)
    assert group["metrics_granularity"] == "1Minute"
    assert group["lifecycle"] == {"ignore_changes": ["desired_capacity"]}
    assert len(group["vpc_zone_identifier"]) == 2
    assert all("private" in s for s in group["vpc_zone_identifier"])
    [target_group] = ec2.resources(stack, "aws_lb_target_group")
    assert group["target_group_arns"] == [f"${{aws_lb_target_group.{target_group}.arn}}"]
    assert group["depends_on"] == ["aws_s3_object.artifact"]
    tags = {t["key"]: t for t in group["tag"]}
    assert all(t["propagate_at_launch"] is True for t in tags.values())
    assert tags["Name"]["value"] == f"payments-dev-{role}-processor"
    for key in ("Project", "Environment", "Region", "ManagedBy", "CostCenter", "Owner"):
        assert key in tags, key
    [policy] = ec2.resources(stack, "aws_autoscaling_policy").values()
    assert policy["policy_type"] == "TargetTrackingScaling"
    tracking = policy["target_tracking_configuration"]
    assert tracking["predefined_metric_specification"] == {"predefined_metric_type": "ASGAverageCPUUtilization"}
    assert tracking["target_value"] == 50
    ignored = policy.get("lifecycle", {}).get("ignore_changes")
    local = is_local_synth(ec2)
    assert ignored == (["enabled", "predictive_scaling_configuration"] if local else None)


def test_fleet_settings_flow_into_the_group(tmp_path: Path) -> None:
    synth = synth_ec2(
        tmp_path / "cdktf.out",
        PAYMENTS_TARGET="aws",
        PAYMENTS_AWS_ACCOUNT_ID="111122223333",
        PAYMENTS_DNS_ZONE_NAME="payments.acme-payments.com",
        PAYMENTS_COMPUTE_FLEET_MIN="3",
        PAYMENTS_COMPUTE_FLEET_DESIRED="4",
        PAYMENTS_COMPUTE_FLEET_MAX="9",
        PAYMENTS_COMPUTE_FLEET_CPU_TARGET_PERCENT="65",
        PAYMENTS_COMPUTE_INSTANCE_REFRESH_MIN_HEALTHY_PERCENT="75",
        PAYMENTS_COMPUTE_HEALTH_CHECK_GRACE_SECONDS="120",
        PAYMENTS_COMPUTE_INSTANCE_TYPE="m7i.large",
    )
    group = synth.resource("compute-primary", "aws_autoscaling_group")
    assert (group["min_size"], group["desired_capacity"], group["max_size"]) == (3, 4, 9)
    assert group["health_check_grace_period"] == 120
    assert group["instance_refresh"]["preferences"]["min_healthy_percentage"] == 75
    [policy] = synth.resources("compute-primary", "aws_autoscaling_policy").values()
    assert policy["target_tracking_configuration"]["target_value"] == 65
    assert synth.resource("compute-primary", "aws_launch_template")["instance_type"] == "m7i.large"


# -- key, emulator -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_region_key_lets_the_autoscaling_service_role_encrypt_volumes(ec2: Synth, role: str) -> None:
    key = ec2.resource(f"data-{role}", "aws_kms_key")
    statements = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}
    use, grant = statements["AutoScalingUsesKeyForVolumes"], statements["AutoScalingGrantsKeyToVolumes"]
    for statement in (use, grant):
        principal_arn = statement["Condition"]["ArnEquals"]["aws:PrincipalArn"]
        assert principal_arn.endswith(":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling")
    assert use["Action"] == ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    assert grant["Action"] == ["kms:CreateGrant"]
    assert grant["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}


def test_every_ec2_resource_type_has_an_emulator_endpoint(ec2_local: Synth) -> None:
    service_of = {"aws_launch_template": "ec2", "aws_autoscaling": "autoscaling", "aws_iam": "iam", "aws_s3": "s3"}
    found = [kind for _, kind, _, _ in ec2_local.all_resources() if kind.startswith(tuple(service_of))]
    assert len(found) >= 8, "count guard"
    for kind in found:
        prefix = max((p for p in service_of if kind.startswith(p)), key=len)
        assert service_of[prefix] in LOCAL_ENDPOINT_SERVICES, kind
    [provider] = ec2_local["compute-primary"]["provider"]["aws"]
    assert {"autoscaling", "elbv2"} <= set(provider["endpoints"][0])
