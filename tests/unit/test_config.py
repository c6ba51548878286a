"""Configuration is validated before anything is synthesized: one line per bad field, naming it and the fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import ConfigError, available_environments, load_settings
from config.schema import AURORA_ENGINE_VERSIONS, FIELDS
from tests.conftest import AWS_ZONE

NO_DOTENV = {"PAYMENTS_DOTENV": "none"}


def settings_with(**overrides: str):
    return load_settings(environ={**NO_DOTENV, **overrides})


def errors_for(**overrides: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        settings_with(**overrides)
    return caught.value.lines


def test_both_environments_load_and_differ_where_they_should() -> None:
    assert {"dev", "prod"} <= set(available_environments())
    dev, prod = settings_with(), settings_with(PAYMENTS_ENV="prod")
    assert (dev.network.az_count, dev.network.nat_gateway_count) == (2, 1)
    assert (prod.network.az_count, prod.network.nat_gateway_count) == (3, 3)
    assert dev.target == prod.target == "local"
    assert dev.regions.primary != dev.regions.secondary


def test_subnet_layout_carves_three_tiers_per_zone_without_overlap() -> None:
    layout = settings_with().network.subnets("primary")
    assert layout.public == ("10.0.0.0/24", "10.0.1.0/24")
    assert layout.private == ("10.0.2.0/24", "10.0.3.0/24")
    assert layout.isolated == ("10.0.4.0/24", "10.0.5.0/24")
    secondary = settings_with(PAYMENTS_ENV="prod").network.subnets("secondary")
    assert secondary.isolated[-1] == "10.1.8.0/24"


def test_region_pair_is_configuration() -> None:
    s = settings_with(PAYMENTS_REGIONS_PRIMARY="us-west-2", PAYMENTS_REGIONS_SECONDARY="eu-central-1")
    assert (s.regions.primary, s.regions.secondary, s.state_region) == ("us-west-2", "eu-central-1", "us-west-2")


def test_dotenv_file_overrides_toml_and_process_environment_overrides_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "PAYMENTS_NETWORK_AZ_COUNT=3\nPAYMENTS_COMPUTE_LAMBDA_P99_LATENCY_MS=250\nPAYMENTS_TAGS_TEAM=cards\n"
    )
    s = load_settings(environ={"PAYMENTS_DOTENV": str(dotenv), "PAYMENTS_COMPUTE_LAMBDA_P99_LATENCY_MS": "400"})
    assert s.network.az_count == 3
    assert s.compute.lambda_p99_latency_ms == 400
    assert s.tags["TEAM"] == "cards"


def test_state_names_derive_from_project_and_suffix() -> None:
    s = settings_with(PAYMENTS_ENVIRONMENT_SUFFIX="pr-42")
    assert (s.state.bucket, s.state.lock_table) == ("payments-pr-42-tfstate", "payments-pr-42-tflock")
    aws = settings_with(PAYMENTS_TARGET="aws", PAYMENTS_AWS_ACCOUNT_ID="111122223333", PAYMENTS_DNS_ZONE_NAME=AWS_ZONE)
    assert aws.state.bucket == "payments-dev-tfstate-111122223333"


# Each invalid configuration is rejected with exactly one line that names the offending field.
INVALID = [
    ({"PAYMENTS_REGIONS_SECONDARY": "us-east-1"}, "regions.secondary"),
    ({"PAYMENTS_REGIONS_PRIMARY": "mars-north-1"}, "regions.primary"),
    ({"PAYMENTS_REGIONS_SECONDARY": "EU-WEST-1"}, "regions.secondary"),
    ({"PAYMENTS_NETWORK_PRIMARY_CIDR": "10.0.0.0/33"}, "network.primary_cidr"),
    ({"PAYMENTS_NETWORK_PRIMARY_CIDR": "10.0.0.1/16"}, "network.primary_cidr"),
    ({"PAYMENTS_NETWORK_PRIMARY_CIDR": "8.8.0.0/16"}, "network.primary_cidr"),
    ({"PAYMENTS_NETWORK_SECONDARY_CIDR": "10.0.128.0/17"}, "network.secondary_cidr"),
    ({"PAYMENTS_NETWORK_SECONDARY_CIDR": "not-a-cidr"}, "network.secondary_cidr"),
    ({"PAYMENTS_NETWORK_PRIMARY_CIDR": "10.0.0.0/24", "PAYMENTS_NETWORK_SUBNET_PREFIX": "26"}, "network.primary_cidr"),
    ({"PAYMENTS_NETWORK_AZ_COUNT": "4"}, "network.az_count"),
    ({"PAYMENTS_NETWORK_AZ_COUNT": "three"}, "network.az_count"),
    ({"PAYMENTS_REGIONS_SECONDARY": "us-west-1", "PAYMENTS_NETWORK_AZ_COUNT": "3"}, "network.az_count"),
    ({"PAYMENTS_NETWORK_NAT_STRATEGY": "none"}, "network.nat_strategy"),
    ({"PAYMENTS_NETWORK_PRIMARY_AZ_IDS": "us-east-1a,us-east-1b"}, "network.primary_az_ids"),
    ({"PAYMENTS_NETWORK_SECONDARY_AZ_IDS": "euw1-az1"}, "network.secondary_az_ids"),
    ({"PAYMENTS_NETWORK_SECONDARY_AZ_IDS": "euw1-az1,euw1-az1"}, "network.secondary_az_ids"),
    ({"PAYMENTS_ENVIRONMENT_SUFFIX": "Dev_1"}, "environment_suffix"),
    ({"PAYMENTS_ENVIRONMENT_SUFFIX": "-dev"}, "environment_suffix"),
    ({"PAYMENTS_TAGS_COSTCENTER": ""}, "tags.CostCenter"),
    ({"PAYMENTS_TAGS_OWNER": " "}, "tags.Owner"),
    ({"PAYMENTS_COMPUTE_LAMBDA_P99_LATENCY_MS": "-1"}, "compute.lambda_p99_latency_ms"),
    ({"PAYMENTS_COMPUTE_LAMBDA_P99_LATENCY_MS": "0"}, "compute.lambda_p99_latency_ms"),
    ({"PAYMENTS_COMPUTE_LAMBDA_P99_LATENCY_MS": "15001"}, "compute.lambda_p99_latency_ms"),
    ({"PAYMENTS_LOCAL_PORT": "80"}, "local.port"),
    ({"PAYMENTS_LOCAL_PORT": "70000"}, "local.port"),
    ({"PAYMENTS_LOCAL_HOST": "10.0.0.5"}, "local.host"),
    ({"PAYMENTS_TARGET": "gcp"}, "target"),
    ({"PAYMENTS_ENV": "staging"}, "PAYMENTS_ENV"),
    ({"PAYMENTS_COMPUTE_LOG_RETENTION_DAYS": "31"}, "compute.log_retention_days"),
    ({"PAYMENTS_COMPUTE_MAX_AMOUNT": "10.001"}, "compute.max_amount"),
    ({"PAYMENTS_COMPUTE_MAX_AMOUNT": "-5"}, "compute.max_amount"),
    ({"PAYMENTS_COMPUTE_ALLOWED_CURRENCIES": "usd,EUR"}, "compute.allowed_currencies"),
    ({"PAYMENTS_COMPUTE_API_THROTTLE_BURST_LIMIT": "10"}, "compute.api_throttle_burst_limit"),
    ({"PAYMENTS_AWS_ACCOUNT_ID": "12345"}, "aws.account_id"),
    ({"PAYMENTS_TARGET": "aws", "PAYMENTS_AWS_ACCOUNT_ID": "", "PAYMENTS_DNS_ZONE_NAME": AWS_ZONE}, "aws.account_id"),
    ({"PAYMENTS_DATA_BACKUP_RETENTION_DAYS": "0"}, "data.backup_retention_days"),
    ({"PAYMENTS_DATA_BACKUP_COPY_TO_SECONDARY": "maybe"}, "data.backup_copy_to_secondary"),
    ({"PAYMENTS_DATA_AUDIT_OBJECT_LOCK_DAYS": "30"}, "data.audit_object_lock_days"),
    ({"PAYMENTS_DATA_BACKUP_VAULT_LOCK_DAYS": "7"}, "data.backup_vault_lock_days"),
    ({"PAYMENTS_ENV": "prod", "PAYMENTS_DATA_AUDIT_OBJECT_LOCK_DAYS": "0"}, "data.audit_object_lock_days"),
    ({"PAYMENTS_ENV": "prod", "PAYMENTS_DATA_BACKUP_VAULT_LOCK_DAYS": "0"}, "data.backup_vault_lock_days"),
    ({"PAYMENTS_ENV": "prod", "PAYMENTS_DATA_BACKUP_VAULT_LOCK_DAYS": "8"}, "data.backup_vault_lock_days"),
    ({"PAYMENTS_DATA_AURORA_ENGINE_VERSION": "15.4"}, "data.aurora_engine_version"),
    ({"PAYMENTS_DATA_AURORA_ENGINE_VERSION": "16"}, "data.aurora_engine_version"),
    ({"PAYMENTS_DATA_AURORA_INSTANCE_CLASS": "db.t4g.medium"}, "data.aurora_instance_class"),
    ({"PAYMENTS_DATA_AURORA_INSTANCE_CLASS": "db.t3.large"}, "data.aurora_instance_class"),
    ({"PAYMENTS_DATA_AURORA_INSTANCE_CLASS": "db.r4.large"}, "data.aurora_instance_class"),
    ({"PAYMENTS_DATA_AURORA_INSTANCE_CLASS": "db.serverless"}, "data.aurora_instance_class"),
    ({"PAYMENTS_DATA_DATABASE_MASTER_USERNAME": "rdsadmin"}, "data.database_master_username"),
    ({"PAYMENTS_DATA_DATABASE_MASTER_USERNAME": "rds_superuser"}, "data.database_master_username"),
    ({"PAYMENTS_DATA_DATABASE_MASTER_USERNAME": "pg_monitor"}, "data.database_master_username"),
    ({"PAYMENTS_DATA_DATABASE_MASTER_USERNAME": "public"}, "data.database_master_username"),
    ({"PAYMENTS_DATA_DATABASE_MASTER_USERNAME": "user"}, "data.database_master_username"),
    ({"PAYMENTS_DATA_AURORA_CPU_ALARM_PERCENT": "0"}, "data.aurora_cpu_alarm_percent"),
    ({"PAYMENTS_DATA_AURORA_CPU_ALARM_PERCENT": "101"}, "data.aurora_cpu_alarm_percent"),
    ({"PAYMENTS_DATA_REPLICATION_LAG_ALARM_MS": "0"}, "data.replication_lag_alarm_ms"),
    ({"PAYMENTS_DATA_REPLICATION_LAG_ALARM_MS": "1s"}, "data.replication_lag_alarm_ms"),
    ({"PAYMENTS_DATA_RDS_CA_BUNDLE": "global-bundle.txt"}, "data.rds_ca_bundle"),
    ({"PAYMENTS_DNS_PRIMARY_WEIGHT": "101"}, "dns.primary_weight"),
    ({"PAYMENTS_DNS_ZONE_NAME": "not a domain"}, "dns.zone_name"),
    ({"PAYMENTS_DNS_EXISTING_ZONE_ID": "abc"}, "dns.existing_zone_id"),
    ({"PAYMENTS_NETWORK_AZ_COUNTS": "2"}, "PAYMENTS_NETWORK_AZ_COUNTS"),
    (
        {
            "PAYMENTS_ENV": "prod",
            "PAYMENTS_TARGET": "aws",
            "PAYMENTS_AWS_ACCOUNT_ID": "111122223333",
            "PAYMENTS_DNS_ZONE_NAME": AWS_ZONE,
        },
        "compute.alarm_email",
    ),
    ({"PAYMENTS_DOTENV": "/nonexistent/payments.env"}, "PAYMENTS_DOTENV"),
]


@pytest.mark.parametrize(("overrides", "field"), INVALID, ids=[f for _, f in INVALID])
def test_invalid_configuration_names_the_field_in_one_line(overrides: dict[str, str], field: str) -> None:
    lines = errors_for(**overrides)
    assert len(lines) == 1, lines
    line = lines[0]
    assert "\n" not in line
    assert re.match(rf"^{re.escape(field)}\b", line), line
    assert any(word in line for word in ("use", "set", "fix", "see", "need", "must")), f"no fix named: {line}"


def test_engine_version_error_lists_the_accepted_versions() -> None:
    (line,) = errors_for(PAYMENTS_DATA_AURORA_ENGINE_VERSION="15.4")
    assert all(version in line for version in AURORA_ENGINE_VERSIONS), line


@pytest.mark.parametrize(
    "instance_class", ["db.r5.large", "db.r6g.large", "db.r6i.xlarge", "db.r7g.2xlarge", "db.x2g.large"]
)
def test_memory_optimized_instance_classes_are_accepted(instance_class: str) -> None:
    assert (
        settings_with(PAYMENTS_DATA_AURORA_INSTANCE_CLASS=instance_class).data.aurora_instance_class == instance_class
    )


def test_the_rds_ca_bundle_is_empty_by_default_and_a_pem_path_when_set() -> None:
    assert settings_with().data.rds_ca_bundle == ""
    assert settings_with(PAYMENTS_DATA_RDS_CA_BUNDLE="certs/global-bundle.pem").data.rds_ca_bundle == (
        "certs/global-bundle.pem"
    )


def test_every_bad_field_is_reported_at_once() -> None:
    lines = errors_for(
        PAYMENTS_REGIONS_SECONDARY="us-east-1", PAYMENTS_LOCAL_PORT="1", PAYMENTS_COMPUTE_LAMBDA_P99_LATENCY_MS="-3"
    )
    assert [line.split("=")[0].split(" ")[0] for line in lines] == [
        "local.port",
        "compute.lambda_p99_latency_ms",
        "regions.secondary",
    ]


def test_env_example_documents_every_key(project_root: Path) -> None:
    documented = set(re.findall(r"^#?\s*(PAYMENTS_[A-Z0-9_]+)=", (project_root / ".env.example").read_text(), re.M))
    required = {f.env_key for f in FIELDS} | {"PAYMENTS_ENV", "PAYMENTS_TAGS_COSTCENTER", "PAYMENTS_TAGS_OWNER"}
    assert required - documented == set()
    tooling = {"PAYMENTS_DOTENV", "PAYMENTS_OUTDIR", "PAYMENTS_OUTPUTS_DIR", "PAYMENTS_STATE_HOME"}
    assert documented - required - tooling == set()


def test_toml_files_set_every_field(project_root: Path) -> None:
    # A field missing from an environment file would be reported; both files must load on their own.
    for env in available_environments():
        assert settings_with(PAYMENTS_ENV=env).environment == env


def test_a_configuration_whose_bucket_names_exceed_63_characters_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # The schema's patterns keep today's maxima at exactly 63; a longer global component would overflow.
    monkeypatch.setattr("config.validation.GLOBAL_COMPONENT_MAX", 6)
    lines = errors_for(
        PAYMENTS_PROJECT="p" * 16, PAYMENTS_ENVIRONMENT_SUFFIX="s" * 12, PAYMENTS_REGIONS_SECONDARY="ap-southeast-1"
    )
    assert len(lines) == 1, lines
    assert lines[0].startswith("environment_suffix=")
    assert "64 characters, over S3's 63" in lines[0]


def test_prod_on_aws_needs_someone_to_notify_and_says_how() -> None:
    aws_prod = {
        "PAYMENTS_ENV": "prod",
        "PAYMENTS_TARGET": "aws",
        "PAYMENTS_AWS_ACCOUNT_ID": "111122223333",
        "PAYMENTS_DNS_ZONE_NAME": AWS_ZONE,
    }
    [line] = errors_for(**aws_prod)
    assert line.startswith("compute.alarm_email is empty, but prod on the aws target must notify someone")
    assert (
        "set PAYMENTS_COMPUTE_ALARM_EMAIL in .env or alarm_email under [compute] in config/environments/prod.toml"
        in line
    )
    [blank] = errors_for(**aws_prod, PAYMENTS_COMPUTE_ALARM_EMAIL=" ")  # not an address: the field's own check
    assert blank.startswith("compute.alarm_email=' ' is invalid: use an e-mail address")
    ok = settings_with(**aws_prod, PAYMENTS_COMPUTE_ALARM_EMAIL="oncall@example.com")
    assert ok.compute.alarm_email == "oncall@example.com"
    # dev, and prod rehearsed on the emulator, notify nobody real either way: no address needed there
    assert settings_with(PAYMENTS_ENV="prod").compute.alarm_email == ""
    aws_dev = {"PAYMENTS_TARGET": "aws", "PAYMENTS_AWS_ACCOUNT_ID": "111122223333", "PAYMENTS_DNS_ZONE_NAME": AWS_ZONE}
    assert settings_with(**aws_dev).compute.alarm_email == ""


def test_a_dotenv_file_that_is_not_there_is_an_error_and_none_reads_none(tmp_path: Path) -> None:
    missing = tmp_path / "typo.env"
    [line] = errors_for(PAYMENTS_DOTENV=str(missing))
    assert line == (
        f"PAYMENTS_DOTENV={str(missing)!r} names no file ({missing} does not exist or is not a file); "
        "fix the path, or set PAYMENTS_DOTENV=none to read no .env file"
    )
    [line] = errors_for(PAYMENTS_DOTENV=str(tmp_path))  # a directory is no file either
    assert line.startswith(f"PAYMENTS_DOTENV={str(tmp_path)!r} names no file")
    assert settings_with(PAYMENTS_DOTENV="none").environment == "dev"
