"""AWS KMS rules for the region keys."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

from tests.support import Synth
from tests.unit.aws_rules.support import each


def test_customer_managed_keys_rotate_and_wait_at_least_seven_days_before_deletion(aws: Synth) -> None:
    """Automatic rotation is off by default for customer managed keys and must be enabled; the deletion
    waiting period is 7 to 30 days.
    https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html
    https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html"""
    keys = each(aws, "aws_kms_key", at_least=2)  # one region key per data stack
    assert [name for _, name, key in keys if key.get("enable_key_rotation") is not True] == []
    assert all(7 <= key["deletion_window_in_days"] <= 30 for _, _, key in keys)


def _statements(aws: Synth) -> list[dict[str, Any]]:
    """The region keys' policy statements (one key per data stack)."""
    keys = [key for stack, _, key in each(aws, "aws_kms_key", at_least=2) if stack.startswith("data-")]
    assert len(keys) >= 2, "count guard: one region key per data stack"
    return [s for key in keys for s in json.loads(key["policy"])["Statement"]]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def test_create_grant_only_for_aws_resources(aws: Synth) -> None:
    """A principal allowed kms:CreateGrant can grant itself Decrypt. No region key statement grants it (by name or by a
    wildcard such as kms:Create*) without `kms:GrantIsForAWSResource`, which only AWS services integrated
    with KMS satisfy; the administrators' actions are listed one by one.
    https://docs.aws.amazon.com/kms/latest/developerguide/grants.html
    https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-is-for-aws-resource"""
    for statement in _statements(aws):
        if any(fnmatchcase("kms:CreateGrant", action) for action in _actions(statement)):
            assert statement["Condition"]["Bool"]["kms:GrantIsForAWSResource"] == "true", statement["Sid"]
    admin = [s for s in _statements(aws) if s["Sid"] == "AccountAdministersKey"]
    assert len(admin) >= 2
    assert [a for s in admin for a in _actions(s) if "*" in a] == []


def test_eventbridge_can_encrypt_into_queues_with_a_condition_it_satisfies(aws: Synth) -> None:
    """EventBridge delivering to an SQS queue encrypted with a customer managed key needs kms:GenerateDataKey
    and kms:Decrypt in the key policy for events.amazonaws.com; its KMS calls (made through SQS) carry no
    aws:SourceAccount or aws:SourceArn, so a statement conditioned on them drops every event silently.
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-troubleshooting.html"""
    events = [s for s in _statements(aws) if s.get("Principal", {}).get("Service") == "events.amazonaws.com"]
    assert len(events) >= 2  # one per region key
    for statement in events:
        assert {"kms:GenerateDataKey", "kms:Decrypt"} <= set(_actions(statement))
        conditions = json.dumps(statement.get("Condition", {}))
        assert "aws:SourceAccount" not in conditions
        assert "aws:SourceArn" not in conditions
