"""Everything that differs when the target is the local emulator, decided in one place.

The `aws` target never sees anything from this module: stacks ask the
functions below, which answer "as AWS needs it" unless the target is local.
Every gap is listed in GAPS; `make docs` writes the emulator-gap table of
docs/emulator-gaps.md from it.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from config.settings import ROLES, Settings

# The emulator accepts any credentials; these are never valid on AWS.
FAKE_ACCESS_KEY = "test"
FAKE_SECRET_KEY = "test"
# The local PostgreSQL instances listen on loopback only (gap `rds-iam-auth`: they trust it).
LOOPBACK = "127.0.0.1"

# Provider endpoint names (canonical, as the hashicorp/aws 5.x provider spells them)
# for every service the stacks use; tests check each resource type maps to one.
LOCAL_ENDPOINT_SERVICES: tuple[str, ...] = (
    "acm",
    "apigateway",
    "autoscaling",
    "backup",
    "cloudwatch",
    "dynamodb",
    "ec2",
    "elbv2",
    "events",
    "iam",
    "kms",
    "lambda_",
    "logs",
    "rds",
    "route53",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "sfn",
    "ssm",
    "sts",
    "wafv2",
    "xray",
)


# Gap `acm-validation-wait`: seconds the emulator keeps a new certificate pending (AWS: until the records resolve).
ACM_VALIDATION_WAIT_SECONDS = 1


@dataclass(frozen=True)
class Gap:
    """Something the emulator cannot do, and what the local target does instead.

    `ignore_changes` lists the attributes the local target stops diffing on the
    affected resource (asked for with `ignored_locally`); the aws target never gets them.
    """

    key: str
    emulator_behaviour: str
    local_handling: str
    ignore_changes: tuple[str, ...] = ()


GAPS: tuple[Gap, ...] = (
    Gap(
        "dynamodb-replica",
        "no DynamoDB global tables: replica requests are ignored and Terraform waits forever",
        "data-secondary creates a regional table with the same name, key schema, GSIs, stream, PITR and TTL, "
        "encrypted with the secondary region's key, instead of the replica; gap `dynamodb-global-replication` "
        "keeps the two in step",
    ),
    Gap(
        "dynamodb-global-replication",
        "no replication between regions: the same-name tables of gap `dynamodb-replica` are independent, so a "
        "write in one region is never seen in the other",
        "the local target runs a replication process beside the emulator (ops/local/table_replication.py; started "
        "by `make local-up` and every local deploy, stopped by `make local-down`; pid, log and stats under "
        ".local/replication-<port>.*): every table with the same name in both regions and a NEW_AND_OLD_IMAGES "
        "stream is replicated both ways from its streams, polled every 100 ms (500 ms after 10 s without a "
        "write), last writer wins by "
        "ApproximateCreationDateTime, its own writes never replicated back; measured lag of 500 writes at 50/s "
        "p50 ~35 ms, p99 ~140 ms (details in docs/emulator-gaps.md)",
    ),
    Gap(
        "backup-selection",
        "CreateBackupSelection is not implemented (HTTP 500)",
        "the tag-based backup selection is not created locally; the plan, vault and role are",
    ),
    Gap(
        "backup-vault-force-destroy",
        "ListRecoveryPointsByBackupVault is not implemented, so deleting a vault with force_destroy fails",
        "vaults are created without force_destroy locally (the emulator never runs a backup, so they stay empty)",
    ),
    Gap(
        "backup-plan-name-reuse",
        "a deleted backup plan keeps its name for good: creating a plan of that name again fails (AlreadyExists), "
        "so a redeploy after a destroy on the same emulator would fail",
        "plan names carry the first characters of the region key's id locally (a new key per deployment)",
    ),
    Gap(
        "backup-tags",
        "tags of backup vaults and plans are never read back (ListTags misreads the ARN in the request path), "
        "so the provider's default tags plan an update on every run",
        "ignore_changes on the vault's and plan's tags locally",
        ignore_changes=("tags", "tags_all"),
    ),
    Gap(
        "s3-tls-only-policy",
        "the emulator speaks plain HTTP and denies an object request on any bucket-policy statement with a "
        "condition it cannot evaluate, so the TLS-only deny blocks every object read, write and delete "
        "(force_destroy included)",
        "the audit bucket, the artifacts bucket (compute.runtime = ec2) and the state bucket (`make bootstrap`) get "
        "no TLS-only policy locally (none has another statement), nor does the load balancer's access-log bucket (its "
        "log-delivery statements stay); unit tests check the audit and artifacts buckets' statements on the aws "
        "target, the integration test of bootstrap the state bucket's (aws-shaped settings against the emulator)",
    ),
    Gap(
        "s3-replication-delete-markers",
        "delete_marker_replication always reads back Disabled (phantom diff)",
        "ignore_changes on each replication configuration's delete_marker_replication locally (both directions)",
        ignore_changes=("rule[0].delete_marker_replication",),
    ),
    Gap(
        "s3-replication-source-selection",
        "source_selection_criteria (replicate SSE-KMS objects) is stored but never read back (phantom diff)",
        "ignore_changes on each replication configuration's source_selection_criteria locally (both directions)",
        ignore_changes=("rule[0].source_selection_criteria",),
    ),
    Gap(
        "s3-replication-copy",
        "replication configuration is stored but objects are never copied",
        "tests check the stored configurations (the audit buckets replicate both ways: primary -> secondary and "
        "secondary -> primary), not copied objects",
    ),
    Gap(
        "s3-state-replication",
        "S3 replication copies no objects (gap `s3-replication-copy`), so the remote state's replica home in the "
        "secondary region would never receive the home's objects",
        "bootstrap puts no replication configuration (nor its IAM role) on the two state buckets locally: a stored "
        "configuration that copies nothing would only suggest a replication that is not there. The local "
        "replication process (ops/local/bucket_replication.py, beside the table replication) copies them both ways "
        "instead: both buckets listed every 300 ms (500 ms when idle), an object whose newest content is missing on "
        "the other side is copied (newest LastModified wins), copies carry the metadata marker `payments-replica-of` "
        "and are never copied back, and a key deleted on one side is deleted on the other "
        "(`replicates_state_buckets_itself`)",
    ),
    Gap(
        "aurora-scaling-configuration",
        "aws_rds_cluster reads back a phantom scaling_configuration block",
        "ignore_changes on scaling_configuration locally",
        ignore_changes=("scaling_configuration",),
    ),
    Gap(
        "rds-performance-insights",
        "Performance Insights is not modelled: an instance reads back disabled, without key or retention",
        "ignore_changes on the cluster instances' performance_insights_* attributes locally",
        ignore_changes=(
            "performance_insights_enabled",
            "performance_insights_kms_key_id",
            "performance_insights_retention_period",
        ),
    ),
    Gap(
        "aurora-global-cluster-members",
        "global clusters live in the backend of the emulator's default region: a cluster of another region joins "
        "one but can never leave it (RemoveFromGlobalCluster and DeleteDBCluster there do not find it), so the "
        "global cluster keeps a deleted member and can never be deleted",
        "locally only a cluster in the emulator's default region (the default local primary region) joins the "
        "global cluster; a cluster of any other region is a regional cluster with the same engine, subnets and "
        "key and its own master user and password secret, so destroying the secondary, then the primary, leaves "
        "nothing behind",
    ),
    Gap(
        "rds-automated-snapshots",
        "a deleted cluster's automated snapshot stays behind (DeleteAutomatedBackups is ignored)",
        "after a local destroy, `clean_up_after_destroy` deletes the automated snapshots of clusters that no "
        "longer exist (called by ops)",
    ),
    Gap(
        "aurora-global-cluster-tags",
        "tag calls on a global cluster's region-less ARN are rejected (InvalidParameterValue) and no tags are read "
        "back, so the provider's default tags plan an update that fails",
        "ignore_changes on the global cluster's tags locally",
        ignore_changes=("tags", "tags_all"),
    ),
    Gap(
        "aurora-global-database-name",
        "aws_rds_global_cluster drops database_name, forcing a replacement on every plan",
        "not target-specific: the database name is set on the primary cluster, never on the global cluster",
    ),
    Gap(
        "iam-managed-policies",
        "AWS-managed IAM policies (such as AWSBackupServiceRolePolicyForBackup) do not exist (404)",
        "not target-specific: every stack's role carries its own least-privilege inline policy on both targets; "
        "bootstrap's GitHub pipeline roles get AdministratorAccess / ReadOnlyAccess (within their boundary) on AWS "
        "only: on an emulator it skips the attachment with a note",
    ),
    Gap(
        "lambda-invoke",
        "Lambda invoke needs a Docker engine, which does not run here",
        "handlers are tested in-process with boto3 pointed at the emulator; the client (`make smoke`) runs the "
        "function behind the route it resolved in-process, with its deployed environment "
        "(`runs_functions_in_process`); each call starts cold but for the SDK's models and clients, kept as a warm "
        "container keeps them",
    ),
    Gap(
        "ec2-user-data",
        "instances launch (and register healthy in their target group) but never run their user data, so no "
        "payment server runs behind the load balancer with `compute.runtime = ec2`; nothing answers the ALB's "
        "listeners either",
        "after compute-<role> applies in ec2, `ops` runs a stand-in per region: `python -m lambda_src.payment_server` "
        "on 127.0.0.1 (a free port), with the environment read back from the deployed launch template's user data "
        "plus the emulator's endpoint and fake credentials (as gap `lambda-invoke` gives the functions), restarted "
        "when the template's version changes, stopped by `make local-down` and by destroying compute; pid, log and "
        "port under .local/processor-<port>-<region>.*. The client checks the ALB's :443 listener, certificate, "
        "forward action and target health in the emulator, then sends a real HTTP request to the region's stand-in "
        "(`runs_processor_stand_in`)",
    ),
    Gap(
        "route53-health-checkers",
        "Route 53 health checks are stored but nothing probes their endpoints: GetHealthCheckStatus answers a "
        "canned success",
        "the client probes each check's target itself (`GET https://origin-<role>.api.<zone>/v1/health` through "
        "its own path, the health function in-process) and counts a 2xx or 3xx as healthy "
        "(`probes_health_checks_itself`); a rollout's bake is watched by the alarms only",
    ),
    Gap(
        "peering-accepter-tags",
        "the accepter side reads back the requester's tags",
        "both sides of the peering carry identical tags (harmless on AWS, so not target-specific)",
    ),
    # Compute layer.
    Gap(
        "sqs-redrive-policy-format",
        "RedrivePolicy is read back re-serialized with spaces; the provider compacts only the configured value, so "
        "every plan shows a whitespace-only diff (with any spelling of the JSON, and also when the policy is set "
        "by aws_sqs_queue_redrive_policy)",
        "ignore_changes on the retry queue's redrive_policy locally",
        ignore_changes=("redrive_policy",),
    ),
    Gap(
        "sqs-redrive-allow-policy",
        "aws_sqs_queue_redrive_allow_policy is never stored: apply waits forever",
        "not target-specific: no redrive allow policy, so a dead-letter queue accepts any source queue of the "
        "account (the SQS default)",
    ),
    Gap(
        "composite-alarm",
        "PutCompositeAlarm is not implemented (HTTP 500)",
        "locally `region-unhealthy` is a metric alarm on the API's 5xx rate under the same name (its state can be "
        "set like the composite's); the aws target gets the composite alarm, OR of the critical alarms",
    ),
    # The ledger of record (Aurora PostgreSQL).
    Gap(
        "rds-engine",
        "RDS control-plane resources exist but no database engine runs: nothing answers on a cluster endpoint",
        "the project runs PostgreSQL 15 locally (ops/local/postgres.py): the primary region's instance on "
        "local.port+1 and a streaming-replication hot standby for the secondary's on local.port+2; the functions' "
        "LEDGER_WRITER_HOSTS names both and they write to the one not in recovery (`ledger_writer_hosts`)",
    ),
    Gap(
        "rds-iam-auth",
        "a local PostgreSQL cannot verify IAM database authentication tokens",
        "the local instances trust loopback connections (`trust` authentication, loopback only); the functions "
        "still create and send a token, and the aws target's grants and cluster setting are tested in unit tests",
    ),
    Gap(
        "rds-tls",
        "the local PostgreSQL instances speak no TLS",
        "LEDGER_TLS=disable on the local target, verify-full on the aws target (`ledger_tls_mode`)",
    ),
    # Account settings (`make bootstrap`) and account checks (`make preflight`).
    Gap(
        "backup-region-settings",
        "DescribeRegionSettings and UpdateRegionSettings of AWS Backup are not implemented (HTTP 404)",
        "bootstrap skips the Backup region settings on an emulator endpoint and prints a line naming this gap",
    ),
    Gap(
        "lambda-account-settings",
        "Lambda GetAccountSettings (the account's concurrency quota and unreserved concurrency) is not implemented "
        "(HTTP 404)",
        "preflight's Lambda concurrency check is skipped on an emulator endpoint, with a line naming this gap; "
        "unit tests check its arithmetic",
    ),
    Gap(
        "rds-engine-catalogue",
        "DescribeDBEngineVersions is not implemented (HTTP 500) and the orderable-instance catalogue of "
        "aurora-postgresql ends at 15.2",
        "preflight's engine-version and instance-class checks are skipped on an emulator endpoint, with a line "
        "naming this gap; unit tests run the instance-class check against the emulator's catalogue",
    ),
    # The DNS layer.
    Gap(
        "acm-validation-wait",
        "a certificate requested with DNS validation stays PENDING_VALIDATION for MOTO_ACM_VALIDATION_WAIT seconds "
        "(default 60), then turns ISSUED without looking at the validation records; "
        "aws_acm_certificate_validation waits that long",
        "the project's emulator launcher starts the emulator with MOTO_ACM_VALIDATION_WAIT="
        f"{ACM_VALIDATION_WAIT_SECONDS} (`emulator_environment`); the validation records are created in the zone "
        "as on AWS",
    ),
    Gap(
        "secretsmanager-replica-kms-key",
        "ReplicateSecretToRegions ignores the replica's KmsKeyId: the primary's ReplicationStatus reports every "
        "replica encrypted with aws/secretsmanager and DescribeSecret in the replica's region the primary's key "
        "(the replica shares the primary's value, nothing is encrypted, and it is InSync at once)",
        "ops.keys replicates the API key secret with the secondary's region key as on AWS but checks the replica's "
        "key only on the aws target",
    ),
    # The emulator process itself.
    Gap(
        "dynamodb-atomicity",
        "moto serves requests on parallel threads without item locks: two concurrent conditional PutItems on one "
        "key can both succeed (measured: 1 round in 40 of 16 writers)",
        "the project starts moto through its own emulator server, which applies DynamoDB requests one at a time "
        "(0 in 40); Terraform's state lock and the payment idempotency write depend on it (tested by the "
        "integration tests of the emulator)",
    ),
    # Step Functions (the rollout engine).
    Gap(
        "stepfunctions-executions",
        "state machines are stored but executions run only in the emulator's opt-in mode "
        "(`stepfunctions.execute_state_machine`, off by default)",
        "the project's emulator launcher turns that mode on in its own process before the first request "
        "(`ops.local.emulator_server`)",
    ),
    Gap(
        "sfn-validate-definition",
        "ValidateStateMachineDefinition is not implemented (HTTP 500); the AWS provider calls it at plan time for "
        "every state machine",
        "the launcher answers it (`ops.local.sfn_validation`): the definition parses as JSON, `StartAt` and every "
        "`Next`, `Default`, `Choices[].Next` and `Catch[].Next` name a state of their scope (Parallel branches and "
        "Map processors included), every state that does not end the run has a `Next`, and some state ends it; "
        "does not check the rest of the ASL schema (field types, paths, intrinsic functions, resource ARNs, "
        "Retry), which creating the state machine checks again only as far as the emulator's parser does",
    ),
    Gap(
        "sfn-list-versions",
        "ListStateMachineVersions is not implemented (HTTP 500); the AWS provider calls it after creating a state "
        "machine and on every refresh",
        "the launcher adds the handler (`ops.local.sfn_versions`): the versions the emulator keeps, newest first",
    ),
    Gap(
        "sfn-sdk-integration-shapes",
        "the executor passes an aws-sdk task's parameters to the service unchanged and returns its answer "
        "unchanged: parameters in Step Functions' casing (`DbClusterIdentifier`) are dropped, results come back in "
        "the SDK's casing (`DBClusterSnapshot`), S3 GetObject's streamed `Body` fails the state, and timestamps stay "
        "datetime objects (DescribeExecution answers HTTP 500 for an output holding one)",
        "the launcher converts both as Step Functions does (`ops.local.sfn_sdk_shapes`, moto's own conversion "
        "hooked in; timestamps as ISO 8601 text), so one definition runs on both targets; error names keep the "
        "emulator's spelling (`s3.NoSuchKeyException`, AWS: `S3.NoSuchKeyException`)",
    ),
    Gap(
        "sfn-context-times",
        "the context object's `$$.Execution.StartTime` is a datetime object, not ISO 8601 text (DescribeExecution "
        "answers HTTP 500 for an output holding it), and `$$.State.EnteredTime` is written with microseconds and "
        "`+00:00`",
        "the launcher writes both as Step Functions does, `2026-12-02T18:47:53.123Z` (`ops.local.sfn_context`)",
    ),
    Gap(
        "sfn-cross-region-sdk",
        "a state machine cannot run a Lambda function in the emulator (no Docker; gap `lambda-invoke`)",
        "the rollout engine's read of the other region's alarms is an aws-sdk `cloudwatch:describeAlarms` task "
        "whose resource ARN names that region, which the emulator honours "
        "(`reads_other_region_alarms_directly`); on AWS, SDK integrations call only the state machine's own region, "
        "so the task invokes the `region-alarms` function (compute-primary)",
    ),
    Gap(
        "autoscaling-instance-refresh",
        "StartInstanceRefresh is not implemented (HTTP 500): an Auto Scaling group with an instance_refresh block "
        "fails to apply its next launch template version",
        "the processor fleet (compute.runtime = ec2) has no instance_refresh block locally; a new launch template "
        "version is still pinned on the group (the emulator runs no instances to replace)",
    ),
    Gap(
        "autoscaling-policy-read-back",
        "a target-tracking scaling policy reads back enabled = false and an empty predictive scaling block "
        "(phantom diff on every plan)",
        "ignore_changes on the fleet's CPU target policy's enabled and predictive_scaling_configuration locally",
        ignore_changes=("enabled", "predictive_scaling_configuration"),
    ),
    Gap(
        "launch-template-tag-specifications",
        "a launch template reads back a third tag specification, `launch-template`, holding the template's own tags "
        "(the provider's default tags), which its data never had (phantom diff on every plan)",
        "ignore_changes on the processor launch template's tag_specifications locally (the instance and volume "
        "specifications are checked in the synthesized JSON of both targets)",
        ignore_changes=("tag_specifications",),
    ),
)
GAPS_BY_KEY: dict[str, Gap] = {gap.key: gap for gap in GAPS}


def is_local(settings: Settings) -> bool:
    return settings.target == "local"


def runs_functions_in_process(settings: Settings) -> bool:
    """Gap `lambda-invoke`: the client's last hop is the deployed handler in this process, not an HTTPS request."""
    return is_local(settings)


