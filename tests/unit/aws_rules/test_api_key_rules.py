"""AWS rules for the API key secret, its replica and the API Gateway keys made from it."""

from __future__ import annotations

import re
from typing import Any

from ops.keys import api_key
from tests.support import Synth
from tests.unit.aws_rules.support import each

API_KEY_SECRET = re.compile(r"-api-key$")
KEY_ARN_REF = re.compile(r"^\$\{aws_kms_key\.([\w-]+)\.arn\}$")
API_KEY_VALUE_LENGTH = (20, 128)  # API Gateway's bounds; the provider validates the same (StringLenBetween)


def _region(synth: Synth, stack: str, resource: dict[str, Any] | None = None) -> str:
    """The region a resource of `stack` is created in: its provider's (the stack's default one unless it names
    an alias)."""
    alias = (resource or {}).get("provider", "aws").removeprefix("aws").removeprefix(".")
    [provider] = [p for p in synth[stack]["provider"]["aws"] if p.get("alias", "") == alias]
    region: str = provider["region"]
    return region


def _key_of(synth: Synth, stack: str, reference: str) -> dict[str, Any]:
    match = KEY_ARN_REF.match(reference)
    assert match, f"{stack}: {reference!r} is not a key of this stack"
    key: dict[str, Any] = synth.resources(stack, "aws_kms_key")[match.group(1)]
    return key


def test_api_key_secret_is_encrypted_with_the_region_key_of_its_region(aws: Synth) -> None:
    """A secret is encrypted with a KMS key of its own Region: KMS keys are regional (only multi-Region keys have
    related copies elsewhere), and Secrets Manager uses the key given by KmsKeyId (aws/secretsmanager otherwise).
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html
    https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html"""
    secrets = each(aws, "aws_secretsmanager_secret", where=lambda s: bool(API_KEY_SECRET.search(s["name"])))
    assert [stack for stack, _, _ in secrets] == [api_key.DATA_PRIMARY]  # one secret; the replica is ops'
    for stack, _, secret in secrets:
        key = _key_of(aws, stack, secret["kms_key_id"])
        assert _region(aws, stack, key) == _region(aws, stack, secret)


def test_replica_is_encrypted_with_a_key_of_the_replica_region(aws: Synth) -> None:
    """ReplicateSecretToRegions encrypts each replica with the KmsKeyId given for its Region, which must be a key in
    that Region (a key is regional). ops.keys passes data-secondary's `key_arn` output: the region key created by
    data-secondary's default provider, in the secondary region -- where compute-secondary reads the replica --
    and not the primary's.
    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ReplicateSecretToRegions.html
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/replicate-secrets.html"""
    replica_key_output = aws.outputs(api_key.DATA_SECONDARY)[api_key.KEY_OUTPUT]["value"]
    key = _key_of(aws, api_key.DATA_SECONDARY, replica_key_output)
    assert len(each(aws, "aws_kms_key", at_least=2)) >= 2, "count guard: one region key per data stack"
    replica_region = _region(aws, api_key.DATA_SECONDARY, key)
    assert replica_region == _region(aws, "compute-secondary")  # the region that reads the replica
    assert replica_region != _region(aws, api_key.DATA_PRIMARY)  # a replica is never in the secret's own region


def test_api_key_values_are_20_to_128_characters_and_keys_are_never_replaced_in_place(aws: Synth) -> None:
    """API Gateway takes an API key value of at least 20 characters (the provider: 20 to 128), and `value` forces a
    new key (ForceNew), so a value change would delete the key before creating its successor. Every key's value is
    one of the secret's (ops.keys generates KEY_LENGTH letters and digits), one resource per key id (for_each), so
    a rotation adds a key and a retirement removes one; none is replaced.
    https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_apigateway.ApiKeyOptions.html
    https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/api_gateway_api_key"""
    low, high = API_KEY_VALUE_LENGTH
    assert low <= api_key.KEY_LENGTH <= high
    assert all(low <= len(api_key.new_value()) <= high for _ in range(20))
    keys = each(aws, "aws_api_gateway_api_key", at_least=2)  # one keyed resource per region
    for stack, _, key in keys:
        assert key["for_each"].startswith(
            "${toset(nonsensitive(keys(jsondecode(data.aws_secretsmanager_secret_version."
        )
        assert key["value"].endswith(".secret_string).keys[each.value]}"), stack
