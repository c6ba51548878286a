"""Remote state per stack, cross-stack reads through the same backend, and what each target puts in the output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from config import load_settings
from ops.core.aws_clients import client
from ops.core.tool_env import tool_env
from shared.local_target import LOCAL_ENDPOINT_SERVICES
from tests.conftest import AWS_ACCOUNT, AWS_ZONE, OPERATOR_PROFILE
from tests.support import STACKS, Synth

SPEC_DEPENDENCIES = {
    "network-primary": [],
    "data-primary": ["network-primary"],
    "compute-primary": ["data-primary", "network-primary"],
    "dns-primary": ["compute-primary"],
    "network-secondary": ["network-primary"],
    "data-secondary": ["data-primary", "network-secondary"],
    "compute-secondary": ["data-secondary", "network-secondary"],
    "dns-secondary": ["compute-secondary", "dns-primary"],
}


def test_app_builds_eight_stacks_with_the_spec_dependencies(local_dev: Synth) -> None:
    manifest = local_dev.manifest["stacks"]
    assert sorted(manifest) == sorted(STACKS)
    assert {name: sorted(stack["dependencies"]) for name, stack in manifest.items()} == SPEC_DEPENDENCIES


def test_dependencies_never_point_from_primary_to_secondary(local_dev: Synth) -> None:
    for name, stack in local_dev.manifest["stacks"].items():
        if name.endswith("-primary"):
            assert all(dep.endswith("-primary") for dep in stack["dependencies"]), name


def test_every_stack_has_its_own_encrypted_locked_state_key(local_dev: Synth, aws_prod: Synth) -> None:
    for synth, env in ((local_dev, "dev"), (aws_prod, "prod")):
        keys = set()
        for stack in STACKS:
            backend = synth[stack]["terraform"]["backend"]["s3"]
            assert backend["key"] == f"{env}/{stack}.tfstate"
            assert backend["encrypt"] is True
            assert backend["dynamodb_table"] == f"payments-{env}-tflock"
            assert backend["region"] == "us-east-1"
            assert backend["kms_key_id"] == f"alias/payments-{env}-bootstrap"
            keys.add(backend["key"])
        assert len(keys) == len(STACKS)


def test_cross_stack_references_read_the_producers_backend(local_dev: Synth) -> None:
    reads = 0
    for stack in STACKS:
        for name, remote in local_dev.data_sources(stack, "terraform_remote_state").items():
            producer = name.removeprefix("cross-stack-reference-input-")
            assert producer in local_dev.manifest["stacks"][stack]["dependencies"]
            assert remote["backend"] == "s3"
            assert remote["config"] == local_dev[producer]["terraform"]["backend"]["s3"]
            reads += 1
    assert reads >= 1


def test_referenced_outputs_exist_in_the_producer(local_dev: Synth) -> None:
    pattern = re.compile(r"terraform_remote_state\.cross-stack-reference-input-([\w-]+)\.outputs\.([\w-]+)")
    for stack in STACKS:
        for producer, output in pattern.findall(json.dumps(local_dev[stack])):
            assert output in local_dev.outputs(producer), f"{stack} reads {producer}.{output}, which is not exported"


def test_local_target_points_every_provider_and_backend_at_the_emulator(local_dev: Synth) -> None:
    for stack in STACKS:
        for provider in local_dev[stack]["provider"]["aws"]:
            endpoints = provider["endpoints"][0]
            assert set(endpoints.values()) == {"http://127.0.0.1:4566"}
            assert provider["s3_use_path_style"] is True
            assert provider["skip_credentials_validation"] is True
            assert provider["max_retries"] == 3
        backend = local_dev[stack]["terraform"]["backend"]["s3"]
        assert set(backend["endpoints"].values()) == {"http://127.0.0.1:4566"}
        assert backend["use_path_style"] is True


def test_every_resource_type_used_has_an_emulator_endpoint(local_dev: Synth) -> None:
    service_of = {
        "aws_acm": "acm", "aws_api_gateway": "apigateway", "aws_backup": "backup", "aws_cloudwatch_log": "logs",
        "aws_cloudwatch_event": "events", "aws_cloudwatch": "cloudwatch", "aws_dynamodb": "dynamodb",
        "aws_iam": "iam", "aws_kms": "kms", "aws_lambda": "lambda_", "aws_rds": "rds", "aws_db": "rds",
        "aws_route53": "route53", "aws_s3": "s3", "aws_secretsmanager": "secretsmanager", "aws_sns": "sns",
        "aws_sqs": "sqs", "aws_ssm": "ssm", "aws_flow_log": "ec2", "aws_vpc": "ec2", "aws_subnet": "ec2",
        "aws_route": "ec2", "aws_internet_gateway": "ec2", "aws_nat_gateway": "ec2", "aws_eip": "ec2",
        "aws_security_group": "ec2", "aws_default_security_group": "ec2", "aws_xray": "xray", "aws_sfn": "sfn",
        "aws_wafv2": "wafv2",
    }  # fmt: skip
    for _, rtype, _, _ in local_dev.all_resources():
        prefix = max((p for p in service_of if rtype.startswith(p)), key=len, default=None)
        assert prefix is not None, f"{rtype}: which emulator endpoint serves it? add it to LOCAL_ENDPOINT_SERVICES"
        assert service_of[prefix] in LOCAL_ENDPOINT_SERVICES, rtype


def test_aws_target_output_carries_no_emulator_settings(aws_dev: Synth, aws_prod: Synth) -> None:
    for synth in (aws_dev, aws_prod):
        for stack in STACKS:
            text = json.dumps(synth[stack])
            for marker in ("127.0.0.1", "localhost", '"endpoints"', "skip_credentials_validation", '"test"',
                           "access_key", "secret_key", "use_path_style", "max_retries", "skip_requesting"):  # fmt: skip
                assert marker not in text, f"{stack}: {marker}"
            providers = synth[stack]["provider"]["aws"]
            assert all(p["allowed_account_ids"] == ["111122223333"] for p in providers)


def test_no_operator_profile_in_providers_backends_or_remote_state(aws_prod: Synth) -> None:
    """aws_prod is synthesized with an operator's profile: credentials reach Terraform only through the
    environment, so CI and any other operator can init the same configuration."""
    remote_states = 0
    for stack in STACKS:
        text = json.dumps(aws_prod[stack])
        assert '"profile"' not in text, stack
        assert OPERATOR_PROFILE not in text, stack
        remote_states += len(aws_prod[stack].get("data", {}).get("terraform_remote_state", {}))
    assert remote_states >= 1, "count guard: no terraform_remote_state block found"


def test_the_configured_profile_reaches_terraform_and_boto3_through_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(
        environ={
            "PAYMENTS_DOTENV": "none",
            "PAYMENTS_TARGET": "aws",
            "PAYMENTS_AWS_ACCOUNT_ID": AWS_ACCOUNT,
            "PAYMENTS_DNS_ZONE_NAME": AWS_ZONE,
            "PAYMENTS_AWS_PROFILE": OPERATOR_PROFILE,
        }
    )
    assert tool_env(settings)["AWS_PROFILE"] == OPERATOR_PROFILE
    config = tmp_path / "config"
    config.write_text(f"[profile {OPERATOR_PROFILE}]\naws_access_key_id = AKIAOPERATOR\naws_secret_access_key = x\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    sts = client(settings, "sts", "us-east-1")
    assert sts._request_signer._credentials.access_key == "AKIAOPERATOR"


def test_default_tags_are_applied_once_through_each_provider(local_dev: Synth) -> None:
    for stack in STACKS:
        for provider in local_dev[stack]["provider"]["aws"]:
            tags = provider["default_tags"][0]["tags"]
            assert set(tags) >= {"Environment", "Region", "Project", "ManagedBy", "EnvironmentSuffix", "CostCenter"}
            assert tags["Region"] == provider["region"]
            assert (tags["Environment"], tags["Project"], tags["ManagedBy"]) == ("dev", "payments", "cdktf")


def test_no_literal_regions_or_accounts_in_stack_code(project_root) -> None:
    region = re.compile(r"\b(us|eu|ap|sa|ca)-(east|west|north|south|central|northeast|southeast)-\d\b")
    account = re.compile(r"\b\d{12}\b")
    for path in [*(project_root / "stacks").rglob("*.py"), *(project_root / "shared").rglob("*.py")]:
        text = path.read_text()
        assert not region.search(text), f"{path}: region literal; take it from config"
        assert not account.search(text), f"{path}: account id literal"