def runs_processor_stand_in(settings: Settings) -> bool:
    """Gap `ec2-user-data`: a local process per region serves what the instances behind the load balancer would;
    the client's last hop through a load balancer is a plain HTTP request to it, not HTTPS to the ALB."""
    return is_local(settings)


def probes_health_checks_itself(settings: Settings) -> bool:
    """Gap `route53-health-checkers`: the client probes a health check's target instead of asking Route 53."""
    return is_local(settings)


def reads_other_region_alarms_directly(settings: Settings) -> bool:
    """Gap `sfn-cross-region-sdk`: the rollout engine reads the other region's alarms with a region-qualified aws-sdk
    task (locally) instead of invoking the `region-alarms` function (AWS)."""
    return is_local(settings)


def supports_composite_alarms(settings: Settings) -> bool:
    """Gap `composite-alarm`: `region-unhealthy` is a composite alarm on AWS, a metric alarm of that name locally."""
    return not is_local(settings)


def supports_dynamodb_replicas(settings: Settings) -> bool:
    """Gap `dynamodb-replica`."""
    return not is_local(settings)


def replicates_state_buckets_itself(settings: Settings) -> bool:
    """Gap `s3-state-replication`: the local replication process, not S3, copies the two state homes' objects."""
    return is_local(settings)


