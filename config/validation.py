"""Validation of raw settings: one line per bad field, naming the field, the value and what is allowed."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from config.schema import (
    ACCOUNT_ID_LENGTH,
    FIELDS,
    GLOBAL_COMPONENT_MAX,
    KIND_NAMES,
    REGION_ZONE_COUNTS,
    REQUIRED_TAGS,
    RESERVED_ZONE_SUFFIXES,
    S3_BUCKET_NAME_MAX,
)
from config.settings import FAULT_EMULATOR_PORT_OFFSET

MAX_PORT = 65535


class ConfigError(Exception):
    """Invalid configuration; ``lines`` holds one message per offending field."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


_MISSING = object()


def _lookup(raw: Mapping[str, Any], path: str) -> object:
    node: object = raw
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _type_ok(value: object, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is tuple:
        return isinstance(value, list | tuple)
    return isinstance(value, kind)


def _fix_hint(path: str, env: str) -> str:
    key = "PAYMENTS_" + path.replace(".", "_").upper()
    return f"set {key} in .env or edit config/environments/{env}.toml"


def validate(raw: Mapping[str, Any], env: str) -> list[str]:
    errors: list[str] = []
    bad: set[str] = set()
    for spec in FIELDS:
        value = _lookup(raw, spec.path)
        if value is _MISSING:
            errors.append(f"{spec.path} is missing; {_fix_hint(spec.path, env)}")
        elif not _type_ok(value, spec.kind):
            errors.append(f"{spec.path}={value!r} must be {KIND_NAMES[spec.kind]}; {_fix_hint(spec.path, env)}")
        elif (allowed := spec.check(value)) is not None:
            errors.append(f"{spec.path}={value!r} is invalid: use {allowed}; {_fix_hint(spec.path, env)}")
        else:
            continue
        bad.add(spec.path)
    errors += _cross_field(raw, env, bad)
    return errors


def _cross_field(raw: Mapping[str, Any], env: str, bad: set[str]) -> list[str]:
    errors: list[str] = []
    regions, network = raw.get("regions", {}), raw.get("network", {})
    if raw.get("environment") != env:
        errors.append(
            f"environment={raw.get('environment')!r} must match the file name {env!r}; "
            f"fix config/environments/{env}.toml"
        )
    if not bad & {"regions.primary", "regions.secondary"} and regions["primary"] == regions["secondary"]:
        errors.append(
            f"regions.secondary={regions['secondary']!r} equals regions.primary: the two regions must differ; "
            f"{_fix_hint('regions.secondary', env)}"
        )
    cidr_fields = {"network.primary_cidr", "network.secondary_cidr", "network.subnet_prefix", "network.az_count"}
    if not bad & cidr_fields:
        errors += _check_cidrs(network, env)
    if not bad & {"regions.primary", "regions.secondary", "network.az_count"}:
        for role in ("primary", "secondary"):
            zones = REGION_ZONE_COUNTS[regions[role]]
            if network["az_count"] > zones:
                errors.append(
                    f"network.az_count={network['az_count']} exceeds the {zones} zones of {regions[role]} "
                    f"(regions.{role}); {_fix_hint('network.az_count', env)}"
                )
    errors += _check_az_ids(network, env, bad)
    compute = raw.get("compute", {})
    throttle_fields = {"compute.api_throttle_rate_limit", "compute.api_throttle_burst_limit"}
    if not bad & throttle_fields and compute["api_throttle_burst_limit"] < compute["api_throttle_rate_limit"]:
        errors.append(
            f"compute.api_throttle_burst_limit={compute['api_throttle_burst_limit']} is below "
            f"compute.api_throttle_rate_limit={compute['api_throttle_rate_limit']}; "
            f"{_fix_hint('compute.api_throttle_burst_limit', env)}"
        )
    latency_fields = {"compute.lambda_p99_latency_ms", "compute.lambda_timeout_seconds"}
    if not bad & latency_fields and compute["lambda_p99_latency_ms"] > 1000 * compute["lambda_timeout_seconds"]:
        errors.append(
            f"compute.lambda_p99_latency_ms={compute['lambda_p99_latency_ms']} exceeds "
            f"compute.lambda_timeout_seconds={compute['lambda_timeout_seconds']}: a p99 cannot outlast the timeout; "
            f"{_fix_hint('compute.lambda_p99_latency_ms', env)}"
        )
    if "compute.max_amount" not in bad and Decimal(str(compute["max_amount"])) > Decimal("1000000000"):
        errors.append(
            f"compute.max_amount={compute['max_amount']!r} is above 1000000000; {_fix_hint('compute.max_amount', env)}"
        )
    errors += _check_fleet_size(compute, env, bad)
    errors += _check_data_locks(raw.get("data", {}), env, bad)
    errors += _check_prod_notifies(raw, env, bad)
    errors += _check_tags(raw.get("tags", {}), env)
    errors += _check_aws_target(raw, env, bad)
    errors += _check_aws_zone(raw, env, bad)
    errors += _check_global_names(raw, env, bad)
    errors += _check_fault_injection_port(raw, env, bad)
    return errors


def _check_fleet_size(compute: Mapping[str, Any], env: str, bad: set[str]) -> list[str]:
    """compute.fleet_min <= compute.fleet_desired <= compute.fleet_max (what Auto Scaling accepts)."""
    if bad & {"compute.fleet_min", "compute.fleet_desired", "compute.fleet_max"}:
        return []
    low, desired, high = compute["fleet_min"], compute["fleet_desired"], compute["fleet_max"]
    if low > high:
        return [
            f"compute.fleet_min={low} exceeds compute.fleet_max={high}: the fleet cannot be smaller than its "
            f"minimum; {_fix_hint('compute.fleet_min', env)}"
        ]
    if not low <= desired <= high:
        return [
            f"compute.fleet_desired={desired} is outside compute.fleet_min={low} to compute.fleet_max={high}; "
            f"{_fix_hint('compute.fleet_desired', env)}"
        ]
    return []


def _check_fault_injection_port(raw: Mapping[str, Any], env: str, bad: set[str]) -> list[str]:
    """With fault injection the emulator itself takes local.port + 3 (LocalTarget.emulator_port)."""
    if bad & {"local.port", "local.fault_injection"} or not raw["local"]["fault_injection"]:
        return []
    if raw["local"]["port"] + FAULT_EMULATOR_PORT_OFFSET <= MAX_PORT:
        return []
    return [
        f"local.port={raw['local']['port']} leaves no room for the emulator on local.port + "
        f"{FAULT_EMULATOR_PORT_OFFSET} (local.fault_injection = true); use a port up to "
        f"{MAX_PORT - FAULT_EMULATOR_PORT_OFFSET}; {_fix_hint('local.port', env)}"
    ]


def _check_global_names(raw: Mapping[str, Any], env: str, bad: set[str]) -> list[str]:
    """Bucket names carry project, suffix, region and account: the longest must fit S3's limit."""
    if bad & {"project", "environment_suffix", "regions.primary", "regions.secondary"}:
        return []
    region = max((raw["regions"]["primary"], raw["regions"]["secondary"]), key=len)
    parts = (raw["project"], raw["environment_suffix"], "x" * GLOBAL_COMPONENT_MAX, region, "0" * ACCOUNT_ID_LENGTH)
    length = len("-".join(parts))
    if length <= S3_BUCKET_NAME_MAX:
        return []
    return [
        f"environment_suffix={raw['environment_suffix']!r} makes bucket names in {region} {length} characters, "
        f"over S3's {S3_BUCKET_NAME_MAX}; shorten it or project; {_fix_hint('environment_suffix', env)}"
    ]


def _check_aws_target(raw: Mapping[str, Any], env: str, bad: set[str]) -> list[str]:
    """The aws target pins its account: providers refuse any other (allowed_account_ids), state names carry it."""
    if raw.get("target") != "aws" or bad & {"target", "aws.account_id"} or raw["aws"]["account_id"]:
        return []
    return [
        f"aws.account_id is required when target = aws (the account to deploy to); {_fix_hint('aws.account_id', env)}"
    ]


def reserved_zone_suffix(zone_name: str) -> str | None:
    """The reserved suffix `zone_name` is (or sits under), if any."""
    return next((s for s in RESERVED_ZONE_SUFFIXES if zone_name == s or zone_name.endswith("." + s)), None)


def _check_aws_zone(raw: Mapping[str, Any], env: str, bad: set[str]) -> list[str]:
    """The aws target's zone must be a name the public DNS can delegate to Route 53 (ACM validates through it)."""
    if raw.get("target") != "aws" or bad & {"target", "dns.zone_name"}:
        return []
    zone = raw["dns"]["zone_name"]
    suffix = reserved_zone_suffix(zone)
    if suffix is None:
        return []
    return [
        f"dns.zone_name={zone!r} is under the reserved .{suffix}, which no public DNS delegates (target = aws "
        f"needs a domain you own, such as payments.yourcompany.com); {_fix_hint('dns.zone_name', env)}"
    ]


def _check_az_ids(network: Mapping[str, Any], env: str, bad: set[str]) -> list[str]:
    """Configured zone ids name exactly the zones the subnets go into: one per zone, none twice."""
    errors: list[str] = []
    for role in ("primary", "secondary"):
        path = f"network.{role}_az_ids"
        ids = network.get(f"{role}_az_ids")
        if path in bad or "network.az_count" in bad or not ids:
            continue
        if len(ids) != network["az_count"] or len(set(ids)) != len(ids):
            errors.append(
                f"{path}={','.join(ids)!r} must list network.az_count={network['az_count']} distinct zone ids, "
                f"or be empty; {_fix_hint(path, env)}"
            )
    return errors


LOCK_FIELDS = ("data.audit_object_lock_days", "data.backup_vault_lock_days")


def _check_data_locks(data: Mapping[str, Any], env: str, bad: set[str]) -> list[str]:
    """Prod's audit trail and backups are immutable; dev stays destroyable; a vault lock never outlasts the plan."""
    errors: list[str] = []
    for path in LOCK_FIELDS:
        if path in bad:
            continue
        days = data[path.split(".")[1]]
        if env == "prod" and days == 0:
            errors.append(
                f"{path}=0 is invalid in prod: audit records and backups must be immutable; use 1 or more; "
                f"{_fix_hint(path, env)}"
            )
        elif env != "prod" and days > 0:
            errors.append(
                f"{path}={days} is invalid in {env}: only prod is locked ({env} must stay destroyable); "
                f"use 0; {_fix_hint(path, env)}"
            )
    if not bad & {"data.backup_vault_lock_days", "data.backup_retention_days"} and (
        data["backup_vault_lock_days"] > data["backup_retention_days"]
    ):
        errors.append(
            f"data.backup_vault_lock_days={data['backup_vault_lock_days']} exceeds data.backup_retention_days="
            f"{data['backup_retention_days']}: the vault would refuse every backup; use at most "
            f"{data['backup_retention_days']}; {_fix_hint('data.backup_vault_lock_days', env)}"
        )
    return errors


def _check_prod_notifies(raw: Mapping[str, Any], env: str, bad: set[str]) -> list[str]:
    """Prod on real AWS needs someone to notify; dev, and prod rehearsed on the emulator, reach nobody real anyway."""
    if raw.get("environment") != "prod" or raw.get("target") != "aws" or "compute.alarm_email" in bad:
        return []
    if str(raw.get("compute", {}).get("alarm_email", "")).strip():
        return []
    return [
        "compute.alarm_email is empty, but prod on the aws target must notify someone: without it every alarm, "
        "region-unhealthy included, notifies nobody; set PAYMENTS_COMPUTE_ALARM_EMAIL in .env or alarm_email "
        f"under [compute] in config/environments/{env}.toml"
    ]


def _check_cidrs(network: Mapping[str, Any], env: str) -> list[str]:
    errors: list[str] = []
    primary = ipaddress.IPv4Network(network["primary_cidr"])
    secondary = ipaddress.IPv4Network(network["secondary_cidr"])
    if primary.overlaps(secondary):
        errors.append(
            f"network.secondary_cidr={network['secondary_cidr']!r} overlaps network.primary_cidr="
            f"{network['primary_cidr']!r}; peered VPCs need disjoint ranges such as 10.0.0.0/16 and 10.1.0.0/16"
        )
    needed = 3 * network["az_count"]  # public, private and isolated subnet per AZ
    for role, net in (("primary", primary), ("secondary", secondary)):
        prefix = network["subnet_prefix"]
        available = 2 ** (prefix - net.prefixlen) if prefix > net.prefixlen else 0
        if available < needed:
            errors.append(
                f"network.{role}_cidr={str(net)!r} holds {available} /{prefix} subnets but "
                f"network.az_count={network['az_count']} needs {needed}; use a larger CIDR, fewer AZs or a longer "
                f"network.subnet_prefix"
            )
    return errors


def _check_tags(tags: Mapping[str, Any], env: str) -> list[str]:
    errors: list[str] = []
    for required in REQUIRED_TAGS:
        if not str(tags.get(required, "")).strip():
            errors.append(
                f"tags.{required} is missing; set PAYMENTS_TAGS_{required.upper()} in .env "
                f"or add it under [tags] in config/environments/{env}.toml"
            )
    for key, value in tags.items():
        if str(key).lower().startswith("aws:") or not 1 <= len(str(key)) <= 128:
            errors.append(f"tags.{key} is not an allowed tag key: use 1-128 characters not starting with 'aws:'")
        elif len(str(value)) > 256:
            errors.append(f"tags.{key} is longer than 256 characters; shorten it")
    return errors
