"""ComputeStack: the payments API of one region.

Three functions run the payment runtime of `lambda_src/`: `payment-processor` behind
`POST /payments` and `GET /payments/{id}`, `health` behind `GET /health`, and `payment-retry`, which
redrives failed audit/event steps from the retry queue. The stack also owns the region's event bus,
its queues, alarms, dashboard and runtime parameters. Every grant between these parts is written
here, where it can be read in one place.
"""

from __future__ import annotations

from typing import Any

from cdktf_cdktf_provider_aws.lambda_event_source_mapping import LambdaEventSourceMapping
from constructs import Construct

from config.settings import Role, Settings
from shared import iam
from shared.local_target import ignored_locally, is_local
from stacks.base import PlatformStack
from stacks.compute.dashboard import RegionDashboard
from stacks.compute.event_bus import PaymentEvents
from stacks.compute.lambda_function import LambdaPackage, PlatformFunction, lambda_package
from stacks.compute.monitoring import RegionAlarms, Watched
from stacks.compute.payments_api import ApiGatewayAccountLogging, PaymentsApi, Route, UsageLimits
from stacks.compute.queues import DEAD_LETTER_RETENTION_SECONDS, EncryptedQueue, Redrive
from stacks.compute.runtime_parameters import RuntimeParameters
from stacks.data.stack import DataStack
from stacks.network.stack import NetworkStack

STAGE_NAME = "v1"
HEALTH_PATH = "/health"
LOG_LEVEL = "INFO"
AUDIT_PREFIX = "audit/payments/"
# A retry message is tried this many times before it is parked in the retry dead-letter queue.
RETRY_MAX_RECEIVES = 5
RETRY_BATCH_SIZE = 10
# AWS asks for a visibility timeout of at least six times the consumer's timeout.
RETRY_VISIBILITY_FACTOR = 6
SENSITIVE_OUTPUTS = frozenset({"api_key_value"})