def reports_replica_kms_key(settings: Settings) -> bool:
    """Gap `secretsmanager-replica-kms-key`: whether a secret replica's reported KmsKeyId is the one requested."""
    return not is_local(settings)


def supports_backup_selection(settings: Settings) -> bool:
    """Gap `backup-selection`."""
    return not is_local(settings)


def supports_backup_vault_force_destroy(settings: Settings) -> bool:
    """Gap `backup-vault-force-destroy`."""
    return not is_local(settings)


def reuses_backup_plan_names(settings: Settings) -> bool:
    """Gap `backup-plan-name-reuse`."""
    return not is_local(settings)


def supports_instance_refresh(settings: Settings) -> bool:
    """Gap `autoscaling-instance-refresh`."""
    return not is_local(settings)


def supports_tls_only_bucket_policy(settings: Settings) -> bool:
    """Gap `s3-tls-only-policy`."""
    return not is_local(settings)


def ledger_writer_hosts(settings: Settings, global_writer_endpoint: str, port: int) -> str:
    """`LEDGER_WRITER_HOSTS`: the `host:port` candidates for the ledger's writer, in order.

    On AWS, the global database's writer endpoint: it follows the writer across switchover and failover, so
    either region's functions reach it (the secondary's over the VPC peering). Gap `rds-engine`: locally, both
    local PostgreSQL instances; the writer is whichever is not in recovery. `global_writer_endpoint` is never
    read locally (the emulator's global cluster has no endpoint a client could reach).
    """
    if not is_local(settings):
        return f"{global_writer_endpoint}:{port}"
    return ",".join(f"{LOOPBACK}:{settings.local.postgres_port(role)}" for role in ROLES)


