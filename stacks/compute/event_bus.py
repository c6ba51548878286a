"""The region's payment events: a custom EventBridge bus and a rule that copies `payment.created` to a queue.

The queue (encrypted with the region key) is where events can be observed and consumed. EventBridge
retries a delivery that fails (the queue's key refused, the queue throttled) within the retry policy, then
parks the event in a dead-letter queue of its own instead of dropping it. Both queues' policies let
EventBridge send only on behalf of this one rule.
"""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.cloudwatch_event_bus import CloudwatchEventBus
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetDeadLetterConfig,
    CloudwatchEventTargetRetryPolicy,
)
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from shared import iam
from shared.naming import Naming
from stacks.compute.queues import DEAD_LETTER_RETENTION_SECONDS, DEFAULT_RETENTION_SECONDS, EncryptedQueue

PAYMENT_EVENT_SOURCE = "payments.api"
PAYMENT_CREATED = "payment.created"
# EventBridge's own ceilings (and defaults), spelled out: a day of retries with backoff before an event is
# dead-lettered; a queue that is down for longer than that is an incident the dead-letter alarm reports.
MAX_EVENT_AGE_SECONDS = 24 * 3600
MAX_RETRY_ATTEMPTS = 185


class PaymentEvents(Construct):
    """Exposes `bus` (`name`, `arn`), `rule` (`name`), `queue` (the observed copy of `payment.created`) and
    `dead_letter_queue` (events EventBridge could not deliver to `queue`)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, naming: Naming, kms_key_arn: str, account_id: str, partition: str
    ) -> None:
        super().__init__(scope, construct_id)
        self._naming = naming
        self._kms_key_arn = kms_key_arn
        self._arn_prefix = f"arn:{partition}:sqs:{naming.region}:{account_id}"
        self.bus = CloudwatchEventBus(self, "bus", name=naming.name("payments"))
        self.rule = CloudwatchEventRule(
            self,
            "payment-created",
            name=naming.name("payment-created"),
            description="Every payment.created event of the payments API",
            event_bus_name=self.bus.name,
            event_pattern=json.dumps({"source": [PAYMENT_EVENT_SOURCE], "detail-type": [PAYMENT_CREATED]}),
        )
        self.queue = self._rule_queue("queue", "payment-events")
        self.dead_letter_queue = self._rule_queue(
            "dead-letter-queue", "payment-events-dlq", retention_seconds=DEAD_LETTER_RETENTION_SECONDS
        )
        CloudwatchEventTarget(
            self,
            "to-queue",
            rule=self.rule.name,
            event_bus_name=self.bus.name,
            target_id="payment-events-queue",
            arn=self.queue.arn,
            retry_policy=CloudwatchEventTargetRetryPolicy(
                maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS, maximum_retry_attempts=MAX_RETRY_ATTEMPTS
            ),
            dead_letter_config=CloudwatchEventTargetDeadLetterConfig(arn=self.dead_letter_queue.arn),
        )

    def _rule_queue(
        self, construct_id: str, name: str, *, retention_seconds: int = DEFAULT_RETENTION_SECONDS
    ) -> SqsQueue:
        """An encrypted queue that EventBridge may send to on behalf of this rule only."""
        queue_name = self._naming.name(name)
        # The queue's own ARN, spelled out: its policy cannot refer to the queue it belongs to.
        queue_arn = f"{self._arn_prefix}:{queue_name}"
        return EncryptedQueue(
            self,
            construct_id,
            name=queue_name,
            kms_key_arn=self._kms_key_arn,
            policy=iam.document(
                iam.allow(
                    ["sqs:SendMessage"],
                    [queue_arn],
                    sid="EventBridgeRuleDelivers",
                    principals={"Service": "events.amazonaws.com"},
                    conditions={"ArnEquals": {"aws:SourceArn": self.rule.arn}},
                )
            ),
            retention_seconds=retention_seconds,
        ).queue
