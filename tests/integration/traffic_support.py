"""What the traffic tests share: the weights Route 53 carries, the persisted split, the region alarm, the way back."""

from __future__ import annotations

import json
from typing import Any

from harness.platform import Platform
from shared import api_names

Weights = tuple[int | None, int | None]


def entry_name(platform: Platform) -> str:
    """The entry as Route 53 lists it (fully qualified, trailing dot)."""
    return api_names.entry_name(platform.settings.dns) + "."


def route53_weights(route53: Any, zone_id: str, name: str) -> Weights:
    """(primary, secondary) weights of the weighted entry records, as Route 53 has them now."""
    found: dict[str, int] = {}
    for record in route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]:
        if record["Name"] == name and "Weight" in record:
            found[record["SetIdentifier"]] = int(record["Weight"])
    return found.get("primary"), found.get("secondary")


def persisted(platform: Platform) -> dict[str, Any]:
    settings = platform.settings
    s3 = platform.client("s3", "primary")
    key = f"{settings.environment}/traffic/split.json"
    return json.loads(s3.get_object(Bucket=settings.state.bucket, Key=key)["Body"].read())


def set_alarm(platform: Platform, role: str, state: str) -> str:
    name = platform.outputs()[f"compute-{role}"]["region_unhealthy_alarm_name"]
    platform.client("cloudwatch", role).set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")
    return name


def back_to_primary(platform: Platform) -> None:
    platform.must("rollout", "--to", "primary", "--steps", "100", "--bake", "0")