def ledger_tls_mode(settings: Settings) -> str:
    """`LEDGER_TLS`: the functions verify the server's certificate and name on AWS; gap `rds-tls` locally."""
    return "disable" if is_local(settings) else "verify-full"


@cache
def emulator_global_cluster_region() -> str:
    """The region whose backend holds the emulator's global clusters: its default region (asked, not assumed).

    Read from the emulator package's source (`BaseResponse.default_region` in `moto/core/responses.py`)
    without importing it: importing moto would add half a second to every synth of the local target.
    """
    spec = importlib.util.find_spec("moto")  # finding a top-level package imports nothing
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the emulator package (moto) is not installed: run `make install`")
    source = Path(next(iter(spec.submodule_search_locations))) / "core" / "responses.py"
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef) and node.name == "BaseResponse":
            for statement in node.body:
                if (
                    isinstance(statement, ast.Assign)
                    and [getattr(target, "id", None) for target in statement.targets] == ["default_region"]
                    and isinstance(statement.value, ast.Constant)
                ):
                    return str(statement.value.value)
    from moto.core.responses import BaseResponse  # its source changed shape: ask the package itself

    return str(BaseResponse.default_region)


def __getattr__(name: str) -> str:
    """`EMULATOR_GLOBAL_CLUSTER_REGION`, resolved on first use (asking the emulator's package costs an import)."""
    if name == "EMULATOR_GLOBAL_CLUSTER_REGION":
        return emulator_global_cluster_region()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def joins_global_cluster(settings: Settings, region: str) -> bool:
    """Gap `aurora-global-cluster-members`: whether a cluster in `region` becomes a global cluster member."""
    return not is_local(settings) or region == emulator_global_cluster_region()


