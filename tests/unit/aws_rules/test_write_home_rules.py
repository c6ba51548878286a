"""AWS rules for the write home's SSM parameters and the grant that reads them (docs/write-home.md)."""

from __future__ import annotations

import json
import re

from shared import write_home
from tests.support import Synth
from tests.unit.aws_rules.support import each

NAME_CHARACTERS = re.compile(r"[a-zA-Z0-9_.\-/]+")
MAX_NAME_LENGTH = 1011
MAX_HIERARCHY_DEPTH = 15


def test_write_home_parameter_names_meet_parameter_store_constraints(aws: Synth) -> None:
    """A parameter in a hierarchy is fully qualified (leading `/`); names use only a-zA-Z0-9_.-/, are at most 1011
    characters, at most fifteen levels deep, and may not begin with "aws" or "ssm" (any case), else PutParameter
    fails. https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-parameter-name-constraints.html"""
    found = each(
        aws, "aws_ssm_parameter", at_least=2, where=lambda p: p["name"].endswith(f"/{write_home.PARAMETER_COMPONENT}")
    )
    for stack, _, parameter in found:
        name = parameter["name"]
        assert name.startswith("/"), stack
        assert NAME_CHARACTERS.fullmatch(name), stack
        assert len(name) <= MAX_NAME_LENGTH, stack
        assert len(name.strip("/").split("/")) <= MAX_HIERARCHY_DEPTH, stack
        assert not name.lstrip("/").lower().startswith(("aws", "ssm")), stack
    assert {stack for stack, _, _ in found} == {"compute-primary", "compute-secondary"}


def test_parameter_reads_are_granted_on_one_parameter_arn_never_a_path(aws: Synth) -> None:
    """Access granted on a parameter path reaches every level below it (even an explicit deny on a child does not
    stop GetParametersByPath on the parent), so a function that must read one parameter is granted
    ssm:GetParameter on that parameter's own ARN, with no wildcard.
    https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html"""
    grants = [
        statement
        for _, _, policy in each(aws, "aws_iam_role_policy", at_least=2)
        for statement in json.loads(policy["policy"])["Statement"]
        if any(action.startswith("ssm:") for action in statement["Action"])
    ]
    assert len(grants) >= 2, "count guard: one write home read per compute stack"
    for statement in grants:
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == ["ssm:GetParameter"]
        assert len(statement["Resource"]) == 1
        [resource] = statement["Resource"]
        assert "*" not in resource
        # The parameter's own reference in its stack, or (the rollout engine in dns-primary) its exact ARN.
        exact = re.fullmatch(r"arn:\S+:ssm:[a-z0-9-]+:\S+:parameter(/[\w/-]+)", resource)
        assert re.fullmatch(r"\$\{aws_ssm_parameter\.[\w-]+\.arn\}", resource) or (
            exact and exact.group(1).endswith("/write-home")
        ), resource
