"""Aurora PostgreSQL: the global database and one region's cluster (subnet group, cluster, instances, logs).

A cluster either joins a global cluster (the primary as its writer, the
secondary as a read-only member that AWS keeps in sync) or stands alone.
The cluster that owns the data has a master user whose password reaches it
through the write-only `master_password_wo` (see `stacks.data.master_password`:
global database members cannot use RDS-managed passwords, and a write-only
argument keeps the password out of Terraform state). A member joining a
global cluster has no master user of its own: it inherits the writer's.

Upgrade model: `data.aurora_engine_version` is an exact pin (one of `config.schema.AURORA_ENGINE_VERSIONS`)
and the only way the engine changes. Every instance has `auto_minor_version_upgrade = false`, so AWS never
moves a cluster past the pin (an automatic upgrade would make every later plan attempt a downgrade, which
RDS refuses). To upgrade, change the pinned version: the global cluster carries it and RDS upgrades its
members, which therefore ignore their own `engine_version` (`GLOBAL_MEMBER_IGNORES`). Each cluster's
parameter group family follows the same version (`parameter_group_family`); a major upgrade is a new family.

Every cluster uses a cluster parameter group that refuses connections without TLS (`rds.force_ssl`) and logs
each connection and disconnection into the exported postgresql log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.rds_cluster_parameter_group import (
    RdsClusterParameterGroup,
    RdsClusterParameterGroupParameter,
)
from cdktf_cdktf_provider_aws.rds_global_cluster import RdsGlobalCluster
from constructs import Construct

from shared import iam
from shared.checkov import skip
from shared.naming import Naming
from shared.service_role import ServiceRole

ENGINE = "aurora-postgresql"
EXPORTED_LOGS = ("postgresql",)
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7  # the free tier
MONITORING_INTERVAL_SECONDS = 60
ENHANCED_MONITORING_LOG_GROUP = "RDSOSMetrics"  # fixed by RDS, shared by every instance of the region
BACKUP_WINDOW = "03:00-04:00"
MAINTENANCE_WINDOW = "sun:05:00-sun:06:00"
# Cluster parameters: TLS only, and a log line per connection and disconnection. Applied at the next reboot
# (a new cluster starts with them); `pending-reboot` is accepted for static and dynamic parameters alike.
CLUSTER_PARAMETERS: dict[str, str] = {"rds.force_ssl": "1", "log_connections": "1", "log_disconnections": "1"}
PARAMETER_APPLY_METHOD = "pending-reboot"
# Roles swap on `make failover`: RDS rewrites both members' replication source, and upgrades both through the
# global cluster's engine_version. Left in the diff, Terraform would detach a member (the former writer, after
# a switchover) from the global database, or try to upgrade a member on its own. `global_cluster_identifier`
# stays diffed: switchover and failover (FailoverGlobalCluster) keep both clusters members of the same one.
GLOBAL_MEMBER_IGNORES: tuple[str, ...] = ("replication_source_identifier", "engine_version")


def parameter_group_family(engine_version: str) -> str:
    """The parameter group family of an Aurora PostgreSQL version: `aurora-postgresql` and its major version."""
    return f"{ENGINE}{engine_version.split('.', maxsplit=1)[0]}"


LOG_RETENTION_REASON = "retention is compute.log_retention_days from config; backups keep the long-term record"
QUERY_LOGGING_REASON = "statement logging would copy payment data into CloudWatch Logs; the postgresql log is exported"


class AuroraGlobalDatabase(Construct):
    """The global cluster. Exposes `global_cluster` (`id`).

    No `database_name` here: the database is created by the writer cluster (and
    the emulator drops the attribute from global clusters, forcing replacement).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        identifier: str,
        engine_version: str,
        deletion_protection: bool,
        lifecycle: TerraformResourceLifecycle | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.global_cluster = RdsGlobalCluster(
            self,
            "global",
            global_cluster_identifier=identifier,
            engine=ENGINE,
            engine_version=engine_version,
            storage_encrypted=True,
            deletion_protection=deletion_protection,
            lifecycle=lifecycle,
        )


@dataclass(frozen=True)
class MasterUser:
    """The database a writer cluster creates and its master user; `password` is an ephemeral reference
    (write-only arguments only), written when `password_version` changes."""

    database_name: str
    username: str
    password: str
    password_version: int