def emulator_environment() -> dict[str, str]:
    """Environment the emulator process starts with (read by moto when it is imported, so set before it starts).

    Gap `acm-validation-wait`.
    """
    return {"MOTO_ACM_VALIDATION_WAIT": str(ACM_VALIDATION_WAIT_SECONDS)}


def ignored_locally(settings: Settings, gap_key: str) -> list[str]:
    """The attributes a gap's phantom diff is silenced on; empty for the aws target."""
    return emulator_ignore_changes(settings, *GAPS_BY_KEY[gap_key].ignore_changes)


def emulator_ignore_changes(settings: Settings, *attributes: str) -> list[str]:
    """Attributes whose phantom diffs the emulator causes; empty for the aws target."""
    return list(attributes) if is_local(settings) else []


def clean_up_after_destroy(settings: Settings, client: Callable[[str, str], Any]) -> list[str]:
    """Remove what the emulator keeps after a destroy although AWS would not; one line per removal.

    `client(service, region)` returns a boto3 client for the emulator. Nothing happens on the aws target.
    Gap `rds-automated-snapshots`.
    """
    if not is_local(settings):
        return []
    removed: list[str] = []
    for region in dict.fromkeys((settings.regions.primary, settings.regions.secondary)):
        rds = client("rds", region)
        live = {cluster["DBClusterIdentifier"] for cluster in rds.describe_db_clusters()["DBClusters"]}
        snapshots = rds.describe_db_cluster_snapshots(SnapshotType="automated")["DBClusterSnapshots"]
        for snapshot in snapshots:
            if snapshot["DBClusterIdentifier"] not in live:
                identifier = snapshot["DBClusterSnapshotIdentifier"]
                rds.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=identifier)
                removed.append(f"removed {identifier} ({region}), an automated snapshot the emulator kept")
    return removed
