"""What preflight checks, read from the synthesized aws JSON: the single source of names, versions and numbers.

Each fact carries the region its resource is created in (the stack's default provider, or the aliased one the
resource names). Values Terraform only knows at apply time (`${...}`) are left out, except where a reference to a
sibling resource's literal attribute resolves (an instance's `engine_version` from its cluster).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CALLER_ACCOUNT = re.compile(r"\$\{data\.aws_caller_identity\.[A-Za-z0-9_-]+\.account_id\}")  # shared.account
REFERENCE = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$")


@dataclass(frozen=True)
class AuroraVersion:
    region: str
    engine: str
    version: str


@dataclass(frozen=True)
class AuroraInstance:
    region: str
    engine: str
    version: str
    instance_class: str


@dataclass
class Facts:
    allowed_account_ids: set[str] = field(default_factory=set)
    reserved_concurrency: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    aurora_versions: set[AuroraVersion] = field(default_factory=set)
    aurora_instances: set[AuroraInstance] = field(default_factory=set)
    zone_names: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    zone_ids: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    zone_references: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    buckets: set[tuple[str, str]] = field(default_factory=set)  # (region, global bucket name)


def _literal(value: Any) -> str | None:
    return value if isinstance(value, str) and "${" not in value else None


class _Stack:
    def __init__(self, body: dict[str, Any]) -> None:
        self.resources: dict[str, dict[str, dict[str, Any]]] = body.get("resource", {})
        providers = body.get("provider", {}).get("aws", [])
        self.regions = {p.get("alias", ""): p.get("region", "") for p in providers}
        self.accounts = {a for p in providers for a in p.get("allowed_account_ids", [])}

    def region_of(self, config: dict[str, Any]) -> str:
        return str(self.regions.get(str(config.get("provider", "aws.")).partition(".")[2], ""))

    def each(self, rtype: str) -> list[tuple[str, dict[str, Any]]]:
        return [(self.region_of(config), config) for config in self.resources.get(rtype, {}).values()]

    def with_account(self, value: Any) -> Any:
        """`value` with the stack's account lookup replaced by the one account its provider allows."""
        if isinstance(value, str) and len(self.accounts) == 1:
            return CALLER_ACCOUNT.sub(next(iter(self.accounts)), value)
        return value

    def resolve(self, value: Any) -> str | None:
        """A literal, or the literal a `${type.name.attribute}` reference to a resource of this stack points at."""
        if isinstance(value, str) and (match := REFERENCE.match(value)):
            rtype, name, attribute = match.groups()
            return _literal(self.resources.get(rtype, {}).get(name, {}).get(attribute))
        return _literal(value)


def _lambda_and_aurora(stack: _Stack, facts: Facts) -> None:
    for region, config in stack.each("aws_lambda_function"):
        reserved, name = config.get("reserved_concurrent_executions"), _literal(config.get("function_name"))
        if isinstance(reserved, int) and reserved >= 0 and name:
            facts.reserved_concurrency[region][name] = reserved
    for rtype in ("aws_rds_global_cluster", "aws_rds_cluster"):
        for region, config in stack.each(rtype):
            engine, version = stack.resolve(config.get("engine")), stack.resolve(config.get("engine_version"))
            if engine and version:
                facts.aurora_versions.add(AuroraVersion(region, engine, version))
    for region, config in stack.each("aws_rds_cluster_instance"):
        engine, version = stack.resolve(config.get("engine")), stack.resolve(config.get("engine_version"))
        instance_class = stack.resolve(config.get("instance_class"))
        if engine and version and instance_class:
            facts.aurora_instances.add(AuroraInstance(region, engine, version, instance_class))


def _zones_and_buckets(stack: _Stack, facts: Facts) -> None:
    for region, config in stack.each("aws_subnet"):
        for key, found in (("availability_zone", facts.zone_names), ("availability_zone_id", facts.zone_ids)):
            value = config.get(key)
            if literal := _literal(value):
                found[region].add(literal)
            elif isinstance(value, str):
                facts.zone_references[region].add(value)
    for region, config in stack.each("aws_s3_bucket"):
        if name := _literal(stack.with_account(config.get("bucket"))):
            facts.buckets.add((region, name))


def read_facts(outdir: Path) -> Facts:
    facts = Facts()
    for path in sorted(outdir.glob("stacks/*/cdk.tf.json")):
        stack = _Stack(json.loads(path.read_text()))
        facts.allowed_account_ids |= stack.accounts
        _lambda_and_aurora(stack, facts)
        _zones_and_buckets(stack, facts)
    return facts
