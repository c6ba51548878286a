"""The data layer's synthesized JSON, property by property, for the local target and for AWS (dev and prod)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from config import load_settings
from config.settings import Settings
from ops.build.synth import synth_app
from shared.local_target import GAPS_BY_KEY, clean_up_after_destroy
from shared.naming import Naming
from stacks.data.aurora import GLOBAL_MEMBER_IGNORES
from stacks.data.stack import replication_role_name
from tests.conftest import AWS_ACCOUNT, AWS_PROD_ALARM_EMAIL, AWS_ZONE
from tests.support import Synth

DATA_STACKS = ("data-primary", "data-secondary")
KEY_REF = "${aws_kms_key.key_F64E54E4.arn}"
PRIMARY_REF = "${data.terraform_remote_state.cross-stack-reference-input-data-primary.outputs."
# Stateful resource types that prod must never destroy (and dev must destroy cleanly).
STATEFUL_TYPES = (
    "aws_kms_key",
    "aws_dynamodb_table",
    "aws_dynamodb_table_replica",
    "aws_rds_global_cluster",
    "aws_rds_cluster",
    "aws_s3_bucket",
    "aws_backup_vault",
)
# What AWS itself needs ignored, on every target (documented for aws_dynamodb_table_replica and for the
# member clusters of aws_rds_global_cluster, both, since roles swap); anything else is an emulator gap, local only.
AWS_REQUIRED_IGNORES = {
    ("data-primary", "aws_dynamodb_table", "replica"),
    ("data-primary", "aws_secretsmanager_secret", "replica"),  # the API key secret's replica is ops.keys'
    *((stack, "aws_rds_cluster", attr) for stack in DATA_STACKS for attr in GLOBAL_MEMBER_IGNORES),
}


def settings_for(**overrides: str) -> Settings:
    return load_settings(environ={"PAYMENTS_DOTENV": "none", **overrides})


LOCAL_DEV = settings_for()
AWS_DEV = settings_for(PAYMENTS_TARGET="aws", PAYMENTS_AWS_ACCOUNT_ID=AWS_ACCOUNT, PAYMENTS_DNS_ZONE_NAME=AWS_ZONE)
AWS_PROD = settings_for(
    PAYMENTS_ENV="prod",
    PAYMENTS_TARGET="aws",
    PAYMENTS_AWS_ACCOUNT_ID=AWS_ACCOUNT,
    PAYMENTS_DNS_ZONE_NAME=AWS_ZONE,
    PAYMENTS_COMPUTE_ALARM_EMAIL=AWS_PROD_ALARM_EMAIL,
)


@pytest.fixture(params=["local_dev", "aws_dev", "aws_prod"])
def target(request: pytest.FixtureRequest) -> tuple[Synth, Settings]:
    settings = {"local_dev": LOCAL_DEV, "aws_dev": AWS_DEV, "aws_prod": AWS_PROD}[request.param]
    return request.getfixturevalue(request.param), settings


def region(settings: Settings, stack: str) -> str:
    return settings.regions.of(stack.split("-")[1])  # type: ignore[arg-type]


def naming(settings: Settings, stack: str) -> Naming:
    return Naming.for_role(settings, stack.split("-")[1])  # type: ignore[arg-type]


def by_name(synth: Synth, stack: str, rtype: str, attr: str, value: str) -> dict[str, Any]:
    (found,) = [r for r in synth.resources(stack, rtype).values() if r.get(attr) == value]
    return found


def policy(resource: dict[str, Any], attr: str = "policy") -> dict[str, Any]:
    return json.loads(resource[attr])


def lifecycle(resource: dict[str, Any]) -> dict[str, Any]:
    return resource.get("lifecycle", {})


# -- contract -----------------------------------------------------------------------------------------------------


def test_outputs_are_the_contract(target) -> None:
    synth, _ = target
    common = {
        "key_arn",
        "key_id",
        "key_alias",
        "table_name",
        "table_arn",
        "audit_bucket_name",
        "audit_bucket_arn",
        "cluster_identifier",
        "cluster_arn",
        "cluster_endpoint",
        "global_cluster_identifier",
        "backup_vault_name",
        "backup_plan_id",
        "database_secret_arn",
    }
    for stack, extra in (("data-primary", {"table_stream_arn", "api_key_secret_name"}), ("data-secondary", set())):
        names = {n for n in synth.outputs(stack) if not n.startswith("cross-stack-output-")}
        assert names == common | extra, stack


def test_secondary_depends_on_primary_and_its_network(local_dev: Synth) -> None:
    deps = local_dev.manifest["stacks"]["data-secondary"]["dependencies"]
    assert set(deps) == {"data-primary", "network-secondary"}
    assert set(local_dev.manifest["stacks"]["data-primary"]["dependencies"]) == {"network-primary"}


def test_no_account_id_literal_in_resources(aws_dev: Synth) -> None:
    for stack in DATA_STACKS:
        assert AWS_ACCOUNT not in json.dumps(aws_dev[stack]["resource"]), stack


# -- KMS ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", DATA_STACKS)
def test_region_key_rotated_aliased_with_deletion_window(target, stack: str) -> None:
    synth, settings = target
    key = synth.resource(stack, "aws_kms_key")
    assert key["enable_key_rotation"] is True
    assert key["deletion_window_in_days"] == (30 if settings.is_production else 7)
    alias = synth.resource(stack, "aws_kms_alias")
    assert alias["name"] == naming(settings, stack).alias("data")
    assert alias["target_key_id"] == "${aws_kms_key.key_F64E54E4.key_id}"


@pytest.mark.parametrize("stack", DATA_STACKS)
def test_key_policy_lets_the_account_services_and_replication_role_only(target, stack: str) -> None:
    synth, settings = target
    statements = {s["Sid"]: s for s in policy(synth.resource(stack, "aws_kms_key"))["Statement"]}
    root = "arn:${data.aws_partition.partition.partition}:iam::${data.aws_caller_identity.caller.account_id}:root"
    assert all(s["Effect"] == "Allow" for s in statements.values())
    assert statements["AccountAdministersKey"]["Principal"] == {"AWS": root}
    assert not {"kms:Encrypt", "kms:Decrypt", "kms:*"} & set(statements["AccountAdministersKey"]["Action"])
    via = statements["AccountUsesKeyThroughServices"]
    assert via["Principal"] == {"AWS": root}
    reg = region(settings, stack)
    assert sorted(via["Condition"]["StringEquals"]["kms:ViaService"]) == sorted(
        f"{s}.{reg}.amazonaws.com"
        for s in ("backup", "dynamodb", "events", "lambda", "rds", "s3", "secretsmanager", "sns", "sqs", "ssm")
    )
    assert via["Condition"]["StringEquals"]["kms:CallerAccount"] == "${data.aws_caller_identity.caller.account_id}"
    logs = statements["CloudWatchLogsEncryptsLogGroups"]
    assert logs["Principal"] == {"Service": f"logs.{reg}.amazonaws.com"}
    assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnLike"]
    grants = statements["ServicesGrantKeyToTheirResources"]
    assert (grants["Action"], grants["Principal"]) == (["kms:CreateGrant"], {"AWS": root})
    assert grants["Condition"]["StringEquals"] == via["Condition"]["StringEquals"]
    assert grants["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    alarms = statements["AlarmsPublishEncrypted"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert "aws:SourceAccount" in alarms["Condition"]["StringEquals"]
    events = statements["EventsDeliverToEncryptedQueues"]
    assert events["Principal"] == {"Service": "events.amazonaws.com"}
    assert sorted(events["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert "Condition" not in events
    replication = statements["S3ReplicationRoleUsesKey"]
    assert replication["Principal"] == {"AWS": root}
    assert replication["Condition"]["ArnEquals"]["aws:PrincipalArn"].endswith(
        f":role/{replication_role_name(settings)}"
    )
    assert replication["Condition"]["StringEquals"]["kms:ViaService"] == f"s3.{reg}.amazonaws.com"
    bucket = "arn:${data.aws_partition.partition.partition}:s3:::" + naming(settings, stack).global_name(
        "audit", "${data.aws_caller_identity.caller.account_id}"
    )
    assert replication["Condition"]["StringLike"] == {"kms:EncryptionContext:aws:s3:arn": [bucket, f"{bucket}/*"]}
    assert len(statements) == 7


# -- DynamoDB -----------------------------------------------------------------------------------------------------


def table_shape(table: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "billing_mode", "hash_key", "attribute", "global_secondary_index", "stream_enabled")
    keys += ("stream_view_type", "point_in_time_recovery", "ttl")
    return {k: table.get(k) for k in keys}


def test_primary_payments_table(target) -> None:
    synth, settings = target
    table = synth.resource("data-primary", "aws_dynamodb_table")
    assert table["name"] == f"{settings.project}-{settings.environment_suffix}-payments"
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["hash_key"] == "payment_id"
    assert "range_key" not in table
    assert sorted(a["name"] for a in table["attribute"]) == ["created_at", "customer_id", "payment_id"]
    assert {a["type"] for a in table["attribute"]} == {"S"}
    assert table["global_secondary_index"] == [
        {"name": "customer-index", "hash_key": "customer_id", "range_key": "created_at", "projection_type": "ALL"},
    ]
    assert table["stream_enabled"] is True
    assert table["stream_view_type"] == "NEW_AND_OLD_IMAGES"
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["server_side_encryption"] == {"enabled": True, "kms_key_arn": KEY_REF}
    assert table["ttl"] == {"attribute_name": "expires_at", "enabled": True}
    assert table["deletion_protection_enabled"] is settings.is_production
    assert lifecycle(table)["ignore_changes"] == ["replica"]  # replicas belong to data-secondary
    assert table["tags"] == {"BackupPlan": naming(settings, "data-primary").name("daily")}


def test_secondary_gets_the_real_replica_on_aws(aws_dev: Synth, aws_prod: Synth) -> None:
    for synth, production in ((aws_dev, False), (aws_prod, True)):
        assert synth.resources("data-secondary", "aws_dynamodb_table") == {}
        replica = synth.resource("data-secondary", "aws_dynamodb_table_replica")
        assert replica["global_table_arn"].startswith(PRIMARY_REF)
        assert replica["global_table_arn"].endswith("arn}")
        assert replica["kms_key_arn"] == KEY_REF
        assert replica["point_in_time_recovery"] is True
        assert replica["deletion_protection_enabled"] is production
        assert "provider" not in replica  # the replica's region is the secondary provider's


def test_secondary_gets_a_same_shape_regional_table_locally(local_dev: Synth) -> None:
    assert local_dev.resources("data-secondary", "aws_dynamodb_table_replica") == {}
    primary = local_dev.resource("data-primary", "aws_dynamodb_table")
    stand_in = local_dev.resource("data-secondary", "aws_dynamodb_table")
    assert table_shape(stand_in) == table_shape(primary)
    assert stand_in["server_side_encryption"] == {"enabled": True, "kms_key_arn": KEY_REF}  # its own region's key
    assert "dynamodb-replica" in GAPS_BY_KEY


def test_table_name_is_the_same_in_both_regions(target) -> None:
    synth, _ = target
    names = {synth.outputs(stack)["table_name"]["value"] for stack in DATA_STACKS}
    assert len(names) == 1


# -- S3 -----------------------------------------------------------------------------------------------------------


def audit_bucket(synth: Synth, settings: Settings, stack: str) -> tuple[str, dict[str, Any]]:
    name = naming(settings, stack).global_name("audit", "${data.aws_caller_identity.caller.account_id}")
    for rid, bucket in synth.resources(stack, "aws_s3_bucket").items():
        if bucket["bucket"] == name:
            return rid, bucket
    raise AssertionError(f"{stack}: no bucket {name}")


def attached(synth: Synth, stack: str, rtype: str, bucket_id: str) -> dict[str, Any]:
    (found,) = [
        r for r in synth.resources(stack, rtype).values() if r["bucket"] == f"${{aws_s3_bucket.{bucket_id}.id}}"
    ]
    return found


@pytest.mark.parametrize("stack", DATA_STACKS)
def test_audit_bucket_versioned_kms_encrypted_private(target, stack: str) -> None:
    synth, settings = target
    rid, bucket = audit_bucket(synth, settings, stack)
    assert len(synth.resources(stack, "aws_s3_bucket")) == 1
    assert f"-{region(settings, stack)}-" in bucket["bucket"]
    assert bucket["force_destroy"] is (not settings.is_production)
    assert attached(synth, stack, "aws_s3_bucket_versioning", rid)["versioning_configuration"] == {"status": "Enabled"}
    (rule,) = attached(synth, stack, "aws_s3_bucket_server_side_encryption_configuration", rid)["rule"]
    assert rule == {
        "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": KEY_REF},
        "bucket_key_enabled": True,
    }
    block = attached(synth, stack, "aws_s3_bucket_public_access_block", rid)
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls"))
    assert block["restrict_public_buckets"] is True
    ownership = attached(synth, stack, "aws_s3_bucket_ownership_controls", rid)
    assert ownership["rule"] == {"object_ownership": "BucketOwnerEnforced"}


@pytest.mark.parametrize("stack", DATA_STACKS)
def test_audit_bucket_lifecycle_expires_noncurrent_versions_without_archiving(target, stack: str) -> None:
    synth, settings = target
    rid, _ = audit_bucket(synth, settings, stack)
    (rule,) = attached(synth, stack, "aws_s3_bucket_lifecycle_configuration", rid)["rule"]
    assert rule["status"] == "Enabled"
    assert "transition" not in rule  # ~1 KB records: below the 128 KB S3 transitions at all
    assert rule["noncurrent_version_expiration"] == [
        {"noncurrent_days": settings.data.noncurrent_version_expiration_days}
    ]
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]


@pytest.mark.parametrize("stack", DATA_STACKS)
def test_audit_bucket_denies_plain_http_on_aws(aws_dev: Synth, aws_prod: Synth, stack: str) -> None:
    for synth, settings in ((aws_dev, AWS_DEV), (aws_prod, AWS_PROD)):
        rid, _ = audit_bucket(synth, settings, stack)
        (statement,) = policy(attached(synth, stack, "aws_s3_bucket_policy", rid))["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Action"] == ["s3:*"]
        assert statement["Principal"] == {"AWS": "*"}
        assert statement["Resource"] == [f"${{aws_s3_bucket.{rid}.arn}}", f"${{aws_s3_bucket.{rid}.arn}}/*"]
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize("stack", DATA_STACKS)
def test_tls_only_statement_is_left_out_locally(local_dev: Synth, stack: str) -> None:
    assert local_dev.resources(stack, "aws_s3_bucket_policy") == {}
    assert "s3-tls-only-policy" in GAPS_BY_KEY


PRIMARY_BUCKET_ARN = f"{PRIMARY_REF}cross-stack-output-aws_s3_bucketaudit_bucket_85D46CD8arn}}"
PRIMARY_KEY_ARN = f"{PRIMARY_REF}cross-stack-output-aws_kms_keykey_F64E54E4arn}}"
REPLICATION = "audit-replication_configuration_3A5D27C1"  # primary -> secondary (its state address since one-way)
REVERSE_REPLICATION = "audit-replication_configuration-to-primary_1CE6BE5C"  # secondary -> primary


def test_replication_both_ways_owned_by_secondary(target) -> None:
    synth, settings = target
    assert synth.resources("data-primary", "aws_s3_bucket_replication_configuration") == {}
    configs = synth.resources("data-secondary", "aws_s3_bucket_replication_configuration")
    assert set(configs) == {REPLICATION, REVERSE_REPLICATION}
    rid, _ = audit_bucket(synth, settings, "data-secondary")
    forward, reverse = configs[REPLICATION], configs[REVERSE_REPLICATION]
    assert forward["provider"] == "aws.primary"
    assert forward["bucket"].startswith(PRIMARY_REF)
    assert "provider" not in reverse  # the secondary's bucket, in the secondary's own region
    assert reverse["bucket"] == f"${{aws_s3_bucket.{rid}.bucket}}"
    (versioning,) = synth.resources("data-secondary", "aws_s3_bucket_versioning")
    destinations = {
        REPLICATION: (f"${{aws_s3_bucket.{rid}.arn}}", KEY_REF),
        REVERSE_REPLICATION: (PRIMARY_BUCKET_ARN, PRIMARY_KEY_ARN),
    }
    for name, config in configs.items():
        assert config["role"] == "${aws_iam_role.audit-replication_role_70E3C071.arn}"
        (rule,) = config["rule"]
        assert rule["status"] == "Enabled"
        assert rule["delete_marker_replication"] == {"status": "Enabled"}
        assert rule["source_selection_criteria"] == {"sse_kms_encrypted_objects": {"status": "Enabled"}}
        destination = rule["destination"]
        bucket, key = destinations[name]
        assert destination["bucket"] == bucket
        assert destination["encryption_configuration"] == {"replica_kms_key_id": key}
        if settings.data.replication_time_control:
            assert destination["replication_time"] == {"status": "Enabled", "time": {"minutes": 15}}
            assert destination["metrics"] == {"status": "Enabled", "event_threshold": {"minutes": 15}}
        else:
            assert "replication_time" not in destination
            assert "metrics" not in destination
        assert f"aws_s3_bucket_versioning.{versioning}" in config["depends_on"]


def test_replication_time_control_follows_settings(aws_dev: Synth, aws_prod: Synth) -> None:
    assert AWS_DEV.data.replication_time_control is False
    assert AWS_PROD.data.replication_time_control is True
    for name in (REPLICATION, REVERSE_REPLICATION):
        dev = aws_dev.resources("data-secondary", "aws_s3_bucket_replication_configuration")[name]
        prod = aws_prod.resources("data-secondary", "aws_s3_bucket_replication_configuration")[name]
        assert "replication_time" not in dev["rule"][0]["destination"]
        assert prod["rule"][0]["destination"]["replication_time"]["status"] == "Enabled"


def test_replication_role_least_privilege(target) -> None:
    synth, settings = target
    role = by_name(synth, "data-secondary", "aws_iam_role", "name", replication_role_name(settings))
    trust = policy(role, "assume_role_policy")["Statement"][0]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    rid, _ = audit_bucket(synth, settings, "data-secondary")
    secondary_bucket = f"${{aws_s3_bucket.{rid}.arn}}"
    assert sorted(trust["Condition"]["ArnLike"]["aws:SourceArn"]) == sorted([PRIMARY_BUCKET_ARN, secondary_bucket])
    document = policy(synth.resources("data-secondary", "aws_iam_role_policy")["audit-replication_policy_37106649"])
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert set(statements) == {
        "ReadSourceBucket",
        "ReadSourceObjects",
        "WriteReplicas",
        "DecryptPrimarySource",
        "DecryptSecondarySource",
        "EncryptPrimaryReplicas",
        "EncryptSecondaryReplicas",
    }
    assert all("*" not in r for s in document["Statement"] for r in s["Resource"] if not r.endswith("/*"))
    for role_name, key, bucket in (
        ("Primary", PRIMARY_KEY_ARN, PRIMARY_BUCKET_ARN),
        ("Secondary", KEY_REF, secondary_bucket),
    ):
        reg = region(settings, f"data-{role_name.lower()}")
        condition = {
            "StringEquals": {"kms:ViaService": f"s3.{reg}.amazonaws.com"},
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket, f"{bucket}/*"]},
        }
        decrypt, encrypt = statements[f"Decrypt{role_name}Source"], statements[f"Encrypt{role_name}Replicas"]
        assert (decrypt["Action"], decrypt["Resource"], decrypt["Condition"]) == (["kms:Decrypt"], [key], condition)
        assert (encrypt["Action"], encrypt["Resource"], encrypt["Condition"]) == (
            ["kms:Encrypt", "kms:GenerateDataKey"],
            [key],
            condition,
        )


# -- Aurora -------------------------------------------------------------------------------------------------------


def test_global_cluster_without_database_name(target) -> None:
    synth, settings = target
    global_cluster = synth.resource("data-primary", "aws_rds_global_cluster")
    assert global_cluster["global_cluster_identifier"] == f"{settings.project}-{settings.environment_suffix}-aurora"
    assert global_cluster["engine"] == "aurora-postgresql"
    assert global_cluster["engine_version"] == settings.data.aurora_engine_version
    assert global_cluster["storage_encrypted"] is True
    assert "database_name" not in global_cluster
    assert global_cluster["deletion_protection"] is settings.is_production
    assert synth.resources("data-secondary", "aws_rds_global_cluster") == {}


def assert_master_password_is_write_only(synth: Synth, stack: str, settings: Settings) -> None:
    """The cluster and the secret get the ephemeral password only through write-only arguments, same version."""
    cluster = synth.resource(stack, "aws_rds_cluster")
    ephemeral = "ephemeral.aws_secretsmanager_random_password.aurora_master_password"
    assert synth[stack]["ephemeral"]["aws_secretsmanager_random_password"]["aurora_master_password"] == {
        "password_length": 32,
        "exclude_punctuation": True,
    }
    assert cluster["master_password_wo"] == "${" + ephemeral + ".random_password}"
    for absent in ("master_password", "manage_master_user_password", "master_user_secret_kms_key_id"):
        assert absent not in cluster
    secret = by_name(synth, stack, "aws_secretsmanager_secret", "name", naming(settings, stack).name("aurora-master"))
    assert secret["kms_key_id"] == KEY_REF
    assert secret["recovery_window_in_days"] == (30 if settings.is_production else 0)
    version = synth.resource(stack, "aws_secretsmanager_secret_version")
    assert "secret_string" not in version
    assert ephemeral in version["secret_string_wo"]
    assert f'"username" = "{settings.data.database_master_username}"' in version["secret_string_wo"]
    assert version["secret_string_wo_version"] == cluster["master_password_wo_version"] == 1


def test_primary_cluster(target) -> None:
    synth, settings = target
    cluster = synth.resource("data-primary", "aws_rds_cluster")
    assert cluster["cluster_identifier"] == naming(settings, "data-primary").name("aurora")
    assert cluster["global_cluster_identifier"] == "${aws_rds_global_cluster.aurora-global_3B876923.id}"
    assert cluster["engine"] == "aurora-postgresql"
    assert cluster["engine_version"] == settings.data.aurora_engine_version
    assert cluster["storage_encrypted"] is True
    assert cluster["kms_key_id"] == KEY_REF
    assert cluster["iam_database_authentication_enabled"] is True
    assert cluster["backup_retention_period"] == 7
    assert cluster["database_name"] == settings.data.database_name
    assert cluster["master_username"] == settings.data.database_master_username
    assert_master_password_is_write_only(synth, "data-primary", settings)
    assert cluster["enabled_cloudwatch_logs_exports"] == ["postgresql"]
    assert cluster["vpc_security_group_ids"] == [
        "${data.terraform_remote_state.cross-stack-reference-input-network-primary.outputs."
        "cross-stack-output-aws_security_groupsecurity-groups_database_D8550215id}"
    ]
    subnets = synth.resource("data-primary", "aws_db_subnet_group")["subnet_ids"]
    assert len(subnets) == settings.network.az_count
    assert all("isolated" in s for s in subnets)


def test_cluster_logs_go_to_an_encrypted_group_created_first(target) -> None:
    synth, settings = target
    for stack in DATA_STACKS:
        cluster = synth.resource(stack, "aws_rds_cluster")
        group = synth.resource(stack, "aws_cloudwatch_log_group")
        assert group["name"] == f"/aws/rds/cluster/{cluster['cluster_identifier']}/postgresql"
        assert group["kms_key_id"] == KEY_REF
        assert group["retention_in_days"] == settings.compute.log_retention_days
        assert cluster["depends_on"] == ["aws_cloudwatch_log_group.aurora_log-postgresql_0D61FD9E"]


@pytest.mark.parametrize("stack", DATA_STACKS)
def test_cluster_instances_from_settings_with_encrypted_performance_insights(target, stack: str) -> None:
    synth, settings = target
    instances = synth.resources(stack, "aws_rds_cluster_instance")
    assert len(instances) == settings.data.aurora_instance_count
    for instance in instances.values():
        assert instance["instance_class"] == settings.data.aurora_instance_class
        assert instance["cluster_identifier"] == "${aws_rds_cluster.aurora_cluster_059EF40F.id}"
        assert instance["publicly_accessible"] is False
        assert instance["performance_insights_enabled"] is True
        assert instance["performance_insights_kms_key_id"] == KEY_REF
        assert instance["monitoring_interval"] == 60
        assert instance["monitoring_role_arn"] == "${aws_iam_role.aurora_monitoring-role_DB848809.arn}"
    role = by_name(synth, stack, "aws_iam_role", "name", naming(settings, stack).name("rds-monitoring"))
    trust = policy(role, "assume_role_policy")["Statement"][0]["Principal"]
    assert trust == {"Service": "monitoring.rds.amazonaws.com"}
    document = policy(synth.resources(stack, "aws_iam_role_policy")["aurora_monitoring-policy_5BFD2EA1"])
    resources = [r for s in document["Statement"] for r in s["Resource"]]
    assert all(":log-group:RDSOSMetrics" in r for r in resources)


def test_secondary_cluster_joins_the_global_cluster_on_aws(aws_dev: Synth, aws_prod: Synth) -> None:
    for synth in (aws_dev, aws_prod):
        cluster = synth.resource("data-secondary", "aws_rds_cluster")
        assert cluster["global_cluster_identifier"].startswith(PRIMARY_REF)
        assert cluster["kms_key_id"] == KEY_REF
        assert cluster["storage_encrypted"] is True
        for inherited in ("master_username", "manage_master_user_password", "database_name", "master_password"):
            assert inherited not in cluster
        assert lifecycle(cluster)["ignore_changes"] == list(GLOBAL_MEMBER_IGNORES)


def test_secondary_keeps_a_copy_of_the_writer_secret_under_its_own_key_on_aws(aws_dev: Synth, aws_prod: Synth) -> None:
    for synth, settings in ((aws_dev, AWS_DEV), (aws_prod, AWS_PROD)):
        read = synth["data-secondary"]["ephemeral"]["aws_secretsmanager_secret_version"]["aurora_master_secret"]
        assert read == {"provider": "aws.primary", "secret_id": naming(settings, "data-primary").name("aurora-master")}
        secret = synth.resource("data-secondary", "aws_secretsmanager_secret")
        assert secret["name"] == naming(settings, "data-secondary").name("aurora-master")
        assert secret["kms_key_id"] == KEY_REF
        version = synth.resource("data-secondary", "aws_secretsmanager_secret_version")
        assert version["secret_string_wo"] == (
            "${ephemeral.aws_secretsmanager_secret_version.aurora_master_secret.secret_string}"
        )
        assert version["secret_string_wo_version"] == 1
        assert "secret_string" not in version


def test_secondary_cluster_stands_alone_locally(local_dev: Synth) -> None:
    cluster = local_dev.resource("data-secondary", "aws_rds_cluster")
    assert "global_cluster_identifier" not in cluster
    assert_master_password_is_write_only(local_dev, "data-secondary", LOCAL_DEV)
    assert "replication_source_identifier" not in lifecycle(cluster)["ignore_changes"]
    assert "aurora-global-cluster-members" in GAPS_BY_KEY
    # the primary (in the emulator's global-cluster region) still joins
    assert local_dev.resource("data-primary", "aws_rds_cluster")["global_cluster_identifier"]


def test_secondary_outputs_point_at_the_primary_global_cluster_and_reader(target) -> None:
    synth, _ = target
    outputs = synth.outputs("data-secondary")
    assert outputs["global_cluster_identifier"]["value"].startswith(PRIMARY_REF)
    assert outputs["cluster_endpoint"]["value"] == "${aws_rds_cluster.aurora_cluster_059EF40F.reader_endpoint}"
    assert synth.outputs("data-primary")["cluster_endpoint"]["value"] == (
        "${aws_rds_cluster.aurora_cluster_059EF40F.endpoint}"
    )


# -- AWS Backup ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", DATA_STACKS)
def test_backup_vault_and_daily_plan(target, stack: str) -> None:
    synth, settings = target
    vault = synth.resource(stack, "aws_backup_vault")
    assert vault["name"] == naming(settings, stack).name("vault")
    assert vault["kms_key_arn"] == KEY_REF
    (rule,) = synth.resource(stack, "aws_backup_plan")["rule"]
    assert rule["target_vault_name"] == "${aws_backup_vault.backup_vault_A3268EAD.name}"
    assert rule["schedule"] == "cron(0 3 * * ? *)"
    assert rule["lifecycle"] == {"delete_after": settings.data.backup_retention_days}
    assert rule["recovery_point_tags"] == {"BackupPlan": naming(settings, stack).name("daily")}


@pytest.mark.parametrize("stack", DATA_STACKS)
def test_each_plan_copies_to_the_peer_vault(target, stack: str) -> None:
    synth, settings = target
    assert settings.data.backup_copy_to_secondary is True
    (rule,) = synth.resource(stack, "aws_backup_plan")["rule"]
    (copy,) = rule["copy_action"]
    peer = naming(settings, "data-secondary" if stack == "data-primary" else "data-primary")
    assert copy["destination_vault_arn"] == (
        "arn:${data.aws_partition.partition.partition}:backup:"
        f"{peer.region}:${{data.aws_caller_identity.caller.account_id}}:backup-vault:{peer.name('vault')}"
    )
    assert copy["lifecycle"] == {"delete_after": settings.data.backup_retention_days}
    statements = {
        s["Sid"]: s
        for s in policy(synth.resources(stack, "aws_iam_role_policy")["backup_policy_3CB714DA"])["Statement"]
    }
    assert copy["destination_vault_arn"] in statements["UseVaults"]["Resource"]
    assert statements["UseCopyDestinationKey"]["Condition"] == {
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": peer.alias("data")}
    }


def test_no_copy_action_when_disabled(tmp_path) -> None:
    outdir = tmp_path / "cdktf.out"
    result = synth_app(outdir, PAYMENTS_DATA_BACKUP_COPY_TO_SECONDARY="false")
    assert result.returncode == 0, result.stderr
    for stack in DATA_STACKS:
        (rule,) = Synth(outdir).resource(stack, "aws_backup_plan")["rule"]
        assert "copy_action" not in rule, stack


@pytest.mark.parametrize("stack", DATA_STACKS)
def test_backup_selection_by_tag_on_aws_only(target, stack: str) -> None:
    synth, settings = target
    selections = synth.resources(stack, "aws_backup_selection")
    if settings.is_local:
        assert selections == {}
        assert "backup-selection" in GAPS_BY_KEY
        return
    (selection,) = selections.values()
    assert selection["plan_id"] == "${aws_backup_plan.backup_plan_FCCCE43A.id}"
    assert selection["selection_tag"] == [
        {"type": "STRINGEQUALS", "key": "BackupPlan", "value": naming(settings, stack).name("daily")}
    ]
    assert selection["iam_role_arn"] == "${aws_iam_role.backup_role_1FD82D33.arn}"


@pytest.mark.parametrize("stack", DATA_STACKS)
def test_table_and_cluster_carry_the_selection_tag(target, stack: str) -> None:
    synth, settings = target
    tag = {"BackupPlan": naming(settings, stack).name("daily")}
    table = synth.resources(stack, "aws_dynamodb_table") or synth.resources(stack, "aws_dynamodb_table_replica")
    (table_config,) = table.values()
    assert table_config["tags"] == tag
    assert synth.resource(stack, "aws_rds_cluster")["tags"] == tag


@pytest.mark.parametrize("stack", DATA_STACKS)
def test_backup_role_has_inline_least_privilege_policy(target, stack: str) -> None:
    synth, settings = target
    role = by_name(synth, stack, "aws_iam_role", "name", naming(settings, stack).name("backup"))
    assert policy(role, "assume_role_policy")["Statement"][0]["Principal"] == {"Service": "backup.amazonaws.com"}
    assert synth.resources(stack, "aws_iam_role_policy_attachment") == {}
    document = policy(synth.resources(stack, "aws_iam_role_policy")["backup_policy_3CB714DA"])
    wildcard = {s["Sid"] for s in document["Statement"] if "*" in s["Resource"]}
    assert wildcard == {"FindTaggedResources"}  # tag:GetResources takes no resource


# -- protection: prod keeps, dev destroys -------------------------------------------------------------------------


def test_prod_prevents_destroying_every_stateful_resource(aws_prod: Synth) -> None:
    for stack in DATA_STACKS:
        for rtype in STATEFUL_TYPES:
            for rid, config in aws_prod.resources(stack, rtype).items():
                assert lifecycle(config).get("prevent_destroy") is True, (stack, rtype, rid)


@pytest.mark.parametrize("fixture", ["local_dev", "aws_dev"])
def test_dev_is_fully_destroyable(request: pytest.FixtureRequest, fixture: str) -> None:
    synth: Synth = request.getfixturevalue(fixture)
    settings = LOCAL_DEV if fixture == "local_dev" else AWS_DEV
    for stack in DATA_STACKS:
        for rtype in STATEFUL_TYPES:
            for config in synth.resources(stack, rtype).values():
                assert "prevent_destroy" not in lifecycle(config)
        for bucket in synth.resources(stack, "aws_s3_bucket").values():
            assert bucket["force_destroy"] is True
        cluster = synth.resource(stack, "aws_rds_cluster")
        assert cluster["skip_final_snapshot"] is True
        assert cluster["deletion_protection"] is False
        assert "final_snapshot_identifier" not in cluster
        assert synth.resource(stack, "aws_kms_key")["deletion_window_in_days"] == 7
        vault = synth.resource(stack, "aws_backup_vault")
        # gap `backup-vault-force-destroy`: locally the (always empty) vault is deleted without it
        assert vault.get("force_destroy") is (None if settings.is_local else True)


def test_prod_keeps_final_snapshots_and_deletion_protection(aws_prod: Synth) -> None:
    for stack in DATA_STACKS:
        cluster = aws_prod.resource(stack, "aws_rds_cluster")
        assert cluster["deletion_protection"] is True
        assert cluster["skip_final_snapshot"] is False
        assert cluster["final_snapshot_identifier"] == f"{cluster['cluster_identifier']}-final"
        assert all(b["force_destroy"] is False for b in aws_prod.resources(stack, "aws_s3_bucket").values())
        assert "force_destroy" not in aws_prod.resource(stack, "aws_backup_vault")
    assert aws_prod.resource("data-primary", "aws_dynamodb_table")["deletion_protection_enabled"] is True
    assert aws_prod.resource("data-primary", "aws_rds_global_cluster")["deletion_protection"] is True


# -- the local target's gaps, and nothing of them on AWS ---------------------------------------------------------


def ignored(synth: Synth) -> set[tuple[str, str, str]]:
    found = set()
    for stack in DATA_STACKS:
        for rtype, items in synth[stack].get("resource", {}).items():
            for config in items.values():
                found |= {(stack, rtype, attr) for attr in lifecycle(config).get("ignore_changes", [])}
    return found


@pytest.mark.parametrize("fixture", ["aws_dev", "aws_prod"])
def test_aws_output_ignores_only_what_aws_itself_requires(request: pytest.FixtureRequest, fixture: str) -> None:
    synth: Synth = request.getfixturevalue(fixture)
    assert ignored(synth) == AWS_REQUIRED_IGNORES


def test_every_local_ignore_is_a_listed_gap(local_dev: Synth) -> None:
    gap_attrs = {attr for gap in GAPS_BY_KEY.values() for attr in gap.ignore_changes}
    local_only = {(stack, rtype, attr) for stack, rtype, attr in ignored(local_dev)} - AWS_REQUIRED_IGNORES
    assert local_only
    assert {attr for _, _, attr in local_only} <= gap_attrs
    expected = {
        ("data-primary", "aws_rds_global_cluster", "tags_all"),
        ("data-primary", "aws_rds_cluster", "scaling_configuration"),
        ("data-secondary", "aws_s3_bucket_replication_configuration", "rule[0].delete_marker_replication"),
        ("data-secondary", "aws_s3_bucket_replication_configuration", "rule[0].source_selection_criteria"),
        ("data-primary", "aws_rds_cluster_instance", "performance_insights_enabled"),
        ("data-secondary", "aws_backup_vault", "tags_all"),
        ("data-secondary", "aws_backup_plan", "tags_all"),
    }
    assert expected <= local_only


@pytest.mark.parametrize("fixture", ["local_dev", "aws_dev"])
def test_both_replication_directions_get_the_same_gap_ignores(request: pytest.FixtureRequest, fixture: str) -> None:
    """Gaps `s3-replication-delete-markers` and `s3-replication-source-selection`: the emulator reads back every
    configuration's rule the same way, so each direction ignores the same attributes locally, and none on AWS."""
    synth: Synth = request.getfixturevalue(fixture)
    expected = (
        []
        if fixture.startswith("aws")
        else [
            *GAPS_BY_KEY["s3-replication-delete-markers"].ignore_changes,
            *GAPS_BY_KEY["s3-replication-source-selection"].ignore_changes,
        ]
    )
    configs = synth.resources("data-secondary", "aws_s3_bucket_replication_configuration")
    assert set(configs) == {REPLICATION, REVERSE_REPLICATION}
    for name, config in configs.items():
        assert lifecycle(config).get("ignore_changes", []) == expected, name


