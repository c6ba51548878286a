"""Seed 000: a migration batch's resources carry `MigrationBatch`, through every provider's default tags.

AWS's tag rules (https://docs.aws.amazon.com/personalize/latest/dg/personalize-managing-tags.html, "the standard set
of characters available across AWS services that support tags"; the same limits in ECS's Tag,
https://docs.aws.amazon.com/sdkfornet/v3/apidocs/items/ECS/TTag.html): a value is at most 256 Unicode characters of
letters, digits, spaces and `_ . : / = + - @`, and `aws:` in any case is reserved as a prefix of keys and values.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from config import ConfigError, load_settings
from shared.tags import MIGRATION_BATCH_TAG
from tests.conftest import AWS_PROD_MIGRATION_BATCH
from tests.support import STACKS, Synth

AWS_TAG_VALUE = re.compile(r"(?![Aa][Ww][Ss]:)[\w +=.:/@-]{0,256}")


def provider_tags(synth: Synth) -> list[tuple[str, dict[str, str]]]:
    """(stack, default tags) of every aws provider block, aliases included; fails when a stack has none."""
    found: list[tuple[str, dict[str, Any]]] = [
        (stack, provider["default_tags"][0]["tags"])
        for stack, body in synth.stacks.items()
        for provider in body["provider"]["aws"]
    ]
    assert {stack for stack, _ in found} == set(STACKS), "count guard: every stack has an aws provider"
    assert len(found) > len(STACKS), "count guard: the peer-region providers (aliases) are checked too"
    return found


def test_every_provider_tags_the_migration_batch_when_one_is_set(aws_prod: Synth) -> None:
    """Every aws provider (aliases too) tags with the batch, a value AWS accepts on every service that takes tags
    (https://docs.aws.amazon.com/personalize/latest/dg/personalize-managing-tags.html)."""
    for stack, tags in provider_tags(aws_prod):
        assert tags.get(MIGRATION_BATCH_TAG) == AWS_PROD_MIGRATION_BATCH, stack
        assert AWS_TAG_VALUE.fullmatch(tags[MIGRATION_BATCH_TAG])


def test_no_provider_has_the_tag_when_the_batch_is_empty(aws_dev: Synth) -> None:
    """Empty adds no tag rather than an empty value: AWS would accept an empty value
    (https://docs.aws.amazon.com/personalize/latest/dg/personalize-managing-tags.html), but no batch is no tag."""
    for stack, tags in provider_tags(aws_dev):
        assert MIGRATION_BATCH_TAG not in tags, stack


@pytest.mark.parametrize("value", ["aws:batch", "AWS:batch", "x" * 257, "batch;1", "batch\n1", "batch#1"])
def test_the_setting_refuses_a_value_aws_refuses(value: str) -> None:
    """Over 256 characters, a character outside the standard set, or the reserved aws: prefix: refused before synth
    (https://docs.aws.amazon.com/sdkfornet/v3/apidocs/items/ECS/TTag.html)."""
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={"PAYMENTS_DOTENV": "none", "PAYMENTS_MIGRATION_BATCH": value})
    assert len(raised.value.lines) == 1
    assert raised.value.lines[0].startswith("migration.batch=")
    assert "PAYMENTS_MIGRATION_BATCH" in raised.value.lines[0]


@pytest.mark.parametrize("value", ["batch-1", "x" * 256, "Welle 2/eu-west-1", "ä_ö:2026=+@.", ""])
def test_the_setting_takes_every_value_aws_takes(value: str) -> None:
    """Unicode letters, digits, spaces and _ . : / = + - @ up to 256 characters are accepted
    (https://docs.aws.amazon.com/sdkfornet/v3/apidocs/items/ECS/TTag.html)."""
    settings = load_settings(environ={"PAYMENTS_DOTENV": "none", "PAYMENTS_MIGRATION_BATCH": value})
    assert settings.migration.batch == value
    assert AWS_TAG_VALUE.fullmatch(value)
