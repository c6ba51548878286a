"""The pieces of a failover after losing a region that can be checked without a deployment: Route 53's weights set
straight through its API (against a private emulator), which region a rejoin brings back, and the drill's bounds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from config.settings import ROLES, Settings
from ops.core.aws_clients import client
from ops.core.errors import RefusedError
from ops.drill.run import RTO_BOUND_SECONDS, Figures
from ops.state.traffic_split import Split
from ops.traffic import region_loss
from ops.traffic.rejoin import returning_role
from shared.api_names import entry_name, leg_name
from tests.unit.private_emulator import private_emulator


@pytest.fixture(scope="module")
def emulated() -> Iterator[Settings]:
    with private_emulator() as settings:
        yield settings


def _zone_with_entry(settings: Settings, weights: Split) -> tuple[Any, str]:
    route53 = client(settings, "route53", settings.regions.primary)
    zone_id = route53.create_hosted_zone(Name=settings.dns.zone_name, CallerReference="region-loss")["HostedZone"][
        "Id"
    ].split("/")[-1]
    changes = [
        {
            "Action": "CREATE",
            "ResourceRecordSet": {
                "Name": entry_name(settings.dns),
                "Type": "A",
                "SetIdentifier": role,
                "Weight": weights.share(role),
                "AliasTarget": {
                    "HostedZoneId": zone_id,
                    "DNSName": leg_name(settings.dns, role),
                    "EvaluateTargetHealth": True,
                },
            },
        }
        for role in ROLES
    ]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    return route53, zone_id


def _weights(route53: Any, zone_id: str, settings: Settings) -> dict[str, int]:
    name = entry_name(settings.dns) + "."
    records = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {r["SetIdentifier"]: r["Weight"] for r in records if r["Name"] == name and "SetIdentifier" in r}


def test_route53_weights_move_in_one_change_and_keep_the_alias(emulated: Settings) -> None:
    route53, zone_id = _zone_with_entry(emulated, Split(100, 0))

    check = region_loss.set_route53_weights(emulated, zone_id, Split.all_to("secondary"))

    assert (check.outcome, check.detail) == ("ok", "entry weights 0/100 (primary/secondary) set through Route 53's API")
    assert _weights(route53, zone_id, emulated) == {"primary": 0, "secondary": 100}
    name = entry_name(emulated.dns) + "."
    records = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    aliases = {r["SetIdentifier"]: r["AliasTarget"] for r in records if r["Name"] == name and "SetIdentifier" in r}
    assert len(aliases) == len(ROLES)
    for role, alias in aliases.items():
        assert alias["DNSName"].rstrip(".") == leg_name(emulated.dns, role)  # type: ignore[arg-type]
        assert alias["EvaluateTargetHealth"] is True


def test_route53_weights_refuse_a_zone_without_both_weighted_records(emulated: Settings) -> None:
    route53 = client(emulated, "route53", emulated.regions.primary)
    empty = route53.create_hosted_zone(Name="empty.example.internal", CallerReference="empty")["HostedZone"]["Id"]

    check = region_loss.set_route53_weights(emulated, empty.split("/")[-1], Split.all_to("secondary"))

    assert check.outcome == "FAIL"
    assert check.detail == "the entry's weighted records are not both there (found [])"


def test_route53_unreachable_is_a_note_not_a_stop(emulated: Settings) -> None:
    """Route 53's control plane down as well: the health-check failover (data plane) still routes the lost leg."""
    check = region_loss.set_route53_weights(emulated, "ZNOSUCHZONE", Split.all_to("secondary"))

    assert check.outcome == "note"
    assert "the health-check failover still answers the lost region's leg with the survivor" in check.detail


@pytest.mark.parametrize(("split", "returning"), [(Split(0, 100), "primary"), (Split(100, 0), "secondary")])
def test_rejoin_brings_back_the_region_without_traffic(split: Split, returning: str) -> None:
    assert returning_role(split) == returning


def test_rejoin_refuses_a_split_that_no_unplanned_failover_leaves() -> None:
    with pytest.raises(RefusedError, match=r"^rejoin: the split is 50/50 \(primary/secondary\), not all on one region"):
        returning_role(Split(50, 50))


def _figures(**changes: Any) -> Figures:
    passing: dict[str, Any] = {
        "rto_seconds": 120.0,
        "detection_seconds": 90.0,
        "failover_seconds": 20.0,
        "lost_region_requests": 0,
        "acknowledged": 40,
        "missing": [],
        "explained_missing": [],
        "duplicates": [],
        "loss_bound": "table replication lag p99 40 ms",
        "reconcile_code": 0,
    }
    return Figures(**{**passing, **changes})


def test_the_drill_passes_only_within_every_bound() -> None:
    assert _figures().misses() == []
    assert _figures(explained_missing=["pay_1"]).misses() == []  # within the stated replication lag
    assert _figures(rto_seconds=RTO_BOUND_SECONDS + 1).misses() == [
        f"RTO {RTO_BOUND_SECONDS + 1} s is over the bound of {RTO_BOUND_SECONDS:.0f} s"
    ]
    assert _figures(rto_seconds=None).misses() == [f"RTO None s is over the bound of {RTO_BOUND_SECONDS:.0f} s"]
    assert _figures(lost_region_requests=2).misses() == ["the failover sent 2 request(s) to the lost region"]
    assert _figures(missing=["pay_2"]).misses() == ["1 acknowledged payment(s) missing beyond the stated bound"]
    assert _figures(duplicates=["pay_3: created at a, b"]).misses() == ["1 duplicate payment(s)"]
    assert _figures(reconcile_code=2).misses() == ["make reconcile exited 2"]
