"""compute-R's write home, read from the JSON Terraform receives: the SSM parameter, the payment function's
WRITE_HOME_* variables and its one read grant (docs/write-home.md)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from config.loader import load_settings
from config.settings import ROLES
from shared import api_names, write_home
from tests.support import Synth
from tests.unit.test_compute_stack import at, ref, role_policy, stack_of, statements_by_sid

SYNTHS = ["local_dev", "aws_dev", "aws_prod"]


def write_home_parameters(synth: Synth, role: str) -> list[dict[str, Any]]:
    return [
        p
        for p in synth.resources(stack_of(role), "aws_ssm_parameter").values()
        if p["name"].endswith(f"/{write_home.PARAMETER_COMPONENT}")
    ]


@pytest.mark.parametrize("synth_name", SYNTHS)
@pytest.mark.parametrize("role", ROLES)
def test_each_region_owns_one_write_home_parameter_whose_value_ops_owns(
    request: pytest.FixtureRequest, synth_name: str, role: str
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    env = "prod" if synth_name == "aws_prod" else "dev"
    [parameter] = write_home_parameters(synth, role)  # count guard: exactly one per region
    assert parameter["name"] == f"/payments/{env}/{role}/write-home"
    assert parameter["type"] == "String"
    assert parameter["value"] == write_home.INITIAL == "primary"
    assert parameter["lifecycle"] == {"ignore_changes": ["value"]}, "Terraform must never undo a switch"


@pytest.mark.parametrize("role", ROLES)
def test_payment_processor_reads_the_write_home_from_its_environment(aws_dev: Synth, role: str) -> None:
    # The zone the dns layer creates: the origins must name it (shared.api_names builds both).
    [zone] = [z["name"] for z in aws_dev.resources("dns-primary", "aws_route53_zone").values()]
    settings = load_settings(environ={"PAYMENTS_DOTENV": "none"})
    dns = dataclasses.replace(settings.dns, zone_name=zone)
    variables = at(aws_dev, role, "aws_lambda_function", "payment-processor/function")["environment"]["variables"]
    assert variables["WRITE_HOME_PARAMETER"] == ref(aws_dev, role, "aws_ssm_parameter", "write-home/parameter", "name")
    assert variables["REGION_ROLE"] == role
    origins = json.loads(variables["WRITE_HOME_ORIGINS"])
    assert origins == {r: api_names.base_url(api_names.origin_name(dns, r)) for r in ROLES}
    assert origins["secondary"] == f"https://origin-secondary.{dns.api_record}.{zone}/v1"
    assert variables["WRITE_HOME_CACHE_SECONDS"] == str(write_home.CACHE_SECONDS)
    retry = at(aws_dev, role, "aws_lambda_function", "payment-retry/function")["environment"]["variables"]
    assert not any(name.startswith("WRITE_HOME") or name == "REGION_ROLE" for name in retry)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_payment_processor_may_read_the_write_home_and_only_that_parameter(aws_dev: Synth, role: str) -> None:
    grant = statements_by_sid(role_policy(aws_dev, role, "payment-processor"))["ReadWriteHome"]
    assert grant == {
        "Effect": "Allow",
        "Sid": "ReadWriteHome",
        "Action": ["ssm:GetParameter"],
        "Resource": [ref(aws_dev, role, "aws_ssm_parameter", "write-home/parameter", "arn")],
    }
    for other in ("payment-retry", "health", "ledger-admin"):
        actions = [a for s in statements_by_sid(role_policy(aws_dev, role, other)).values() for a in s["Action"]]
        assert not any(a.startswith("ssm:") for a in actions), other


def _all(synth: Synth) -> list[dict[str, Any]]:
    found = [p for role in ROLES for p in write_home_parameters(synth, role)]
    assert len(found) == len(ROLES)
    return found


def test_the_local_target_synthesizes_the_same_parameters(local_dev: Synth, aws_dev: Synth) -> None:
    def strip(parameter: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in parameter.items() if k not in ("//", "tags", "provider")}

    assert [strip(p) for p in _all(local_dev)] == [strip(p) for p in _all(aws_dev)]
