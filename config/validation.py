"""Validation of raw settings: one line per bad field, naming the field, the value and what is allowed."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from config.schema import FIELDS, KIND_NAMES, REGION_AZ_LETTERS, REQUIRED_TAGS


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
            letters = REGION_AZ_LETTERS[regions[role]]
            if network["az_count"] > len(letters):
                errors.append(
                    f"network.az_count={network['az_count']} exceeds the {len(letters)} zones of {regions[role]} "
                    f"(regions.{role}); {_fix_hint('network.az_count', env)}"
                )
    compute = raw.get("compute", {})
    throttle_fields = {"compute.api_throttle_rate_limit", "compute.api_throttle_burst_limit"}
    if not bad & throttle_fields and compute["api_throttle_burst_limit"] < compute["api_throttle_rate_limit"]:
        errors.append(
            f"compute.api_throttle_burst_limit={compute['api_throttle_burst_limit']} is below "
            f"compute.api_throttle_rate_limit={compute['api_throttle_rate_limit']}; "
            f"{_fix_hint('compute.api_throttle_burst_limit', env)}"
        )
    if "compute.max_amount" not in bad and Decimal(str(compute["max_amount"])) > Decimal("1000000000"):
        errors.append(
            f"compute.max_amount={compute['max_amount']!r} is above 1000000000; {_fix_hint('compute.max_amount', env)}"
        )
    errors += _check_prod_notifies(raw, env, bad)
    errors += _check_tags(raw.get("tags", {}), env)
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
