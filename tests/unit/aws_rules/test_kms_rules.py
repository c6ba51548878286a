"""AWS KMS rules for the region keys."""

from __future__ import annotations

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
