"""AWS rules for the data layer: Aurora, AWS Backup, the audit buckets and their lifecycle."""

from __future__ import annotations

import json
from typing import Any

from config.schema import AURORA_ENGINE_VERSIONS
from tests.support import Synth
from tests.unit.aws_rules.support import each

TRANSITION_MINIMUM_BYTES = 128 * 1024  # S3's default minimum object size for lifecycle transitions


def _policy(resource: dict[str, Any], key: str = "policy") -> dict[str, Any]:
    document: dict[str, Any] = json.loads(resource[key])
    return document


def _reference(resource_type: str, stack: str, synth: Synth, value: str) -> dict[str, Any]:
    """The resource of `resource_type` in `stack` that `value` (a `${type.name.attr}` token) points at."""
    name = value.removeprefix("${").split(".")[1]
    return synth.resources(stack, resource_type)[name]


def test_one_engine_version_that_supports_global_databases(aws: Synth) -> None:
    """CreateGlobalCluster fails for a version RDS no longer offers or one without global database support;
    the global cluster and its members run one engine version.
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.Aurora_Fea_Regions_DB-eng.Feature.GlobalDatabase.html
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database.configuration.requirements.html"""
    versions = [c["engine_version"] for _, _, c in each(aws, "aws_rds_global_cluster")]
    versions += [c["engine_version"] for _, _, c in each(aws, "aws_rds_cluster", at_least=2)]
    assert len(set(versions)) == 1, versions
    assert versions[0] in AURORA_ENGINE_VERSIONS


def test_instances_are_memory_optimized_and_never_upgraded_past_the_pin(aws: Synth) -> None:
    """Global databases need memory-optimized instance classes (no burstable db.t*). With an exact engine pin,
    an automatic minor upgrade would make every later plan request a downgrade, which RDS refuses: instances
    keep auto minor version upgrade off and upgrades go through the pinned version.
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database.configuration.requirements.html
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_UpgradeDBInstance.PostgreSQL.MinorUpgrade.html"""
    instances = each(aws, "aws_rds_cluster_instance", at_least=2)
    assert [name for _, name, i in instances if i.get("auto_minor_version_upgrade") is not False] == []
    assert [i["instance_class"] for _, _, i in instances if i["instance_class"].startswith("db.t")] == []


def test_both_global_members_ignore_what_a_switchover_rewrites(aws: Synth) -> None:
    """A switchover or failover swaps the writer and the secondary: RDS sets the new secondary's replication
    source, and upgrades members through the global cluster. Either cluster can be the secondary, so both
    ignore `replication_source_identifier` (Terraform would detach it) and `engine_version`.
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-upgrade.html"""
    members = each(aws, "aws_rds_cluster", at_least=2, where=lambda c: "global_cluster_identifier" in c)
    for _, name, cluster in members:
        ignored = set(cluster.get("lifecycle", {}).get("ignore_changes", []))
        assert {"replication_source_identifier", "engine_version"} <= ignored, name


def test_clusters_require_tls_and_log_connections(aws: Synth) -> None:
    """`rds.force_ssl` is 0 by default in Aurora PostgreSQL: set it to 1 in a cluster parameter group so
    connections without TLS are refused; connection and disconnection logging are off by default too. The
    group's family follows the engine's major version.
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.Security.html
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_WorkingWithParamGroups.html"""
    for stack, name, cluster in each(aws, "aws_rds_cluster", at_least=2):
        group = _reference("aws_rds_cluster_parameter_group", stack, aws, cluster["db_cluster_parameter_group_name"])
        assert group["family"] == f"aurora-postgresql{cluster['engine_version'].split('.')[0]}", name
        parameters = {p["name"]: p["value"] for p in group["parameter"]}
        assert parameters.get("rds.force_ssl") == "1", name
        assert parameters.get("log_connections") == "1", name
        assert parameters.get("log_disconnections") == "1", name


def test_backup_role_reaches_cluster_snapshots_in_both_regions(aws: Synth) -> None:
    """An Aurora copy job into another region's vault runs CopyDBClusterSnapshot on the source region's
    snapshot and creates one in the destination region: the role needs both regions' snapshot ARNs.
    https://docs.aws.amazon.com/aws-backup/latest/devguide/cross-region-backup.html
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-copy-snapshot.html"""
    statements = [
        statement
        for _, _, policy in each(aws, "aws_iam_role_policy", at_least=2)
        for statement in _policy(policy)["Statement"]
        if statement.get("Sid") == "ManageClusterSnapshots"
    ]
    assert len(statements) >= 2  # one backup role per data stack
    for statement in statements:
        assert "rds:CopyDBClusterSnapshot" in statement["Action"]
        regions = {arn.split(":")[3] for arn in statement["Resource"]}
        assert len(regions) == 2, statement["Resource"]


