"""The region's payment events: a custom EventBridge bus and a rule that copies `payment.created` to a queue.

The queue (encrypted with the region key) is where events can be observed and consumed; its
policy lets EventBridge send only on behalf of this one rule.
"""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.cloudwatch_event_bus import CloudwatchEventBus
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from constructs import Construct

from shared import iam
from shared.naming import Naming
from stacks.compute.queues import EncryptedQueue

PAYMENT_EVENT_SOURCE = "payments.api"
PAYMENT_CREATED = "payment.created"


class PaymentEvents(Construct):
    """Exposes `bus` (`name`, `arn`), `rule` and `queue` (the observed copy of `payment.created`)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, naming: Naming, kms_key_arn: str, account_id: str, partition: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.bus = CloudwatchEventBus(self, "bus", name=naming.name("payments"))
        self.rule = CloudwatchEventRule(
            self,
            "payment-created",
            name=naming.name("payment-created"),
            description="Every payment.created event of the payments API",
            event_bus_name=self.bus.name,
            event_pattern=json.dumps({"source": [PAYMENT_EVENT_SOURCE], "detail-type": [PAYMENT_CREATED]}),
        )
        queue_name = naming.name("payment-events")
        # The queue's own ARN, spelled out: its policy cannot refer to the queue it belongs to.
        queue_arn = f"arn:{partition}:sqs:{naming.region}:{account_id}:{queue_name}"
        self.queue = EncryptedQueue(
            self,
            "queue",
            name=queue_name,
            kms_key_arn=kms_key_arn,
            policy=iam.document(
                iam.allow(
                    ["sqs:SendMessage"],
                    [queue_arn],
                    sid="EventBridgeRuleDelivers",
                    principals={"Service": "events.amazonaws.com"},
                    conditions={"ArnEquals": {"aws:SourceArn": self.rule.arn}},
                )
            ),
        ).queue
        CloudwatchEventTarget(
            self,
            "to-queue",
            rule=self.rule.name,
            event_bus_name=self.bus.name,
            target_id="payment-events-queue",
            arn=self.queue.arn,
        )
