"""A KMS-encrypted SQS queue, optionally redriving to a dead-letter queue after a few failed receives."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

# SQS's longest retention: a dead letter waits two weeks for someone to look at it.
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
DEFAULT_RETENTION_SECONDS = 4 * 24 * 3600
KMS_DATA_KEY_REUSE_SECONDS = 300


@dataclass(frozen=True)
class Redrive:
    """Where a queue's messages go after `max_receive_count` failed receives."""

    dead_letter_queue_arn: str
    max_receive_count: int = 5

    def policy(self) -> str:
        return json.dumps(
            {"deadLetterTargetArn": self.dead_letter_queue_arn, "maxReceiveCount": self.max_receive_count}
        )


class EncryptedQueue(Construct):
    """Exposes `queue` (its `arn`, `url`, `name`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        kms_key_arn: str,
        retention_seconds: int = DEFAULT_RETENTION_SECONDS,
        visibility_timeout_seconds: int = 30,
        redrive: Redrive | None = None,
        policy: str | None = None,
        ignore_changes: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.queue = SqsQueue(
            self,
            "queue",
            name=name,
            kms_master_key_id=kms_key_arn,
            kms_data_key_reuse_period_seconds=KMS_DATA_KEY_REUSE_SECONDS,
            message_retention_seconds=retention_seconds,
            visibility_timeout_seconds=visibility_timeout_seconds,
            redrive_policy=redrive.policy() if redrive else None,
            # Inline rather than aws_sqs_queue_policy: one propagation wait per queue instead of two.
            policy=policy,
            lifecycle=TerraformResourceLifecycle(ignore_changes=list(ignore_changes)) if ignore_changes else None,
        )