def test_lifecycle_transitions_only_objects_s3_would_transition(aws: Synth) -> None:
    """Since September 2024 S3 does not transition objects under 128 KB by default: a transition of the
    ~1 KB audit records never fires unless a size filter says otherwise.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html"""
    for _, name, configuration in each(aws, "aws_s3_bucket_lifecycle_configuration", at_least=2):
        for rule in configuration["rule"]:
            if rule.get("transition"):
                sizes = [f.get("object_size_greater_than", 0) for f in rule.get("filter", [])]
                assert min(sizes, default=0) >= TRANSITION_MINIMUM_BYTES, (name, rule["id"])


def test_prod_audit_buckets_are_object_locked_on_both_sides_of_replication(aws: Synth, aws_prod: Synth) -> None:
    """Object Lock can only be enabled when a bucket is created; COMPLIANCE mode keeps each version for the
    default retention, root included. Replicating a locked source requires a locked destination, and the
    replication role reads each version's retention and legal hold. Dev stays destroyable: no lock.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-requirements.html"""
    buckets = each(aws, "aws_s3_bucket", at_least=2, where=lambda b: "-audit-" in str(b["bucket"]))
    locks = aws.all_resources()
    lock_configs = [c for _, rtype, _, c in locks if rtype == "aws_s3_bucket_object_lock_configuration"]
    if aws is not aws_prod:
        assert [b["bucket"] for _, _, b in buckets if b.get("object_lock_enabled")] == []
        assert lock_configs == []
        return
    assert [b["bucket"] for _, _, b in buckets if b.get("object_lock_enabled") is not True] == []
    assert len(lock_configs) == len(buckets)
    for config in lock_configs:
        retention = config["rule"]["default_retention"]
        assert retention["mode"] == "COMPLIANCE"
        assert retention["days"] > 0
    (replication,) = [p for _, name, p in each(aws, "aws_iam_role_policy") if "replication" in name]
    actions = {a for s in _policy(replication)["Statement"] for a in s["Action"]}
    assert {"s3:GetObjectRetention", "s3:GetObjectLegalHold"} <= actions


def test_prod_backup_vaults_are_locked_within_the_plan_retention(aws: Synth, aws_prod: Synth) -> None:
    """Backup Vault Lock in compliance mode (a grace time of at least 3 days) keeps recovery points from
    deletion before the minimum retention; a backup or copy whose lifecycle is shorter than the minimum fails.
    https://docs.aws.amazon.com/aws-backup/latest/devguide/vault-lock.html"""
    vaults = each(aws, "aws_backup_vault", at_least=2)
    locks = [c for _, rtype, _, c in aws.all_resources() if rtype == "aws_backup_vault_lock_configuration"]
    if aws is not aws_prod:
        assert locks == []
        return
    assert len(locks) == len(vaults)
    shortest_retention = min(
        rule["lifecycle"]["delete_after"]
        for _, _, plan in each(aws, "aws_backup_plan", at_least=2)
        for rule in plan["rule"]
    )
    for lock in locks:
        assert lock["changeable_for_days"] >= 3
        assert 1 <= lock["min_retention_days"] <= shortest_retention


def test_global_database_members_do_not_use_rds_managed_master_passwords(aws: Synth) -> None:
    """RDS-managed master passwords in Secrets Manager are not supported for Aurora global databases: the
    writer's password comes from a write-only argument (never in state), kept in a secret with a key of ours.
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-getting-started.html"""
    members = each(aws, "aws_rds_cluster", at_least=2, where=lambda c: "global_cluster_identifier" in c)
    assert [name for _, name, c in members if "manage_master_user_password" in c or "master_password" in c] == []
    writers = [(stack, c) for stack, _, c in members if "master_username" in c]
    assert len(writers) == 1
    ((stack, writer),) = writers
    assert writer["master_password_wo"].startswith("${ephemeral.")
    (version,) = aws.resources(stack, "aws_secretsmanager_secret_version").values()
    (secret,) = [  # the master password's (the API key secret beside it has no Terraform-managed version)
        s for name, s in aws.resources(stack, "aws_secretsmanager_secret").items() if name in version["secret_id"]
    ]
    assert secret["kms_key_id"].startswith("${aws_kms_key.")
    assert "secret_string" not in version
    assert version["secret_string_wo_version"] == writer["master_password_wo_version"]
