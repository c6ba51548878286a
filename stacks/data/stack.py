"""DataStack: everything stateful in one region.

Both regions: the region key, the audit bucket, an Aurora cluster and the
daily backup. The primary owns the `payments` table
and the Aurora global cluster; the secondary owns every cross-region link
(the table replica, the Aurora member cluster, S3 replication of the audit
buckets both ways -- the primary bucket's configuration created in the primary
region through the provider alias) so the primary never depends on it. Each
region's backup plan copies its recovery points to the other region's vault.
Where the local emulator cannot do what AWS does, `shared.local_target`
decides what happens instead.
"""

from __future__ import annotations

from cdktf import Fn
from constructs import Construct

from config.settings import Role, Settings
from shared.aurora_names import AURORA
from shared.local_target import (
    ignored_locally,
    joins_global_cluster,
    reuses_backup_plan_names,
    supports_backup_selection,
    supports_backup_vault_force_destroy,
    supports_dynamodb_replicas,
    supports_tls_only_bucket_policy,
)
from shared.naming import Naming
from stacks.base import PlatformStack
from stacks.data.api_key_secret import API_KEY_COMPONENT, ApiKeySecret
from stacks.data.audit_bucket import AuditBucket, audit_bucket_name
from stacks.data.aurora import GLOBAL_MEMBER_IGNORES, AuroraCluster, AuroraGlobalDatabase, MasterUser
from stacks.data.backup import (
    CopyDestination,
    DailyBackup,
    ProtectedResources,
    selection_tags,
)
from stacks.data.kms_key import RegionKey
from stacks.data.master_password import MasterPassword, MasterPasswordCopy
from stacks.data.payments_table import PaymentsTable, PaymentsTableReplica, replica_managed_elsewhere
from stacks.data.s3_replication import BucketReplication, ReplicatedBucket, ReplicationDirection
from stacks.network.stack import NetworkStack

AURORA_BACKUP_RETENTION_DAYS = 7
TABLE_COMPONENT = "payments"


def shared_name(naming: Naming, component: str) -> str:
    """A name one resource has in every region (a global table, a global cluster): no role, no region."""
    return f"{naming.project}-{naming.suffix}-{component}"


def replication_role_name(settings: Settings) -> str:
    """The audit-bucket replication role (created by data-secondary; both region keys name it)."""
    return Naming.for_role(settings, "secondary").name("s3-replication")


