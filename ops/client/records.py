"""The hosted zone's records as Route 53 lists them (ListResourceRecordSets), in the shape the resolver walks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config.settings import Settings
from ops.client.aws import client
from ops.core.errors import NotDeployedError

ADDRESS_TYPES = ("A", "AAAA", "CNAME")  # what a client's lookup of a host name can meet


def fqdn(name: str) -> str:
    """Route 53 answers names with a trailing dot and may escape nothing we use: compare them bare, lower case."""
    return name.rstrip(".").lower()


@dataclass(frozen=True)
class Alias:
    dns_name: str
    zone_id: str
    evaluate_target_health: bool


@dataclass(frozen=True)
class Record:
    name: str
    type: str
    set_identifier: str | None = None
    weight: int | None = None
    failover: str | None = None  # PRIMARY | SECONDARY
    health_check_id: str | None = None
    alias: Alias | None = None
    values: tuple[str, ...] = ()

    def describe(self) -> str:
        policy = (
            f" weighted {self.set_identifier} (weight {self.weight})"
            if self.weight is not None
            else f" failover {self.failover} ({self.set_identifier})"
            if self.failover
            else ""
        )
        target = f"alias {self.alias.dns_name}" if self.alias else ", ".join(self.values)
        return f"{self.name} {self.type}{policy} -> {target}"


def parse(raw: dict[str, Any]) -> Record:
    alias = raw.get("AliasTarget")
    return Record(
        name=fqdn(raw["Name"]),
        type=raw["Type"],
        set_identifier=raw.get("SetIdentifier"),
        weight=int(raw["Weight"]) if "Weight" in raw else None,
        failover=raw.get("Failover"),
        health_check_id=raw.get("HealthCheckId"),
        alias=Alias(fqdn(alias["DNSName"]), bare_zone_id(alias["HostedZoneId"]), bool(alias["EvaluateTargetHealth"]))
        if alias
        else None,
        values=tuple(fqdn(v["Value"]) for v in raw.get("ResourceRecords", [])),
    )


def bare_zone_id(zone_id: str) -> str:
    """`/hostedzone/Z123` (ListHostedZones) and `Z123` (alias targets) name the same zone."""
    return zone_id.rsplit("/", 1)[-1]


def zone_id(settings: Settings) -> str:
    """The configured zone: `dns.existing_zone_id`, else the hosted zone named `dns.zone_name`."""
    if settings.dns.existing_zone_id:
        return bare_zone_id(settings.dns.existing_zone_id)
    name = fqdn(settings.dns.zone_name)
    found = client(settings, "route53", settings.regions.primary).list_hosted_zones_by_name(DNSName=name)
    for zone in found.get("HostedZones", []):
        if fqdn(zone["Name"]) == name:
            return bare_zone_id(zone["Id"])
    raise NotDeployedError(f"no hosted zone {name} (dns.zone_name): deploy dns-primary first (`make deploy-primary`)")


def zone_records(settings: Settings, zone: str) -> dict[str, list[Record]]:
    """Every address record of the zone, grouped by name."""
    paginator = client(settings, "route53", settings.regions.primary).get_paginator("list_resource_record_sets")
    grouped: dict[str, list[Record]] = {}
    for page in paginator.paginate(HostedZoneId=zone):
        for raw in page["ResourceRecordSets"]:
            if raw["Type"] in ADDRESS_TYPES:
                record = parse(raw)
                grouped.setdefault(record.name, []).append(record)
    return grouped
