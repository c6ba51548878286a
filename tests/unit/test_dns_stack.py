"""DnsStack, read from the JSON Terraform receives: zone, health checks, failover legs, weighted entry, weights."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ops.build.synth import synth_app
from ops.core.tool_env import clean_environ
from ops.state import traffic_split
from shared.traffic import TRAFFIC_WEIGHT_VARIABLE
from tests.support import Synth

ROLES = ("primary", "secondary")
ZONE = "payments-dev.example.internal"
ENTRY = f"api.{ZONE}"
ZONE_FROM_PRIMARY = re.compile(
    r"^\$\{data\.terraform_remote_state\.cross-stack-reference-input-dns-primary\.outputs\.cross-stack-output-[^}]+\}$"
)


def records(synth: Synth, stack: str) -> dict[str, dict[str, Any]]:
    return synth.resources(stack, "aws_route53_record")


def all_records(synth: Synth) -> list[dict[str, Any]]:
    return [r for role in ROLES for r in records(synth, f"dns-{role}").values()]


@pytest.fixture(scope="module")
def existing_zone(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """dev with an existing zone and a 70/30 default split."""
    outdir = tmp_path_factory.mktemp("existing-zone") / "cdktf.out"
    result = synth_app(outdir, PAYMENTS_DNS_EXISTING_ZONE_ID="Z0123456789ABC", PAYMENTS_DNS_PRIMARY_WEIGHT="70")
    assert result.returncode == 0, result.stderr
    return Synth(outdir)


def test_the_zone_is_created_only_by_dns_primary(local_dev: Synth) -> None:
    zone = local_dev.resource("dns-primary", "aws_route53_zone")
    assert zone["name"] == ZONE
    assert zone["force_destroy"] is True  # dev: destroyable with stray records
    assert local_dev.resources("dns-secondary", "aws_route53_zone") == {}
    assert local_dev.data_sources("dns-secondary", "aws_route53_zone") == {}
    assert "zone_id" in local_dev.outputs("dns-primary")


def test_prod_zone_is_protected(aws_prod: Synth) -> None:
    zone = aws_prod.resource("dns-primary", "aws_route53_zone")
    assert zone["force_destroy"] is False
    assert zone["lifecycle"]["prevent_destroy"] is True


def test_an_existing_zone_is_looked_up_not_created(existing_zone: Synth) -> None:
    assert existing_zone.resources("dns-primary", "aws_route53_zone") == {}
    (lookup,) = existing_zone.data_sources("dns-primary", "aws_route53_zone").values()
    assert lookup["zone_id"] == "Z0123456789ABC"
    (postcondition,) = lookup["lifecycle"]["postcondition"]
    assert f'"{ZONE}"' in postcondition["condition"]
    for record in records(existing_zone, "dns-primary").values():
        assert re.fullmatch(r"\$\{data\.aws_route53_zone\.zone_existing_[0-9A-F]+\.zone_id\}", record["zone_id"])


def test_dns_secondary_reads_the_zone_from_dns_primary_remote_state(local_dev: Synth) -> None:
    secondary = records(local_dev, "dns-secondary")
    assert len(secondary) == 4
    for record in secondary.values():
        assert ZONE_FROM_PRIMARY.match(record["zone_id"]), record["zone_id"]
    remote = local_dev.data_sources("dns-secondary", "terraform_remote_state")[
        "cross-stack-reference-input-dns-primary"
    ]
    assert remote["config"]["key"] == "dev/dns-primary.tfstate"


def test_dependencies_stay_within_the_allowed_directions(local_dev: Synth) -> None:
    stacks = local_dev.manifest["stacks"]
    assert sorted(stacks["dns-primary"]["dependencies"]) == ["compute-primary"]
    assert sorted(stacks["dns-secondary"]["dependencies"]) == ["compute-secondary", "dns-primary"]


@pytest.mark.parametrize("role", ROLES)
def test_https_health_check_on_the_regional_health_route(local_dev: Synth, role: str) -> None:
    check = local_dev.resource(f"dns-{role}", "aws_route53_health_check")
    assert check["type"] == "HTTPS"
    assert check["port"] == 443
    assert check["resource_path"] == "/v1/health"
    assert check["enable_sni"] is True
    assert (check["request_interval"], check["failure_threshold"]) == (30, 3)
    assert check["tags"]["Name"] == f"payments-dev-{role}-api-health"
    # The host of the compute stack's own stage invoke URL, read through its remote state.
    assert check["fqdn"].startswith('${element(split("/", data.terraform_remote_state.cross-stack-reference-input-')
    assert f"input-compute-{role}.outputs." in check["fqdn"]
    assert check["fqdn"].endswith("invoke_url), 2)}")


def test_the_synthesized_host_expression_yields_the_host_of_an_invoke_url(local_dev: Synth, tmp_path: Path) -> None:
    fqdn = local_dev.resource("dns-secondary", "aws_route53_health_check")["fqdn"]
    url = '"https://abc123.execute-api.eu-west-1.amazonaws.com/v1"'
    expression = re.sub(r"data\.terraform_remote_state\.\S+?invoke_url", url, fqdn[2:-1])
    result = subprocess.run(
        ["terraform", "console"],
        input=expression + "\n",
        cwd=tmp_path,
        env=clean_environ(),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.stdout.strip() == '"abc123.execute-api.eu-west-1.amazonaws.com"', (expression, result.stderr)


def test_failover_legs(local_dev: Synth) -> None:
    primary, secondary = records(local_dev, "dns-primary"), records(local_dev, "dns-secondary")
    legs = {
        (r["name"], r["failover_routing_policy"]["type"]): (stack, r)
        for stack, recs in (("dns-primary", primary), ("dns-secondary", secondary))
        for r in recs.values()
        if "failover_routing_policy" in r
    }
    assert set(legs) == {
        (f"primary.{ENTRY}", "PRIMARY"),
        (f"primary.{ENTRY}", "SECONDARY"),
        (f"secondary.{ENTRY}", "PRIMARY"),
        (f"secondary.{ENTRY}", "SECONDARY"),
    }
    # The primary leg: PRIMARY in dns-primary, SECONDARY in dns-secondary, each with its own region's check.
    assert legs[(f"primary.{ENTRY}", "PRIMARY")][0] == "dns-primary"
    assert legs[(f"primary.{ENTRY}", "SECONDARY")][0] == "dns-secondary"
    health_own = "${aws_route53_health_check.health_check_4B3E47B3.id}"
    assert legs[(f"primary.{ENTRY}", "PRIMARY")][1]["health_check_id"] == health_own
    assert legs[(f"primary.{ENTRY}", "SECONDARY")][1]["health_check_id"] == health_own
    # The secondary leg falls back to the primary region, whose host and check come from dns-primary.
    fallback = legs[(f"secondary.{ENTRY}", "SECONDARY")][1]
    assert "input-dns-primary.outputs." in fallback["health_check_id"]
    assert "input-dns-primary.outputs." in fallback["records"][0]
    for _, record in legs.values():
        assert record["type"] == "CNAME"
        assert record["ttl"] == 60
        assert len(record["records"]) == 1


def test_set_identifiers_are_unique_in_the_zone(local_dev: Synth) -> None:
    identifiers = [r["set_identifier"] for r in all_records(local_dev)]
    assert len(identifiers) == len(set(identifiers)) == 6


@pytest.mark.parametrize("role", ROLES)
def test_weighted_entry_is_an_alias_to_the_region_leg_with_the_variable_as_weight(local_dev: Synth, role: str) -> None:
    entry = records(local_dev, f"dns-{role}")["entry"]
    assert entry["name"] == ENTRY
    assert entry["type"] == "CNAME"
    assert entry["set_identifier"] == role
    assert entry["weighted_routing_policy"] == {"weight": "${var.traffic_weight}"}
    assert entry["alias"]["evaluate_target_health"] is True
    assert entry["alias"]["name"] == f"${{aws_route53_record.{role}-leg-primary.fqdn}}"
    assert entry["alias"]["zone_id"] == entry["zone_id"]
    assert "ttl" not in entry
    assert "records" not in entry
    assert local_dev.outputs(f"dns-{role}")["weight"]["value"] == "${var.traffic_weight}"


def test_no_record_has_a_literal_weight(local_dev: Synth) -> None:
    weighted = [r for r in all_records(local_dev) if "weighted_routing_policy" in r]
    assert len(weighted) == 2
    assert all(r["weighted_routing_policy"]["weight"] == "${var.traffic_weight}" for r in weighted)


@pytest.mark.parametrize(("synth_name", "defaults"), [("local_dev", (100, 0)), ("existing_zone", (70, 30))])
def test_weights_are_number_variables_defaulting_to_the_configured_split(
    request: pytest.FixtureRequest, synth_name: str, defaults: tuple[int, int]
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    for role, default in zip(ROLES, defaults, strict=True):
        variable = synth[f"dns-{role}"]["variable"][TRAFFIC_WEIGHT_VARIABLE]
        assert variable["type"] == "number"
        assert variable["default"] == default
        (validation,) = variable["validation"]
        assert "var.traffic_weight >= 0" in validation["condition"]
        assert "var.traffic_weight <= 100" in validation["condition"]


def test_ops_writes_the_variable_the_stack_declares() -> None:
    assert json.loads(traffic_split.tfvars_json("secondary", traffic_split.Split(75, 25))) == {"traffic_weight": 25}


def test_the_aws_target_gets_the_same_records(local_dev: Synth, aws_dev: Synth) -> None:
    def shape(synth: Synth) -> list[tuple[str, str, str]]:
        return sorted((r["name"], r["set_identifier"], r["type"]) for r in all_records(synth))

    assert shape(aws_dev) == shape(local_dev)
    assert "127.0.0.1" not in json.dumps(aws_dev["dns-secondary"])