class DataStack(PlatformStack):
    """Exposes `key_arn`, `key_id`, `table_name`, `table_arn`, `table_stream_arn` (primary), `audit_bucket_name`,
    `audit_bucket_arn`, `cluster_identifier`, `cluster_arn`, `cluster_endpoint` (writer in the primary, reader in
    the secondary), `global_cluster_identifier`, `database_secret_arn`, `backup_vault_name` and `backup_plan_id`;
    each is also an output of the same name, beside `key_alias`. And `global_writer_endpoint`, the global
    database's writer endpoint (it follows the writer across switchover and failover; the secondary passes on the
    primary's, so only secondary stacks reference primary ones): an attribute only, for the compute layer. And
    `api_key_secret_name` (both regions: the secret in the primary, its replica in the secondary; an output of
    data-primary only, which creates the secret)."""

    layer = "data"

    def __init__(
        self,
        scope: Construct,
        *,
        settings: Settings,
        role: Role,
        network: NetworkStack,
        primary: DataStack | None = None,
    ) -> None:
        super().__init__(scope, settings=settings, role=role, depends_on=[network, primary])
        self.network = network
        self.primary = primary
        self._key()
        self._audit_bucket()
        # The secret's name in its region and in the replica's: a plain name, so compute-R reads its own region's
        # copy without referencing data-primary.
        self.api_key_secret_name = shared_name(self.naming, API_KEY_COMPONENT)
        if primary is None:
            self._primary_table()
            self._api_key_secret()
            self._global_database()
            self._cluster(writer=True)
        else:
            self._table_in_secondary(primary)
            self.global_cluster_identifier: str = primary.global_cluster_identifier
            self.global_writer_endpoint: str = primary.global_writer_endpoint
            self._cluster(writer=False)
            self._replicate_audit_bucket(primary)
        self._backup()
        self._outputs()

    # -- key and audit bucket ---------------------------------------------------------------------------------

    def _key(self) -> None:
        self.key = RegionKey(
            self,
            "key",
            naming=self.naming,
            account_id=self.account_id,
            partition=self.partition,
            deletion_window_days=self.protection.kms_deletion_window_days,
            replication_role_arn=(
                f"arn:{self.partition}:iam::{self.account_id}:role/{replication_role_name(self.settings)}"
            ),
            replicated_bucket_arn=f"arn:{self.partition}:s3:::{audit_bucket_name(self.naming, self.account_id)}",
            lifecycle=self.protection.lifecycle(),
            autoscaling_volumes=self.settings.compute.runtime == "ec2",
        )
        self.key_arn = self.key.key.arn
        self.key_id = self.key.key.key_id

    def _audit_bucket(self) -> None:
        self.audit = AuditBucket(
            self,
            "audit",
            naming=self.naming,
            kms_key_arn=self.key_arn,
            noncurrent_version_expiration_days=self.settings.data.noncurrent_version_expiration_days,
            force_destroy=self.protection.force_destroy,
            lifecycle=self.protection.lifecycle(),
            tls_only=supports_tls_only_bucket_policy(self.settings),
            object_lock_days=self.settings.data.audit_object_lock_days,
        )
        self.audit_bucket_name = self.audit.bucket.bucket
        self.audit_bucket_arn = self.audit.bucket.arn

    # -- DynamoDB ---------------------------------------------------------------------------------------------

    def _primary_table(self) -> None:
        self.table = PaymentsTable(
            self,
            "payments-table",
            name=shared_name(self.naming, TABLE_COMPONENT),
            kms_key_arn=self.key_arn,
            deletion_protection=self.protection.deletion_protection,
            lifecycle=self.protection.lifecycle(ignore_changes=replica_managed_elsewhere()),
            tags=selection_tags(self.naming),
        ).table
        self.table_name = shared_name(self.naming, TABLE_COMPONENT)
        self.table_arn = self.table.arn
        self.table_stream_arn = self.table.stream_arn

    def _table_in_secondary(self, primary: DataStack) -> None:
        self.table_name = primary.table_name
        if supports_dynamodb_replicas(self.settings):
            replica = PaymentsTableReplica(
                self,
                "payments-replica",
                global_table_arn=primary.table_arn,
                kms_key_arn=self.key_arn,
                deletion_protection=self.protection.deletion_protection,
                lifecycle=self.protection.lifecycle(),
                tags=selection_tags(self.naming),
            ).replica
            self.table_arn = replica.arn
        else:  # gap `dynamodb-replica`: a regional table of the same name and shape stands in for the replica
            table = PaymentsTable(
                self,
                "payments-table",
                name=self.table_name,
                kms_key_arn=self.key_arn,
                deletion_protection=self.protection.deletion_protection,
                lifecycle=self.protection.lifecycle(),
                tags=selection_tags(self.naming),
            ).table
            self.table_arn = table.arn

    # -- API keys (primary; ops.keys replicates it) -----------------------------------------------------------

    def _api_key_secret(self) -> None:
        self.api_key_secret = ApiKeySecret(
            self,
            "api-key-secret",
            name=self.api_key_secret_name,
            kms_key_arn=self.key_arn,
            force_delete=self.protection.force_destroy,
        ).secret

    # -- Aurora -----------------------------------------------------------------------------------------------

    def _global_database(self) -> None:
        self.global_database = AuroraGlobalDatabase(
            self,
            "aurora-global",
            identifier=shared_name(self.naming, AURORA),
            engine_version=self.settings.data.aurora_engine_version,
            deletion_protection=self.protection.deletion_protection,
            lifecycle=self.protection.lifecycle(
                ignore_changes=ignored_locally(self.settings, "aurora-global-cluster-tags")
            ),
        )
        self.global_cluster_identifier = self.global_database.global_cluster.id
        self.global_writer_endpoint = self.global_database.global_cluster.endpoint

    def _cluster(self, *, writer: bool) -> None:
        data = self.settings.data
        joins = joins_global_cluster(self.settings, self.region)  # gap `aurora-global-cluster-members`
        ignore = ignored_locally(self.settings, "aurora-scaling-configuration")
        if joins:  # either member may be the writer: `make failover` swaps their roles
            ignore += GLOBAL_MEMBER_IGNORES
        identifier = self.naming.name(AURORA)
        secret_name = self.naming.name("aurora-master")
        master_user = None
        if writer or not joins:  # a member of a global cluster inherits the writer's database and master user
            password = MasterPassword(
                self,
                "aurora-master",
                secret_name=secret_name,
                username=data.database_master_username,
                kms_key_arn=self.key_arn,
                force_delete=self.protection.force_destroy,
            )
            master_user = MasterUser(
                database_name=data.database_name,
                username=data.database_master_username,
                password=password.password,
                password_version=password.version,
            )
            self.database_secret_arn = password.secret.arn
        else:  # the writer's secret, copied into this region under this region's key
            self.database_secret_arn = MasterPasswordCopy(
                self,
                "aurora-master",
                secret_name=secret_name,
                source_secret_name=Naming.for_role(self.settings, self.peer_role).name("aurora-master"),
                source_provider_alias=f"aws.{self.peer_provider.alias}",
                kms_key_arn=self.key_arn,
                force_delete=self.protection.force_destroy,
            ).secret.arn
        aurora = AuroraCluster(
            self,
            "aurora",
            naming=self.naming,
            account_id=self.account_id,
            partition=self.partition,
            identifier=identifier,
            engine_version=data.aurora_engine_version,
            instance_class=data.aurora_instance_class,
            instance_count=data.aurora_instance_count,
            subnet_ids=self.network.isolated_subnet_ids,
            security_group_ids=[self.network.database_sg_id],
            kms_key_arn=self.key_arn,
            backup_retention_days=AURORA_BACKUP_RETENTION_DAYS,
            log_retention_days=self.settings.compute.log_retention_days,
            deletion_protection=self.protection.deletion_protection,
            final_snapshot_identifier=self.protection.final_snapshot_identifier(identifier),
            global_cluster_identifier=self.global_cluster_identifier if joins else None,
            master_user=master_user,
            lifecycle=self.protection.lifecycle(ignore_changes=ignore),
            instance_ignore_changes=ignored_locally(self.settings, "rds-performance-insights"),
            tags=selection_tags(self.naming),
        )
        self.aurora = aurora
        self.cluster_identifier = aurora.cluster.cluster_identifier
        self.cluster_arn = aurora.cluster.arn
        self.cluster_endpoint = aurora.cluster.endpoint if writer else aurora.cluster.reader_endpoint

    # -- S3 replication (secondary) ---------------------------------------------------------------------------

    def _replicate_audit_bucket(self, primary: DataStack) -> None:
        """Both ways: the primary's records reach the secondary, and what the secondary writes while it is the
        current region reaches the primary. Both configurations are made here (the primary's through the
        provider alias), so data-primary never depends on data-secondary; both buckets are versioned before
        either configuration exists (the primary's by data-primary, deployed first)."""
        primary_bucket = ReplicatedBucket(
            bucket_id=primary.audit_bucket_name,
            bucket_arn=primary.audit_bucket_arn,
            kms_key_arn=primary.key_arn,
            region=primary.region,
            label="Primary",
        )
        secondary_bucket = ReplicatedBucket(
            bucket_id=self.audit_bucket_name,
            bucket_arn=self.audit_bucket_arn,
            kms_key_arn=self.key_arn,
            region=self.region,
            label="Secondary",
        )
        self.replication = BucketReplication(
            self,
            "audit-replication",
            role_name=replication_role_name(self.settings),
            directions=[
                ReplicationDirection(
                    "configuration", primary_bucket, secondary_bucket, source_provider=self.peer_provider
                ),
                ReplicationDirection("configuration-to-primary", secondary_bucket, primary_bucket),
            ],
            replication_time_control=self.settings.data.replication_time_control,
            object_lock=self.settings.data.audit_object_lock_days > 0,  # both buckets: one setting
            depends_on=[self.audit.versioning],
            ignore_changes=[
                *ignored_locally(self.settings, "s3-replication-delete-markers"),
                *ignored_locally(self.settings, "s3-replication-source-selection"),
            ],
        )

    # -- AWS Backup -------------------------------------------------------------------------------------------

    def _backup(self) -> None:
        settings = self.settings
        copy_to = None
        # Both regions copy to the other's vault (`backup_copy_to_secondary` kept its name from when only the
        # primary copied): whichever region is current has its recovery points copied out. The peer's vault and
        # key are named here, never referenced: the secondary's come later, and the secondary's plan must not
        # read the primary's state (the region it covers for may be gone).
        if settings.data.backup_copy_to_secondary:
            peer = Naming.for_role(settings, self.peer_role)
            prefix = f"arn:{self.partition}"
            copy_to = CopyDestination(
                vault_arn=f"{prefix}:backup:{peer.region}:{self.account_id}:backup-vault:{peer.name('vault')}",
                key_arn_pattern=f"{prefix}:kms:{peer.region}:{self.account_id}:key/*",
                key_alias=peer.alias("data"),
            )
        self.backup = DailyBackup(
            self,
            "backup",
            naming=self.naming,
            kms_key_arn=self.key_arn,
            retention_days=settings.data.backup_retention_days,
            vault_lock_days=settings.data.backup_vault_lock_days,
            resources=ProtectedResources(
                table_arns=[self.table_arn],
                cluster_arns=[self.cluster_arn],
                # Both regions: copy jobs between the two vaults read and write snapshots on either side.
                cluster_snapshot_arn_patterns=[
                    f"arn:{self.partition}:rds:{region}:{self.account_id}:cluster-snapshot:awsbackup:*"
                    for region in (self.region, settings.regions.of(self.peer_role))
                ],
            ),
            copy_to=copy_to,
            with_selection=supports_backup_selection(settings),
            vault_force_destroy=self.protection.force_destroy and supports_backup_vault_force_destroy(settings),
            lifecycle=self.protection.lifecycle(),
            ignore_changes=ignored_locally(settings, "backup-tags"),
            name_suffix=None if reuses_backup_plan_names(settings) else Fn.substr(self.key_id, 0, 8),
        )
        self.backup_vault_name = self.backup.vault.name
        self.backup_plan_id = self.backup.plan.id

    # -- outputs ----------------------------------------------------------------------------------------------

    def _outputs(self) -> None:
        self.export("key_arn", self.key_arn, description="Region CMK (ARN)")
        self.export("key_id", self.key_id, description="Region CMK (key id)")
        self.export("key_alias", self.key.alias_name, description="Region CMK alias")
        self.export("table_name", self.table_name, description="Payments table (same name in both regions)")
        self.export("table_arn", self.table_arn, description="Payments table in this region")
        if self.primary is None:
            self.export("table_stream_arn", self.table_stream_arn, description="Payments table stream")
            self.export(
                "api_key_secret_name",
                self.api_key_secret.name,
                description="Secret of the API keys (value and replica owned by ops: make rotate-api-key)",
            )
        self.export(
            "database_secret_arn",
            self.database_secret_arn,
            description="Aurora master user secret in this region (username and password, region key)",
        )
        self.export("audit_bucket_name", self.audit_bucket_name, description="Audit record bucket")
        self.export("audit_bucket_arn", self.audit_bucket_arn, description="Audit record bucket (ARN)")
        self.export("cluster_identifier", self.cluster_identifier, description="Aurora cluster in this region")
        self.export("cluster_arn", self.cluster_arn, description="Aurora cluster (ARN)")
        self.export(
            "cluster_endpoint",
            self.cluster_endpoint,
            description="Aurora writer endpoint (primary) or reader endpoint (secondary)",
        )
        self.export("global_cluster_identifier", self.global_cluster_identifier, description="Aurora global database")
        self.export("backup_vault_name", self.backup_vault_name, description="AWS Backup vault")
        self.export("backup_plan_id", self.backup_plan_id, description="AWS Backup daily plan")