class ComputeStack(PlatformStack):
    """Exposes `api_id`, `api_endpoint`, `api_stage_name`, `health_path`, `region_unhealthy_alarm_name`,
    `alarm_names` and `alarm_topic_arn` for the DNS layer."""

    layer = "compute"

    def __init__(
        self, scope: Construct, *, settings: Settings, role: Role, network: NetworkStack, data: DataStack
    ) -> None:
        super().__init__(scope, settings=settings, role=role)
        self.network = network
        self.data = data
        self.add_dependency(network)
        self.add_dependency(data)
        compute = settings.compute
        naming = self.naming
        key_arn = data.key_arn

        # Queues: failed async invocations, failed payment steps (retried), and retries that never succeed.
        dlq = EncryptedQueue(
            self,
            "dlq",
            name=naming.name("dlq"),
            kms_key_arn=key_arn,
            retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
        ).queue
        retry_dlq = EncryptedQueue(
            self,
            "retry-dlq",
            name=naming.name("retry-dlq"),
            kms_key_arn=key_arn,
            retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
        ).queue
        retry = EncryptedQueue(
            self,
            "retry",
            name=naming.name("retry"),
            kms_key_arn=key_arn,
            visibility_timeout_seconds=RETRY_VISIBILITY_FACTOR * compute.lambda_timeout_seconds,
            redrive=Redrive(retry_dlq.arn, max_receive_count=RETRY_MAX_RECEIVES),
            ignore_changes=ignored_locally(settings, "sqs-redrive-policy-format"),
        ).queue
        events = PaymentEvents(
            self, "events", naming=naming, kms_key_arn=key_arn, account_id=self.account_id, partition=self.partition
        )

        runtime_env = {
            "PAYMENTS_TABLE": data.table_name,
            "AUDIT_BUCKET": data.audit_bucket_name,
            "AUDIT_KMS_KEY_ID": key_arn,
            "EVENT_BUS_NAME": events.bus.name,
            "AUDIT_RETRY_QUEUE_URL": retry.url,
            "REGION": self.region,
            "MAX_AMOUNT": compute.max_amount,
            "ALLOWED_CURRENCIES": ",".join(compute.allowed_currencies),
            "LOG_LEVEL": LOG_LEVEL,
        }
        audit_objects = f"{data.audit_bucket_arn}/{AUDIT_PREFIX}*"
        payments_code = lambda_package(self, "payment-processor-code", function="payment_processor")
        health_code = lambda_package(self, "health-code", function="health")

        def function(
            construct_id: str,
            *,
            description: str,
            code: LambdaPackage,
            entry: str = "handler",
            environment: dict[str, str],
            statements: list[dict[str, Any]],
        ) -> PlatformFunction:
            return PlatformFunction(
                self,
                construct_id,
                name=naming.name(construct_id),
                description=description,
                package=code,
                entry=entry,
                memory_mb=compute.lambda_memory_mb,
                timeout_seconds=compute.lambda_timeout_seconds,
                reserved_concurrency=compute.reserved_concurrency,
                environment=environment,
                kms_key_arn=key_arn,
                subnet_ids=network.private_subnet_ids,
                security_group_ids=[network.lambda_sg_id],
                log_retention_days=compute.log_retention_days,
                dead_letter_queue_arn=dlq.arn,
                statements=statements,
                ignore_changes=ignored_locally(settings, "lambda-dead-letter-config"),
            )

        # The runtime reads and writes single items by payment_id and never queries an index:
        # no grant on the table's /index/* (add dynamodb:Query there when a read path needs a GSI).
        payment = function(
            "payment-processor",
            description="Payments API: POST /payments and GET /payments/{id}",
            code=payments_code,
            environment=runtime_env,
            statements=[
                iam.allow(
                    ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                    [data.table_arn],
                    sid="PaymentItems",
                ),
                iam.allow(["s3:PutObject"], [audit_objects], sid="WriteAuditRecords"),
                iam.allow(["events:PutEvents"], [events.bus.arn], sid="PublishPaymentEvents"),
                iam.allow(["sqs:SendMessage"], [retry.arn], sid="QueueFailedSteps"),
            ],
        )
        retry_consumer = function(
            "payment-retry",
            description="Redrives failed audit/event steps from the retry queue",
            code=payments_code,
            entry="retry_handler",
            environment=runtime_env,
            statements=[
                iam.allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], [data.table_arn], sid="PaymentItems"),
                iam.allow(["s3:PutObject"], [audit_objects], sid="WriteAuditRecords"),
                iam.allow(["events:PutEvents"], [events.bus.arn], sid="PublishPaymentEvents"),
                iam.allow(
                    ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                    [retry.arn],
                    sid="ConsumeRetryQueue",
                ),
            ],
        )
        health = function(
            "health",
            description="GET /health: the region and whether its table and bucket answer",
            code=health_code,
            environment={
                "PAYMENTS_TABLE": data.table_name,
                "AUDIT_BUCKET": data.audit_bucket_name,
                "REGION": self.region,
                "LOG_LEVEL": LOG_LEVEL,
            },
            statements=[
                iam.allow(["dynamodb:DescribeTable"], [data.table_arn], sid="DescribeTable"),
                # HeadBucket is authorized by s3:ListBucket.
                iam.allow(["s3:ListBucket"], [data.audit_bucket_arn], sid="HeadAuditBucket"),
            ],
        )
        LambdaEventSourceMapping(
            self,
            "retry-source",
            event_source_arn=retry.arn,
            function_name=retry_consumer.function.arn,
            batch_size=RETRY_BATCH_SIZE,
            function_response_types=["ReportBatchItemFailures"],
        )

        api = PaymentsApi(
            self,
            "api",
            naming=naming,
            routes=[
                Route("POST", "/payments", payment.function, api_key_required=True),
                Route("GET", "/payments/{id}", payment.function, api_key_required=True),
                Route("GET", HEALTH_PATH, health.function, api_key_required=False),
            ],
            stage_name=STAGE_NAME,
            limits=UsageLimits(
                rate_limit=compute.api_throttle_rate_limit,
                burst_limit=compute.api_throttle_burst_limit,
                quota_per_day=compute.api_quota_per_day,
            ),
            kms_key_arn=key_arn,
            log_retention_days=compute.log_retention_days,
            account_logging=ApiGatewayAccountLogging(
                self, "api-logging", naming=naming, account_id=self.account_id, partition=self.partition
            ),
        )

        functions = {
            "payment-processor": payment.function.function_name,
            "payment-retry": retry_consumer.function.function_name,
            "health": health.function.function_name,
        }
        alarms = RegionAlarms(
            self,
            "alarms",
            naming=naming,
            kms_key_arn=key_arn,
            alarm_email=compute.alarm_email,
            watched=Watched(
                functions=functions,
                critical_functions=["payment-processor"],
                api_name=api.rest_api.name,
                api_stage=api.stage.stage_name,
                table_name=data.table_name,
                dead_letter_queues={"dlq": dlq.name, "retry-dlq": retry_dlq.name},
                replica_cluster_identifier=data.cluster_identifier if role == "secondary" else None,
            ),
            # Gap "composite-alarm": the emulator cannot create composite alarms.
            composite=not is_local(settings),
        )
        dashboard = RegionDashboard(
            self,
            "dashboard",
            name=naming.name("payments"),
            region=self.region,
            api_name=api.rest_api.name,
            api_stage=api.stage.stage_name,
            functions=functions,
            table_name=data.table_name,
            queues={
                "retry": retry.name,
                "payment-events": events.queue.name,
                "dlq": dlq.name,
                "retry-dlq": retry_dlq.name,
            },
            alarm_arns=alarms.alarm_arns,
        )
        RuntimeParameters(
            self,
            "parameters",
            path=lambda name: naming.path("config", name),
            values={
                "table-name": data.table_name,
                "audit-bucket": data.audit_bucket_name,
                "event-bus": events.bus.name,
                "retry-queue-url": retry.url,
                "api-endpoint": api.stage.invoke_url,
                "max-amount": compute.max_amount,
                "allowed-currencies": ",".join(compute.allowed_currencies),
            },
            secrets={"api-key": api.api_key.value},
            kms_key_arn=key_arn,
        )

        self.api_id = api.rest_api.id
        self.api_endpoint = api.stage.invoke_url
        self.api_stage_name = STAGE_NAME
        self.health_path = HEALTH_PATH
        self.alarm_topic_arn = alarms.topic.arn
        self.region_unhealthy_alarm_name = alarms.region_unhealthy_name
        self.alarm_names = alarms.alarm_names

        outputs: dict[str, tuple[object, str]] = {
            "region": (self.region, "AWS region of this stack"),
            "api_endpoint": (self.api_endpoint, "Invoke URL of the API stage"),
            "api_id": (self.api_id, "REST API id"),
            "api_stage_name": (self.api_stage_name, "REST API stage"),
            "api_key_id": (api.api_key.id, "API key of the payment routes"),
            "api_key_value": (api.api_key.value, "API key value"),
            "payment_function_name": (payment.function.function_name, "Payment API function"),
            "health_function_name": (health.function.function_name, "Health check function"),
            "retry_function_name": (retry_consumer.function.function_name, "Retry consumer"),
            "event_bus_name": (events.bus.name, "Payment events bus"),
            "events_queue_url": (events.queue.url, "Queue receiving payment.created events"),
            "retry_queue_url": (retry.url, "Audit/event retry queue"),
            "retry_dlq_url": (retry_dlq.url, "Retries that never succeeded"),
            "dlq_url": (dlq.url, "Failed async invocations of the functions"),
            "alarm_topic_arn": (self.alarm_topic_arn, "SNS topic of every alarm"),
            "region_unhealthy_alarm_name": (self.region_unhealthy_alarm_name, "The alarm the traffic rollout watches"),
            "alarm_names": (self.alarm_names, "Every alarm of the region"),
            "dashboard_name": (dashboard.dashboard.dashboard_name, "CloudWatch dashboard"),
        }
        for name, (value, description) in outputs.items():
            self.export(name, value, description=description, sensitive=name in SENSITIVE_OUTPUTS)
