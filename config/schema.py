"""Every setting, its type and its rule, in one table.

The table drives three things: coercion of `.env` strings, validation of each
field (one error line per bad field) and the documentation check that keeps
`.env.example` complete.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from shared.processor_runtime import RUNTIMES

# Commercial regions the platform can be placed in, with how many zones each offers (which ones, by id, is
# per account: network.*_az_ids or the account's zone lookup).
REGION_ZONE_COUNTS: dict[str, int] = {
    "us-east-1": 6,
    "us-east-2": 3,
    "us-west-1": 2,
    "us-west-2": 4,
    "ca-central-1": 3,
    "eu-west-1": 3,
    "eu-west-2": 3,
    "eu-west-3": 3,
    "eu-central-1": 3,
    "eu-north-1": 3,
    "eu-south-1": 3,
    "ap-southeast-1": 3,
    "ap-southeast-2": 3,
    "ap-northeast-1": 3,
    "ap-northeast-2": 4,
    "ap-south-1": 3,
    "sa-east-1": 3,
}
# Regions opened in August 2022 or later: no regional Elastic Load Balancing account for access-log bucket policies,
# only the log delivery service principal (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/
# enable-access-logging.html, step 2). None of REGION_ZONE_COUNTS is one.
REGIONS_WITHOUT_ELB_ACCOUNT: frozenset[str] = frozenset(
    {
        "ap-east-2", "ap-south-2", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-west-1",
        "eu-central-2", "eu-south-2", "il-central-1", "me-central-1", "mx-central-1",
    }
)  # fmt: skip

# Globally unique names (S3 buckets) are `<project>-<suffix>-<component>-<region>-<account id>`
# (shared.naming.Naming.global_name), at most S3_BUCKET_NAME_MAX characters
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
S3_BUCKET_NAME_MAX = 63
GLOBAL_COMPONENT_MAX = 5  # the longest component a global name may carry ("audit")
ACCOUNT_ID_LENGTH = 12

# Aurora PostgreSQL versions known to support global databases in every region above (AWS: "Supported Regions
# and DB engines for Aurora global databases"): every 16.x minor does. Exact pins: upgrades are config changes.
AURORA_ENGINE_VERSIONS: tuple[str, ...] = ("16.6", "16.8")
# Global databases need memory-optimized classes (db.r5 or newer, db.x2g); burstable db.t* are refused.
AURORA_GLOBAL_INSTANCE_FAMILIES = r"db\.(r[5-9][a-z]*|x2[a-z]*)"
# Master user names Aurora PostgreSQL refuses: RDS's own roles (rdsadmin, rdsrepladmin, rds_superuser, ...: rds*),
# PostgreSQL's reserved role prefix (pg_) and role names (public, none), and SQL reserved words.
RESERVED_MASTER_USERNAME_PREFIXES: tuple[str, ...] = ("rds", "pg_")
RESERVED_MASTER_USERNAMES: tuple[str, ...] = (
    "public", "none", "all", "analyse", "analyze", "and", "any", "as", "user", "current_user", "session_user",
    "default", "grant", "select", "table", "to", "union", "where",
)  # fmt: skip

# A rate-based rule's limit, requests per aggregation instance per evaluation window (the WAFv2 API's RateLimit
# shape: https://docs.aws.amazon.com/waf/latest/APIReference/API_RateBasedStatement.html).
WAF_RATE_LIMIT_MIN = 10
WAF_RATE_LIMIT_MAX = 2_000_000_000
# The largest fleet (instances per region) the ec2 runtime may scale to.
FLEET_MAX_SIZE = 100

LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
    2557, 2922, 3288, 3653,
)  # fmt: skip

Check = Callable[[object], str | None]
"""Returns None when the value is acceptable, else what is allowed."""


@dataclass(frozen=True)
class Field:
    path: str
    kind: type
    check: Check

    @property
    def env_key(self) -> str:
        return "PAYMENTS_" + self.path.replace(".", "_").upper()


def _pattern(regex: str, allowed: str) -> Check:
    compiled = re.compile(regex)
    return lambda v: None if compiled.fullmatch(str(v)) else allowed


def _one_of(*choices: str) -> Check:
    return lambda v: None if v in choices else "one of " + ", ".join(choices)


def _int_range(low: int, high: int) -> Check:
    return lambda v: None if low <= int(v) <= high else f"a whole number from {low} to {high}"  # type: ignore[call-overload]


def _region(v: object) -> str | None:
    return None if v in REGION_ZONE_COUNTS else "a known AWS region such as us-east-1 or eu-west-1"


def _cidr(v: object) -> str | None:
    allowed = "an IPv4 network from /16 to /24 such as 10.0.0.0/16"
    try:
        net = ipaddress.IPv4Network(str(v), strict=True)
    except ValueError:
        return allowed
    if not 16 <= net.prefixlen <= 24 or not net.is_private:
        return allowed + " in a private range"
    return None


def _amount(v: object) -> str | None:
    allowed = "a positive decimal with at most 2 places, such as 100000.00"
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        return allowed
    if not d.is_finite() or d <= 0 or d.as_tuple().exponent < -2:  # type: ignore[operator]
        return allowed
    return None


def _currencies(v: object) -> str | None:
    ok = isinstance(v, tuple | list) and v and all(re.fullmatch(r"[A-Z]{3}", str(c)) for c in v)
    return None if ok else "a non-empty list of ISO 4217 codes such as USD,EUR"


def _az_ids(v: object) -> str | None:
    ok = isinstance(v, tuple | list) and all(re.fullmatch(r"[a-z]{3,5}\d-az\d{1,2}", str(z)) for z in v)
    return None if ok else "availability zone ids such as use1-az1,use1-az2, or empty for the account's zones"


def _log_retention(v: object) -> str | None:
    return None if v in LOG_RETENTION_DAYS else "a CloudWatch retention: " + ", ".join(map(str, LOG_RETENTION_DAYS))


def _master_username(v: object) -> str | None:
    name = str(v)
    allowed = "a PostgreSQL user name (1-16 lowercase letters, digits, _) such as payments_admin"
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,15}", name):
        return allowed
    if name in RESERVED_MASTER_USERNAMES or name.startswith(RESERVED_MASTER_USERNAME_PREFIXES):
        return allowed + ", not a reserved name (rds*, pg_*, " + ", ".join(RESERVED_MASTER_USERNAMES) + ")"
    return None


def _loopback(v: object) -> str | None:
    try:
        return None if ipaddress.ip_address(str(v)).is_loopback else "a loopback address such as 127.0.0.1"
    except ValueError:
        return "a loopback address such as 127.0.0.1"


# A tag value AWS accepts on every service that takes tags: at most 256 Unicode letters, digits, spaces and
# _ . : / = + - @, and no `aws:` prefix in any case (reserved for AWS). Empty is a valid value; a setting that is
# empty adds no tag at all (shared.tags).
TAG_VALUE_MAX = 256
_TAG_VALUE = re.compile(r"(?![Aa][Ww][Ss]:)[\w +=.:/@-]*")


def _tag_value(v: object) -> str | None:
    text = str(v)
    if len(text) <= TAG_VALUE_MAX and _TAG_VALUE.fullmatch(text):
        return None
    return (
        f"a tag value of at most {TAG_VALUE_MAX} letters, digits, spaces and _ . : / = + - @, not starting with "
        "aws:, such as batch-1 (or empty for no tag)"
    )


# Names no public DNS delegates (RFC 2606, RFC 6761, RFC 6762, RFC 8375, ICANN's `.internal`): a zone under
# one cannot be reached by Route 53 health checkers, clients or ACM's DNS validation, so the aws target refuses
# them (the local target's default zone is `.internal` on purpose). Each entry matches itself and every name below.
RESERVED_ZONE_SUFFIXES: tuple[str, ...] = (
    "internal", "local", "localhost", "test", "example", "invalid", "lan", "home.arpa",
    "example.com", "example.net", "example.org",
)  # fmt: skip

# Where AWS publishes the CA bundle RDS certificates chain to (data.rds_ca_bundle is a downloaded copy).
RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"

_ANY: Check = lambda v: None  # noqa: E731
_POSITIVE = _int_range(1, 100_000)
_DOMAIN = _pattern(
    r"(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
    "a DNS domain name such as payments.yourcompany.com",
)

FIELDS: tuple[Field, ...] = (
    Field(
        "project", str, _pattern(r"[a-z][a-z0-9]{1,15}", "2-16 lowercase letters and digits, starting with a letter")
    ),
    Field(
        "environment_suffix",
        str,
        _pattern(
            r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?",
            "1-12 lowercase letters, digits or inner hyphens, such as dev or pr-42",
        ),
    ),
    Field("target", str, _one_of("local", "aws")),
    Field("regions.primary", str, _region),
    Field("regions.secondary", str, _region),
    Field("network.primary_cidr", str, _cidr),
    Field("network.secondary_cidr", str, _cidr),
    Field("network.az_count", int, _int_range(2, 3)),
    Field("network.subnet_prefix", int, _int_range(20, 28)),
    Field("network.nat_strategy", str, _one_of("single", "per_az")),
    Field("network.flow_log_retention_days", int, _log_retention),
    Field("network.primary_az_ids", tuple, _az_ids),
    Field("network.secondary_az_ids", tuple, _az_ids),
    Field("local.host", str, _loopback),
    Field("local.port", int, _int_range(1024, 65533)),  # the two local PostgreSQL instances take the next two ports
    Field("local.fault_injection", bool, _ANY),  # the emulator moves to local.port + 3 behind a fault proxy
    Field(
        "aws.profile", str, _pattern(r"[A-Za-z0-9_.-]{0,64}", "an AWS CLI profile name, or empty for the default chain")
    ),
    Field("aws.account_id", str, _pattern(r"(\d{12})?", "12 digits (required when target = aws), or empty")),
    Field(
        "state.bucket",
        str,
        _pattern(
            r"([a-z0-9][a-z0-9.-]{1,53}[a-z0-9])?",
            "an S3 bucket name of 3-55 lowercase letters, digits, dots, hyphens (its replica in the secondary region "
            "adds -replica), or empty for the default",
        ),
    ),
    Field(
        "state.lock_table",
        str,
        _pattern(r"([A-Za-z0-9_.-]{3,255})?", "a DynamoDB table name, or empty for the default"),
    ),
    Field("state.lock_timeout_seconds", int, _int_range(0, 3600)),
    Field("data.backup_retention_days", int, _int_range(1, 35)),
    Field("data.backup_copy_to_secondary", bool, _ANY),
    Field("data.noncurrent_version_expiration_days", int, _int_range(1, 3650)),
    Field("data.replication_time_control", bool, _ANY),
    Field("data.audit_object_lock_days", int, _int_range(0, 3650)),
    Field("data.backup_vault_lock_days", int, _int_range(0, 35)),
    Field("data.aurora_engine_version", str, _one_of(*AURORA_ENGINE_VERSIONS)),
    Field(
        "data.aurora_instance_class",
        str,
        _pattern(
            AURORA_GLOBAL_INSTANCE_FAMILIES + r"\.[a-z0-9]+",
            "a memory-optimized class Aurora global databases accept (db.r5 or newer, db.x2g; no db.t*), "
            "such as db.r6g.large",
        ),
    ),
    Field("data.aurora_instance_count", int, _int_range(1, 15)),
    Field("data.database_name", str, _pattern(r"[a-z][a-z0-9_]{0,62}", "a PostgreSQL identifier such as payments")),
    Field("data.database_master_username", str, _master_username),
    Field("data.aurora_cpu_alarm_percent", int, _int_range(1, 100)),
    Field("data.replication_lag_alarm_ms", int, _int_range(1, 600_000)),
    Field(
        "data.rds_ca_bundle", str, _pattern(r"(.+\.pem)?", "the path of AWS's RDS CA bundle (a .pem file), or empty")
    ),
    Field("compute.reserve_concurrency", bool, _ANY),
    Field("compute.lambda_p99_latency_ms", int, _int_range(1, 29_000)),
    Field("compute.log_retention_days", int, _log_retention),
    Field("compute.lambda_memory_mb", int, _int_range(128, 10240)),
    Field("compute.lambda_timeout_seconds", int, _int_range(1, 29)),
    Field("compute.max_amount", str, _amount),
    Field("compute.allowed_currencies", tuple, _currencies),
    Field("compute.api_throttle_rate_limit", int, _POSITIVE),
    Field("compute.api_throttle_burst_limit", int, _POSITIVE),
    Field("compute.api_quota_per_day", int, _int_range(1, 100_000_000)),
    # Requests one client IP may send in 5 minutes before the web ACL blocks it (stacks/compute/waf.py).
    Field("compute.waf_rate_limit", int, _int_range(WAF_RATE_LIMIT_MIN, WAF_RATE_LIMIT_MAX)),
    Field("compute.alarm_email", str, _pattern(r"([^@\s]+@[^@\s]+\.[a-z]{2,})?", "an e-mail address, or empty")),
    Field("compute.runtime", str, _one_of(*RUNTIMES)),
    Field(
        "compute.instance_type",
        str,
        _pattern(r"[a-z][a-z0-9-]*\.[a-z0-9]+", "an EC2 instance type such as t3.medium or m7i.large"),
    ),
    Field("compute.fleet_min", int, _int_range(1, FLEET_MAX_SIZE)),
    Field("compute.fleet_max", int, _int_range(1, FLEET_MAX_SIZE)),
    Field("compute.fleet_desired", int, _int_range(1, FLEET_MAX_SIZE)),
    Field("compute.fleet_cpu_target_percent", int, _int_range(10, 90)),
    Field("compute.instance_refresh_min_healthy_percent", int, _int_range(0, 100)),
    Field("compute.health_check_grace_seconds", int, _int_range(0, 7200)),
    Field("compute.target_p99_response_ms", int, _int_range(1, 60_000)),
    Field("dns.zone_name", str, _DOMAIN),
    Field(
        "dns.existing_zone_id",
        str,
        _pattern(r"(Z[A-Z0-9]{4,32})?", "a Route 53 zone id such as Z0123456789ABC, or empty to create one"),
    ),
    Field("dns.api_record", str, _pattern(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", "a DNS label such as api")),
    Field("dns.primary_weight", int, _int_range(0, 100)),
    Field("migration.batch", str, _tag_value),
    # The GitHub repository whose workflows `make bootstrap` trusts (ops/state/deploy_roles.py); exact, no wildcards:
    # it becomes the `sub` claim the roles' trust policies require.
    Field(
        "pipeline.github_repository",
        str,
        _pattern(
            r"([A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9_.-]{1,100})?",
            "a GitHub repository as owner/name, such as acme/payments, or empty for no pipeline trust",
        ),
    ),
)

KIND_NAMES: dict[type, str] = {
    str: "a string",
    int: "a whole number",
    bool: "true or false",
    tuple: "a comma-separated list",
}
FIELDS_BY_PATH: dict[str, Field] = {f.path: f for f in FIELDS}
REQUIRED_TAGS: tuple[str, ...] = ("CostCenter", "Owner")