def test_aws_output_has_no_emulator_specifics(aws_dev: Synth, aws_prod: Synth) -> None:
    for synth in (aws_dev, aws_prod):
        for stack in DATA_STACKS:
            text = json.dumps(synth[stack])
            assert "127.0.0.1" not in text
            for key in ("force_destroy",):
                vault = synth.resource(stack, "aws_backup_vault")
                assert vault.get(key) in (None, True)
            plan_name = synth.resource(stack, "aws_backup_plan")["name"]
            assert plan_name == naming(AWS_DEV if synth is aws_dev else AWS_PROD, stack).name("daily")


def test_local_backup_plan_name_changes_with_each_key(local_dev: Synth) -> None:
    """Gap `backup-plan-name-reuse`: a deleted plan's name is never free again in the emulator."""
    for stack in DATA_STACKS:
        name = local_dev.resource(stack, "aws_backup_plan")["name"]
        assert name.startswith(naming(LOCAL_DEV, stack).name("daily") + "-")
        assert "aws_kms_key.key_F64E54E4.key_id" in name


def test_clean_up_after_destroy_removes_only_orphaned_automated_snapshots(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gap `rds-automated-snapshots`, on moto in-process: live clusters keep theirs; the aws target is untouched."""
    for var, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}.items():
        monkeypatch.setenv(var, value)
    with mock_aws():
        rds = {r: boto3.client("rds", region_name=r) for r in (LOCAL_DEV.regions.primary, LOCAL_DEV.regions.secondary)}
        for name in ("gone", "kept"):
            rds[LOCAL_DEV.regions.primary].create_db_cluster(
                DBClusterIdentifier=name,
                Engine="aurora-postgresql",
                MasterUsername="admin1",
                MasterUserPassword="x" * 12,
            )
        rds[LOCAL_DEV.regions.primary].delete_db_cluster(DBClusterIdentifier="gone", SkipFinalSnapshot=True)

        def client(service: str, region: str) -> object:
            return rds[region] if service == "rds" else boto3.client(service, region_name=region)

        assert clean_up_after_destroy(AWS_DEV, client) == []
        (line,) = clean_up_after_destroy(LOCAL_DEV, client)
        assert "rds:gone-" in line
        left = rds[LOCAL_DEV.regions.primary].describe_db_cluster_snapshots(SnapshotType="automated")
        assert [s["DBClusterIdentifier"] for s in left["DBClusterSnapshots"]] == ["kept"]
