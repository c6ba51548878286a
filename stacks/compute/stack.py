"""ComputeStack: the payments API of one region.

Three functions run the payment runtime of `lambda_src/`: `payment-processor` behind `POST /payments`,
`GET /payments?customer_id=` and `GET /payments/{id}`, `health` behind `GET /health`, and `payment-retry`, which
redrives failed audit/event steps from the retry queue. `ledger-admin` (no route: operators invoke it) runs
the ledger's migrations and reads its summaries as the database's master user. The payment functions write the
ledger of record in Aurora PostgreSQL as `LEDGER_USER` with IAM database authentication. In the primary region
only, `region-alarms` (no route: the rollout engine's state machine invokes it) reads either region's alarms. The
stack also owns the region's event bus, its queues, alarms, dashboard, runtime parameters and the web ACL in front
of the API (stacks/compute/waf.py). Every grant between these parts is written here, where it can be read in one
place.

With `compute.runtime = "ec2"` the API front door is a fleet behind a load balancer instead (`stacks.compute.ec2`):
no REST API and no `payment-processor` or `health` function; instances run the same code as a service
(docs/runtime-ec2.md), with the payment runtime's environment and grants built here once for both runtimes.
`payment-retry`, `ledger-admin` and `region-alarms` stay functions in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktf import Token
from cdktf_cdktf_provider_aws.lambda_event_source_mapping import LambdaEventSourceMapping
from constructs import Construct

from config.settings import ROLES, Role, Settings
from shared import iam
from shared.api_names import API_BASE_PATH
from shared.checkov import skip
from shared.local_target import (
    ignored_locally,
    ledger_tls_mode,
    ledger_writer_hosts,
    supports_composite_alarms,
    supports_instance_refresh,
    supports_tls_only_bucket_policy,
)
from shared.monitoring_names import DASHBOARD
from shared.naming import Naming
from shared.processor_runtime import PORT
from shared.tags import default_tags
from stacks.base import PlatformStack
from stacks.compute.dashboard import RegionDashboard
from stacks.compute.ec2.alarms import LoadBalancerWatched
from stacks.compute.ec2.artifact import ARTIFACT_PREFIX, processor_artifact
from stacks.compute.ec2.artifacts_bucket import ArtifactsBucket
from stacks.compute.ec2.fleet import ProcessorFleet
from stacks.compute.ec2.instance_profile import InstanceProfile
from stacks.compute.ec2.launch_template import ProcessorLaunchTemplate, user_data
from stacks.compute.ec2.load_balancer import LoadBalancer
from stacks.compute.event_bus import PaymentEvents
from stacks.compute.lambda_function import LambdaPackage, PlatformFunction, lambda_package
from stacks.compute.monitoring import RegionAlarms, Watched
from stacks.compute.payments_api import PaymentsApi, Route, UsageLimits
from stacks.compute.queues import DEAD_LETTER_RETENTION_SECONDS, EncryptedQueue, Redrive
from stacks.compute.runtime_parameters import RuntimeParameters
from stacks.compute.waf import LOG4J_CHECK_REASON, WebAcl
from stacks.compute.write_home import WriteHomeParameter
from stacks.data.ledger import LEDGER_WRITER_ROLE
from stacks.data.payments_table import INDEXES
from stacks.data.stack import DataStack
from stacks.network.security_groups import POSTGRES_PORT
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
# ledger-admin runs the migrations and summaries an operator asks for: longer than an API call may take.
LEDGER_ADMIN_TIMEOUT_SECONDS = 60
# The function the rollout engine (in the primary region) invokes to read a region's alarms.
REGION_ALARMS = "region-alarms"
# The table's index by customer (the data layer names it), read by GET /payments?customer_id=.
[CUSTOMER_INDEX] = [name for name, (hash_key, _) in INDEXES.items() if hash_key == "customer_id"]


@dataclass(frozen=True)
class FrontDoor:
    """The ec2 runtime's load balancer as the DNS layer uses it: the records alias its DNS name and Route 53 zone
    id; DNS adds the HTTPS listener (it holds the certificate), which forwards to the target group."""

    name: str
    zone_id: str
    load_balancer_arn: str
    target_group_arn: str


class ComputeStack(PlatformStack):
    """Exposes `runtime`, `health_path`, `region_unhealthy_alarm_name`, `alarm_names` and `alarm_topic_arn` for the
    DNS layer; with `lambda` also `api_id`, `api_endpoint` and `api_stage_name`; with `ec2`, `front_door` (the load
    balancer's alias target; None until a load balancer is built) and the fleet's parts."""

    layer = "compute"

    def __init__(
        self, scope: Construct, *, settings: Settings, role: Role, network: NetworkStack, data: DataStack
    ) -> None:
        super().__init__(scope, settings=settings, role=role, depends_on=[network, data])
        self.network = network
        self.data = data
        self.runtime = settings.compute.runtime
        self.health_path = HEALTH_PATH
        self.front_door: FrontDoor | None = None
        self._queues()
        self._events()
        self._functions()
        if self.runtime == "ec2":
            self._ec2_service()
        else:
            self._api()
        self._alarms()
        self._dashboard()
        self._parameters()
        self._outputs()

    def _queues(self) -> None:
        """Failed payment steps (retried), and retries that never succeed."""
        self.retry_dlq = EncryptedQueue(
            self,
            "retry-dlq",
            name=self.naming.name("retry-dlq"),
            kms_key_arn=self.data.key_arn,
            retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
        ).queue
        self.retry_queue = EncryptedQueue(
            self,
            "retry",
            name=self.naming.name("retry"),
            kms_key_arn=self.data.key_arn,
            visibility_timeout_seconds=RETRY_VISIBILITY_FACTOR * self.settings.compute.lambda_timeout_seconds,
            redrive=Redrive(self.retry_dlq.arn, max_receive_count=RETRY_MAX_RECEIVES),
            ignore_changes=ignored_locally(self.settings, "sqs-redrive-policy-format"),
        ).queue

    def _events(self) -> None:
        self.events = PaymentEvents(
            self,
            "events",
            naming=self.naming,
            kms_key_arn=self.data.key_arn,
            account_id=self.account_id,
            partition=self.partition,
        )

    # -- functions --------------------------------------------------------------------------------------------

    def _functions(self) -> None:
        lambda_runtime = self.runtime == "lambda"
        payments_code = lambda_package(
            self, "payment-processor-code", function="payment_processor", ca_bundle=self.settings.data.rds_ca_bundle
        )
        health_code = lambda_package(self, "health-code", function="health") if lambda_runtime else None
        ledger_code = lambda_package(
            self, "ledger-code", function="ledger", module="admin", ca_bundle=self.settings.data.rds_ca_bundle
        )
        self._payment_runtime(payments_code)
        if health_code is not None:
            self._health_function(health_code)
        self._ledger_admin_function(ledger_code)
        if self.role == "primary":  # the rollout engine lives in the primary region (dns-primary)
            self._region_alarms_function(lambda_package(self, "region-alarms-code", function="region_alarms"))

    def _payment_runtime(self, code: LambdaPackage) -> None:
        """`payment-processor` behind the payment routes (lambda runtime), and `payment-retry` draining the retry
        queue. The payment API's environment and grants are built here once, for the function or the fleet."""
        data = self.data
        runtime_env = self._runtime_environment()
        audit_objects = f"{data.audit_bucket_arn}/{AUDIT_PREFIX}*"
        # Only POST /payments consults the write home: the retry consumer finishes steps of payments already taken.
        self.write_home = WriteHomeParameter(self, "write-home", settings=self.settings, role=self.role)
        self.payment_api_environment = {**runtime_env, **self.write_home.environment()}
        # Single items by payment_id, and the one index the list route queries (no other /index/* grant).
        self.payment_api_statements = [
            iam.allow(
                ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                [data.table_arn],
                sid="PaymentItems",
            ),
            iam.allow(["dynamodb:Query"], [f"{data.table_arn}/index/{CUSTOMER_INDEX}"], sid="ListCustomerPayments"),
            iam.allow(["s3:PutObject"], [audit_objects], sid="WriteAuditRecords"),
            iam.allow(["events:PutEvents"], [self.events.bus.arn], sid="PublishPaymentEvents"),
            iam.allow(["sqs:SendMessage"], [self.retry_queue.arn], sid="QueueFailedSteps"),
            self.write_home.read_grant(),
            self._ledger_connect(),
        ]
        if self.runtime == "lambda":
            self.payment_function = self._function(
                "payment-processor",
                description="Payments API: POST /payments, GET /payments?customer_id= and GET /payments/{id}",
                code=code,
                environment=self.payment_api_environment,
                statements=self.payment_api_statements,
            )
        self.retry_function = self._function(
            "payment-retry",
            description="Redrives failed audit/event steps from the retry queue",
            code=code,
            entry="retry_handler",
            environment=runtime_env,
            statements=[
                iam.allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], [data.table_arn], sid="PaymentItems"),
                iam.allow(["s3:PutObject"], [audit_objects], sid="WriteAuditRecords"),
                iam.allow(["events:PutEvents"], [self.events.bus.arn], sid="PublishPaymentEvents"),
                iam.allow(
                    ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                    [self.retry_queue.arn],
                    sid="ConsumeRetryQueue",
                ),
                self._ledger_connect(),
            ],
        )
        LambdaEventSourceMapping(
            self,
            "retry-source",
            event_source_arn=self.retry_queue.arn,
            function_name=self.retry_function.function.arn,
            batch_size=RETRY_BATCH_SIZE,
            function_response_types=["ReportBatchItemFailures"],
        )

    def _health_function(self, code: LambdaPackage) -> None:
        data = self.data
        self.health_function = self._function(
            "health",
            description="GET /health: the region and whether its table and bucket answer",
            code=code,
            environment={
                "PAYMENTS_TABLE": data.table_name,
                "AUDIT_BUCKET": data.audit_bucket_name,
                "REGION": self.region,
                "LOG_LEVEL": LOG_LEVEL,
            },
            statements=self._health_statements(),
        )

    def _health_statements(self) -> list[dict[str, Any]]:
        """What `GET /health` reads (the health function's grants, and the fleet's)."""
        data = self.data
        return [
            iam.allow(["dynamodb:DescribeTable"], [data.table_arn], sid="DescribeTable"),
            # HeadBucket is authorized by s3:ListBucket.
            iam.allow(["s3:ListBucket"], [data.audit_bucket_arn], sid="HeadAuditBucket"),
        ]

    def _ledger_admin_function(self, code: LambdaPackage) -> None:
        """Migrations and ledger summaries, as the master user (its secret holds `{"username", "password"}`)."""
        data = self.data
        self.ledger_admin_function = self._function(
            "ledger-admin",
            description="Ledger of record: applies the migrations and reads ledger summaries (invoked by operators)",
            code=code,
            environment={
                **self._ledger_environment(),
                "LEDGER_ADMIN_SECRET_ARN": data.database_secret_arn,
                "REGION": self.region,
                "LOG_LEVEL": LOG_LEVEL,
            },
            statements=[
                iam.allow(["secretsmanager:GetSecretValue"], [data.database_secret_arn], sid="ReadMasterSecret"),
                # kms:Decrypt on the region key (which encrypts the secret) comes with every function's role.
                self._ledger_connect(),
            ],
            timeout_seconds=LEDGER_ADMIN_TIMEOUT_SECONDS,
            # Reserved concurrency is sized for the API's burst (compute.reserved_concurrency); this function is
            # behind no API and invoked by hand, so it reserves none of the account's pool.
            reserves_concurrency=False,
        )
        skip(
            self.ledger_admin_function.function,
            "CKV_AWS_115",
            "invoked by operators only (make db-migrate and the ledger summaries), never by traffic; migrations take "
            "an advisory lock, so concurrent invocations cannot apply twice",
        )

    def _region_alarms_function(self, code: LambdaPackage) -> None:
        """`region-alarms`: the rollout engine's read of either region's alarms (Step Functions' AWS SDK integrations
        call only the state machine's own region). It answers only for the platform's two regions and alarm names.

        DescribeAlarms is granted on `*`, limited to the two regions by `aws:RequestedRegion`: CloudWatch supports
        alarm ARNs as its resource, but returns composite alarms (`region-unhealthy` is one on AWS) only to a
        permission scoped to `*`, and would leave them out of the answer silently otherwise
        (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html). The function
        itself refuses any other region and any alarm name outside the platform's prefixes.
        """
        regions = [self.settings.regions.of(role) for role in ROLES]
        self.region_alarms_function = self._function(
            REGION_ALARMS,
            description="Rollout engine: which of the platform's alarms exist and fire in a region",
            code=code,
            environment={
                "ALLOWED_REGIONS": ",".join(regions),
                "ALARM_PREFIXES": ",".join(f"{Naming.for_role(self.settings, role).prefix}-" for role in ROLES),
                "LOG_LEVEL": LOG_LEVEL,
            },
            statements=[
                iam.allow(
                    ["cloudwatch:DescribeAlarms"],
                    ["*"],
                    sid="ReadPlatformAlarms",
                    conditions={"StringEquals": {"aws:RequestedRegion": regions}},
                )
            ],
            reserves_concurrency=False,
        )
        skip(
            self.region_alarms_function.function,
            "CKV_AWS_115",
            "invoked by the rollout engine's state machine only, once per poll while a step bakes; it reserves none of "
            "the account's pool sized for the API's burst",
        )
        skip(
            self.region_alarms_function.policy,
            "CKV_AWS_355",
            "cloudwatch:DescribeAlarms returns composite alarms only to a permission scoped to *; limited to the "
            "platform's two regions by aws:RequestedRegion",
        )

    def _ledger_environment(self) -> dict[str, str]:
        """How a function reaches the ledger's writer (the contract the ledger code reads)."""
        return {
            "LEDGER_WRITER_HOSTS": ledger_writer_hosts(self.settings, self.data.global_writer_endpoint, POSTGRES_PORT),
            "LEDGER_DATABASE": self.settings.data.database_name,
            "LEDGER_USER": LEDGER_WRITER_ROLE,
            "LEDGER_TLS": ledger_tls_mode(self.settings),
        }

    def _ledger_connect(self) -> dict[str, Any]:
        """`rds-db:connect` as `LEDGER_USER` on the Aurora clusters of both regions (the writer may be in either).

        The resource is `dbuser:<cluster resource id>/<user>`; the cluster's resource id is written `*` because
        compute-primary cannot reference data-secondary's cluster (deploy order: every primary stack first, and no
        primary stack depends on a secondary one), and one rule for both regions keeps the grant symmetric. The
        grant stays limited to this account, the two regions and the one database user.
        """
        return iam.allow(
            ["rds-db:connect"],
            [
                f"arn:{self.partition}:rds-db:{region}:{self.account_id}:dbuser:*/{LEDGER_WRITER_ROLE}"
                for region in (self.region, self.settings.regions.of(self.peer_role))
            ],
            sid="ConnectToLedgerAsWriter",
        )

    def _runtime_environment(self) -> dict[str, str]:
        """What the payment runtime (`payment-processor` and `payment-retry`) reads at start."""
        compute = self.settings.compute
        return {
            "PAYMENTS_TABLE": self.data.table_name,
            "AUDIT_BUCKET": self.data.audit_bucket_name,
            "AUDIT_KMS_KEY_ID": self.data.key_arn,
            "EVENT_BUS_NAME": self.events.bus.name,
            "AUDIT_RETRY_QUEUE_URL": self.retry_queue.url,
            "REGION": self.region,
            "MAX_AMOUNT": compute.max_amount,
            "ALLOWED_CURRENCIES": ",".join(compute.allowed_currencies),
            "CUSTOMER_INDEX": CUSTOMER_INDEX,
            "LOG_LEVEL": LOG_LEVEL,
            **self._ledger_environment(),
        }

    def _function(
        self,
        construct_id: str,
        *,
        description: str,
        code: LambdaPackage,
        entry: str = "handler",
        environment: dict[str, str],
        statements: list[dict[str, Any]],
        timeout_seconds: int | None = None,
        reserves_concurrency: bool = True,
    ) -> PlatformFunction:
        """A function in the private subnets; timeout and reserved concurrency from config unless given."""
        compute = self.settings.compute
        return PlatformFunction(
            self,
            construct_id,
            name=self.naming.name(construct_id),
            description=description,
            package=code,
            entry=entry,
            memory_mb=compute.lambda_memory_mb,
            timeout_seconds=timeout_seconds or compute.lambda_timeout_seconds,
            reserved_concurrency=compute.reserved_concurrency if reserves_concurrency else None,
            environment=environment,
            kms_key_arn=self.data.key_arn,
            subnet_ids=self.network.private_subnet_ids,
            security_group_ids=[self.network.lambda_sg_id],
            log_retention_days=compute.log_retention_days,
            statements=statements,
        )

    def _function_names(self) -> dict[str, str]:
        """The functions the alarms and dashboard watch (in ec2 only the retry consumer serves payments)."""
        if self.runtime == "ec2":
            return {"payment-retry": self.retry_function.function.function_name}
        return {
            "payment-processor": self.payment_function.function.function_name,
            "payment-retry": self.retry_function.function.function_name,
            "health": self.health_function.function.function_name,
        }

    # -- the ec2 runtime's fleet ------------------------------------------------------------------------------

    def service_environment(self) -> dict[str, str]:
        """What an instance's service reads (`ENVIRONMENT_FILE`): the payment API's environment, as the
        payment-processor function gets it, plus what API Gateway and Lambda provided to it."""
        return {
            **self.payment_api_environment,
            "API_KEY_SECRET_NAME": self.data.api_key_secret_name,
            "API_BASE_PATH": API_BASE_PATH,
            "AWS_REGION": self.region,
            "PROCESSOR_PORT": str(PORT),
        }

    def _ec2_service(self) -> None:
        """The artifact, its bucket, the instance profile, launch template and fleet (docs/runtime-ec2.md)."""
        data, compute = self.data, self.settings.compute
        instance_sg = self.network.instance_sg_id
        if instance_sg is None:
            raise ValueError(f"compute.runtime=ec2 but network-{self.role} built no instance security group")
        self.artifacts_bucket = ArtifactsBucket(
            self,
            "artifacts",
            naming=self.naming,
            kms_key_arn=data.key_arn,
            noncurrent_version_expiration_days=self.settings.data.noncurrent_version_expiration_days,
            force_destroy=self.protection.force_destroy,
            tls_only=supports_tls_only_bucket_policy(self.settings),
        ).bucket
        artifact = processor_artifact(
            self,
            "artifact",
            bucket=self.artifacts_bucket.bucket,
            kms_key_arn=data.key_arn,
            ca_bundle=self.settings.data.rds_ca_bundle,
        )
        self.artifact_key = artifact.key
        profile = InstanceProfile(
            self,
            "instance-profile",
            name=self.naming.name("processor"),
            kms_key_arn=data.key_arn,
            artifact_objects=f"{self.artifacts_bucket.arn}/{ARTIFACT_PREFIX}*",
            api_key_secret_arn=(
                f"arn:{self.partition}:secretsmanager:{self.region}:{self.account_id}:secret:"
                f"{data.api_key_secret_name}-??????"  # Secrets Manager appends 6 random characters
            ),
            statements=[*self.payment_api_statements, *self._health_statements()],
        )
        self.instance_role = profile.role
        tags = default_tags(self.settings, self.region)
        self.launch_template = ProcessorLaunchTemplate(
            self,
            "launch-template",
            name=self.naming.name("processor"),
            instance_type=compute.instance_type,
            instance_profile_arn=profile.profile.arn,
            security_group_ids=[instance_sg],
            kms_key_arn=data.key_arn,
            user_data_script=user_data(
                environment=self.service_environment(),
                artifact_bucket=self.artifacts_bucket.bucket,
                artifact_key=artifact.key,
                region=self.region,
            ),
            tags=tags,
            ignore_changes=ignored_locally(self.settings, "launch-template-tag-specifications"),
        ).template
        self.load_balancer = LoadBalancer(
            self,
            "load-balancer",
            naming=self.naming,
            vpc_id=self.network.vpc_id,
            public_subnet_ids=self.network.public_subnet_ids,
            security_group_id=self._alb_security_group(),
            deletion_protection=self.protection.deletion_protection,
            force_destroy=self.protection.force_destroy,
            log_retention_days=compute.log_retention_days,
            noncurrent_version_expiration_days=self.settings.data.noncurrent_version_expiration_days,
            tls_only_log_bucket=supports_tls_only_bucket_policy(self.settings),
            tags=tags,
        )
        lb = self.load_balancer
        self.front_door = FrontDoor(lb.dns_name, lb.zone_id, lb.alb_arn, lb.target_group_arn)
        self.fleet = ProcessorFleet(
            self,
            "fleet",
            name=self.naming.name("processor"),
            compute=compute,
            subnet_ids=self.network.private_subnet_ids,
            launch_template_id=self.launch_template.id,
            launch_template_version=Token.as_string(self.launch_template.latest_version),
            target_group_arns=[self.load_balancer.target_group_arn],
            tags=tags,
            after=[artifact.object],  # an instance's first boot copies the artifact
            instance_refresh=supports_instance_refresh(self.settings),
            policy_ignore_changes=ignored_locally(self.settings, "autoscaling-policy-read-back"),
        )

        self._web_acl(self.load_balancer.alb_arn)
        skip(self.load_balancer.load_balancer, "CKV2_AWS_76", LOG4J_CHECK_REASON)

    def _alb_security_group(self) -> str:
        alb_sg = self.network.alb_sg_id
        if alb_sg is None:
            raise ValueError(f"compute.runtime=ec2 but network-{self.role} built no load balancer security group")
        return alb_sg

    def _web_acl(self, front_door_arn: str) -> None:
        """The web ACL in front of the API, whichever the front door: the API stage or the load balancer."""
        compute = self.settings.compute
        self.web_acl = WebAcl(
            self,
            "waf",
            naming=self.naming,
            resource_arn=front_door_arn,
            rate_limit=compute.waf_rate_limit,
            kms_key_arn=self.data.key_arn,
            log_retention_days=compute.log_retention_days,
        )

    # -- API, alarms, dashboard, parameters -------------------------------------------------------------------

    def _api(self) -> None:
        compute = self.settings.compute
        payment = self.payment_function.function
        self.api = PaymentsApi(
            self,
            "api",
            naming=self.naming,
            routes=[
                Route("POST", "/payments", payment, api_key_required=True),
                Route("GET", "/payments", payment, api_key_required=True),
                Route("GET", "/payments/{id}", payment, api_key_required=True),
                Route("GET", HEALTH_PATH, self.health_function.function, api_key_required=False),
            ],
            stage_name=STAGE_NAME,
            limits=UsageLimits(
                rate_limit=compute.api_throttle_rate_limit,
                burst_limit=compute.api_throttle_burst_limit,
                quota_per_day=compute.api_quota_per_day,
            ),
            kms_key_arn=self.data.key_arn,
            log_retention_days=compute.log_retention_days,
            api_key_secret_name=self.data.api_key_secret_name,
        )
        self._web_acl(self.api.stage.arn)
        self.api_id = self.api.rest_api.id
        self.api_endpoint = self.api.stage.invoke_url
        self.api_stage_name = STAGE_NAME
        self.health_path = HEALTH_PATH

    def _alarms(self) -> None:
        self.alarms = RegionAlarms(
            self,
            "alarms",
            naming=self.naming,
            kms_key_arn=self.data.key_arn,
            alarm_email=self.settings.compute.alarm_email,
            watched=Watched(
                functions=self._function_names(),
                critical_functions=["payment-processor"] if self.runtime == "lambda" else [],
                api_name=self.api.rest_api.name if self.runtime == "lambda" else None,
                api_stage=self.api.stage.stage_name if self.runtime == "lambda" else None,
                table_name=self.data.table_name,
                event_bus_name=self.events.bus.name,
                event_rule_name=self.events.rule.name,
                dead_letter_queues={
                    "retry-dlq": self.retry_dlq.name,
                    "events-dlq": self.events.dead_letter_queue.name,
                },
                cluster_identifier=self.data.cluster_identifier,
                cpu_alarm_percent=self.settings.data.aurora_cpu_alarm_percent,
                replication_lag_alarm_ms=self.settings.data.replication_lag_alarm_ms,
                replica_cluster_identifier=self.data.cluster_identifier if self.role == "secondary" else None,
                extra_critical=self._load_balancer_watched(),
            ),
            composite=supports_composite_alarms(self.settings),
        )
        self.alarm_topic_arn = self.alarms.topic.arn
        self.region_unhealthy_alarm_name = self.alarms.region_unhealthy_name
        self.alarm_names = self.alarms.alarm_names

    def _dashboard(self) -> None:
        self.dashboard = RegionDashboard(
            self,
            "dashboard",
            name=self.naming.name(DASHBOARD),
            region=self.region,
            api_name=self.api.rest_api.name if self.runtime == "lambda" else None,
            api_stage=self.api.stage.stage_name if self.runtime == "lambda" else None,
            functions=self._function_names(),
            table_name=self.data.table_name,
            cluster_identifier=self.data.cluster_identifier,
            queues={
                "retry": self.retry_queue.name,
                "payment-events": self.events.queue.name,
                "payment-events-dlq": self.events.dead_letter_queue.name,
                "retry-dlq": self.retry_dlq.name,
            },
            alarm_arns=self.alarms.alarm_arns,
            load_balancer=(
                (self.load_balancer.alb_arn_suffix, self.load_balancer.target_group_arn_suffix)
                if self.runtime == "ec2"
                else None
            ),
        )

    def _load_balancer_watched(self) -> list[LoadBalancerWatched]:
        """ec2: the load balancer's alarms join the critical ones behind `region-unhealthy`."""
        if self.runtime != "ec2":
            return []
        compute = self.settings.compute
        return [
            LoadBalancerWatched(
                self.load_balancer.alb_arn_suffix,
                self.load_balancer.target_group_arn_suffix,
                compute.fleet_min,
                compute.target_p99_response_ms,
            )
        ]

    def _parameters(self) -> None:
        compute = self.settings.compute
        RuntimeParameters(
            self,
            "parameters",
            path=lambda name: self.naming.path("config", name),
            values={
                "table-name": self.data.table_name,
                "audit-bucket": self.data.audit_bucket_name,
                "event-bus": self.events.bus.name,
                "retry-queue-url": self.retry_queue.url,
                **({"api-endpoint": self.api_endpoint} if self.runtime == "lambda" else {}),
                "max-amount": compute.max_amount,
                "allowed-currencies": ",".join(compute.allowed_currencies),
            },
            secrets={},  # the API keys live in the API key secret only (stacks/compute/client_keys.py)
            kms_key_arn=self.data.key_arn,
        )

    # -- outputs ----------------------------------------------------------------------------------------------

    def _outputs(self) -> None:
        self.export("region", self.region, description="AWS region of this stack")
        if self.runtime == "ec2":
            self._fleet_outputs()
        else:
            self._api_outputs()
        self.export("retry_function_name", self.retry_function.function.function_name, description="Retry consumer")
        self._common_outputs()

    def _api_outputs(self) -> None:
        api_keys = self.api.api_keys
        self.export("api_endpoint", self.api_endpoint, description="Invoke URL of the API stage")
        self.export("api_id", self.api_id, description="REST API id")
        self.export("api_stage_name", self.api_stage_name, description="REST API stage")
        self.export("api_key_ids", api_keys.ids, description="Ids of the API keys this region accepts (no values)")
        self.export(
            "api_key_secret_name",
            api_keys.secret_name,
            description="The secret this region reads its API keys from (make rotate-api-key)",
        )
        self.export(
            "payment_function_name", self.payment_function.function.function_name, description="Payment API function"
        )
        self.export(
            "health_function_name", self.health_function.function.function_name, description="Health check function"
        )

    def _fleet_outputs(self) -> None:
        self.export("runtime", self.runtime, description="The API front door: lambda or ec2")
        self.export(
            "api_key_secret_name",
            self.data.api_key_secret_name,
            description="The secret this region reads its API keys from (make rotate-api-key)",
        )
        self.export("launch_template_id", self.launch_template.id, description="Processor instances' launch template")
        self.export("autoscaling_group_name", self.fleet.group.name, description="Processor fleet (Auto Scaling)")
        self.export("artifacts_bucket", self.artifacts_bucket.bucket, description="Bucket of the processor's artifacts")
        lb = self.load_balancer
        self.export("load_balancer_arn", lb.alb_arn, description="The API's load balancer")
        self.export("load_balancer_dns_name", lb.dns_name, description="What the records alias (dns-<role>)")
        self.export("target_group_arn", lb.target_group_arn, description="The fleet's target group")
        self.export("access_log_bucket", lb.access_log_bucket, description="The load balancer's access logs")

    def _common_outputs(self) -> None:
        self.export(
            "ledger_admin_function_name",
            self.ledger_admin_function.function.function_name,
            description="Ledger migrations and summaries (invoked by operators)",
        )
        if self.role == "primary":
            self.export(
                "region_alarms_function_arn",
                self.region_alarms_function.function.arn,
                description="The function the rollout engine invokes to read a region's alarms",
            )
        self.export("event_bus_name", self.events.bus.name, description="Payment events bus")
        self.export("events_queue_url", self.events.queue.url, description="Queue receiving payment.created events")
        self.export(
            "events_dlq_url",
            self.events.dead_letter_queue.url,
            description="payment.created events EventBridge could not deliver to their queue",
        )
        self.export("retry_queue_url", self.retry_queue.url, description="Audit/event retry queue")
        self.export("retry_dlq_url", self.retry_dlq.url, description="Retries that never succeeded")
        self.export("alarm_topic_arn", self.alarm_topic_arn, description="SNS topic of every alarm")
        self.export(
            "region_unhealthy_alarm_name",
            self.region_unhealthy_alarm_name,
            description="The alarm the traffic rollout watches",
        )
        self.export("alarm_names", self.alarm_names, description="Every alarm of the region")
        self.export("dashboard_name", self.dashboard.dashboard.dashboard_name, description="CloudWatch dashboard")