class AuroraCluster(Construct):
    """Exposes `cluster` (`cluster_identifier`, `arn`, `endpoint`, `reader_endpoint`).

    Instances report load to Performance Insights (encrypted with the region key) and OS metrics through
    Enhanced Monitoring, whose role has the managed monitoring policy's grants as an inline policy.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: Naming,
        account_id: str,
        partition: str,
        identifier: str,
        engine_version: str,
        instance_class: str,
        instance_count: int,
        subnet_ids: Sequence[str],
        security_group_ids: Sequence[str],
        kms_key_arn: str,
        backup_retention_days: int,
        log_retention_days: int,
        deletion_protection: bool,
        final_snapshot_identifier: str | None,
        global_cluster_identifier: str | None = None,
        master_user: MasterUser | None = None,
        lifecycle: TerraformResourceLifecycle | None = None,
        instance_ignore_changes: Sequence[str] = (),
        tags: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        subnet_group = DbSubnetGroup(
            self,
            "subnets",
            name=identifier,
            description=f"{identifier}: isolated subnets only",
            subnet_ids=list(subnet_ids),
        )
        # Created here (encrypted, with a retention) before RDS would create it unmanaged on first export.
        log_groups = [
            CloudwatchLogGroup(
                self,
                f"log-{log}",
                name=f"/aws/rds/cluster/{identifier}/{log}",
                retention_in_days=log_retention_days,
                kms_key_id=kms_key_arn,
            )
            for log in EXPORTED_LOGS
        ]
        for group in log_groups:
            skip(group, "CKV_AWS_338", LOG_RETENTION_REASON)
        monitoring = self._monitoring_role(naming, account_id, partition)
        self.parameter_group = RdsClusterParameterGroup(
            self,
            "parameters",
            name=identifier,
            family=parameter_group_family(engine_version),
            description=f"{identifier}: TLS only, connections logged",
            parameter=[
                RdsClusterParameterGroupParameter(name=name, value=value, apply_method=PARAMETER_APPLY_METHOD)
                for name, value in CLUSTER_PARAMETERS.items()
            ],
        )
        self.cluster = RdsCluster(
            self,
            "cluster",
            cluster_identifier=identifier,
            engine=ENGINE,
            engine_version=engine_version,
            global_cluster_identifier=global_cluster_identifier,
            db_subnet_group_name=subnet_group.name,
            db_cluster_parameter_group_name=self.parameter_group.name,
            vpc_security_group_ids=list(security_group_ids),
            storage_encrypted=True,
            kms_key_id=kms_key_arn,
            iam_database_authentication_enabled=True,
            backup_retention_period=backup_retention_days,
            preferred_backup_window=BACKUP_WINDOW,
            preferred_maintenance_window=MAINTENANCE_WINDOW,
            copy_tags_to_snapshot=True,
            enabled_cloudwatch_logs_exports=list(EXPORTED_LOGS),
            deletion_protection=deletion_protection,
            skip_final_snapshot=final_snapshot_identifier is None,
            final_snapshot_identifier=final_snapshot_identifier,
            lifecycle=lifecycle,
            tags=dict(tags or {}),
            depends_on=log_groups,
            # A member of a global cluster takes its database and master user from the writer.
            database_name=master_user.database_name if master_user else None,
            master_username=master_user.username if master_user else None,
            master_password_wo=master_user.password if master_user else None,
            master_password_wo_version=master_user.password_version if master_user else None,
        )
        skip(self.cluster, "CKV2_AWS_8", "in the region's daily AWS Backup plan through its tag-based selection")
        skip(self.cluster, "CKV2_AWS_27", QUERY_LOGGING_REASON)
        if not deletion_protection:
            skip(self.cluster, "CKV_AWS_139", "dev is destroyable by design (stacks/protection.py); prod turns it on")
        self.instances = [
            RdsClusterInstance(
                self,
                f"instance-{number}",
                identifier=f"{identifier}-{number}",
                cluster_identifier=self.cluster.id,
                instance_class=instance_class,
                engine=self.cluster.engine,
                engine_version=self.cluster.engine_version,
                db_subnet_group_name=subnet_group.name,
                publicly_accessible=False,
                auto_minor_version_upgrade=False,  # the pin is the only upgrade path (module docstring)
                copy_tags_to_snapshot=True,
                performance_insights_enabled=True,
                performance_insights_kms_key_id=kms_key_arn,
                performance_insights_retention_period=PERFORMANCE_INSIGHTS_RETENTION_DAYS,
                monitoring_interval=MONITORING_INTERVAL_SECONDS,
                monitoring_role_arn=monitoring.arn,
                promotion_tier=number,
                preferred_maintenance_window=MAINTENANCE_WINDOW,
                tags=dict(tags or {}),
                lifecycle=(
                    TerraformResourceLifecycle(ignore_changes=list(instance_ignore_changes))
                    if instance_ignore_changes
                    else None
                ),
            )
            for number in range(1, instance_count + 1)
        ]
        for instance in self.instances:
            skip(
                instance,
                "CKV_AWS_226",
                "the engine version is pinned exactly and changed only through the config (module docstring); AWS "
                "upgrading a member on its own would make every plan try a downgrade",
            )

    def _monitoring_role(self, naming: Naming, account_id: str, partition: str) -> IamRole:
        """Enhanced Monitoring's role: what the AWS-managed monitoring policy grants, for this region's log group."""
        group = f"arn:{partition}:logs:{naming.region}:{account_id}:log-group:{ENHANCED_MONITORING_LOG_GROUP}"
        return ServiceRole(
            self,
            "monitoring-role",
            policy_id="monitoring-policy",
            service="monitoring.rds.amazonaws.com",
            name=naming.name("rds-monitoring"),
            policy_name="publish-os-metrics",
            # Enhanced Monitoring sends the DB instance ARN as aws:SourceArn.
            source_arn=f"arn:{partition}:rds:{naming.region}:{account_id}:db:*",
            statements=[
                iam.allow(["logs:CreateLogGroup", "logs:PutRetentionPolicy"], [group], sid="OsMetricsLogGroup"),
                iam.allow(
                    ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:GetLogEvents"],
                    [f"{group}:log-stream:*"],
                    sid="OsMetricsLogStreams",
                ),
            ],
        ).role
