"""The data layer as deployed on the emulator, checked with boto3: keys, table, buckets, Aurora, backups.

Where the local target stands in for something the emulator cannot do (see
`shared.local_target.GAPS`), the test asks the same helper the stack asked and
checks the stand-in instead.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from harness.platform import Platform
from shared.local_target import (
    joins_global_cluster,
    supports_dynamodb_replicas,
    supports_tls_only_bucket_policy,
)
from shared.naming import Naming
from stacks.data.backup import DAILY_SCHEDULE, SELECTION_TAG_KEY, plan_name, selection_tags
from stacks.data.stack import AURORA_BACKUP_RETENTION_DAYS, replication_role_name

ROLES = ("primary", "secondary")


@pytest.fixture(scope="module")
def data(deployed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    assert {"data-primary", "data-secondary"} <= set(deployed), sorted(deployed)
    return {role: deployed[f"data-{role}"] for role in ROLES}


@pytest.fixture(scope="module")
def network(deployed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {role: deployed[f"network-{role}"] for role in ROLES}


# -- KMS ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_region_key_is_customer_managed_rotated_and_aliased(platform: Platform, data, role: str) -> None:
    kms = platform.client("kms", role)
    key_arn = data[role]["key_arn"]
    metadata = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    assert metadata["KeyManager"] == "CUSTOMER"
    assert metadata["KeyState"] == "Enabled"
    assert metadata["Arn"].split(":")[3] == platform.region(role)
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases(KeyId=data[role]["key_id"])["Aliases"]}
    assert aliases.get(data[role]["key_alias"]) == data[role]["key_id"]


@pytest.mark.parametrize("role", ROLES)
def test_key_policy_names_account_services_and_replication_role(platform: Platform, data, role: str) -> None:
    kms = platform.client("kms", role)
    policy = json.loads(kms.get_key_policy(KeyId=data[role]["key_arn"], PolicyName="default")["Policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert set(by_sid) == {
        "AccountAdministersKey",
        "AccountUsesKeyThroughServices",
        "CloudWatchLogsEncryptsLogGroups",
        "ServicesGrantKeyToTheirResources",
        "AlarmsPublishEncrypted",
        "EventsDeliverToEncryptedQueues",
        "S3ReplicationRoleUsesKey",
    }
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])
    assert all(s["Principal"] != "*" and s["Principal"].get("AWS") != "*" for s in policy["Statement"])
    via = by_sid["AccountUsesKeyThroughServices"]["Condition"]["StringEquals"]["kms:ViaService"]
    region = platform.region(role)
    assert {f"{s}.{region}.amazonaws.com" for s in ("dynamodb", "rds", "s3", "backup", "secretsmanager")} <= set(via)
    role_arn = by_sid["S3ReplicationRoleUsesKey"]["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    assert role_arn.endswith(f":role/{replication_role_name(platform.settings)}")


# -- DynamoDB -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_payments_table_schema_indexes_stream_and_encryption(platform: Platform, data, role: str) -> None:
    table = platform.client("dynamodb", role).describe_table(TableName=data[role]["table_name"])["Table"]
    assert data["primary"]["table_name"] == data["secondary"]["table_name"]
    assert table["TableArn"] == data[role]["table_arn"]
    assert table["KeySchema"] == [{"AttributeName": "payment_id", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    indexes = {
        index["IndexName"]: ([(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]], index["Projection"])
        for index in table["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        "customer-index": ([("customer_id", "HASH"), ("created_at", "RANGE")], {"ProjectionType": "ALL"}),
    }
    assert {a["AttributeType"] for a in table["AttributeDefinitions"]} == {"S"}
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["SSEDescription"]["SSEType"] == "KMS"
    assert table["SSEDescription"]["KMSMasterKeyArn"] == data[role]["key_arn"]
    if role == "primary":
        assert table["LatestStreamArn"] == data[role]["table_stream_arn"]


@pytest.mark.parametrize("role", ROLES)
def test_payments_table_pitr_and_ttl(platform: Platform, data, role: str) -> None:
    dynamodb = platform.client("dynamodb", role)
    name = data[role]["table_name"]
    backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_secondary_table_is_the_replica_or_its_local_stand_in(platform: Platform, data) -> None:
    table = platform.client("dynamodb", "secondary").describe_table(TableName=data["secondary"]["table_name"])["Table"]
    if supports_dynamodb_replicas(platform.settings):
        regions = {r["RegionName"] for r in table.get("Replicas", [])}
        assert platform.region("primary") in regions
    else:  # gap `dynamodb-replica`: a regional table of its own, with its own region's key
        assert not table.get("Replicas")
        assert data["secondary"]["table_arn"].split(":")[3] == platform.region("secondary")


@pytest.mark.parametrize("role", ROLES)
def test_payment_item_round_trip(platform: Platform, data, role: str) -> None:
    dynamodb = platform.client("dynamodb", role)
    name = data[role]["table_name"]
    payment_id = f"it-{role}-{uuid.uuid4()}"
    item = {
        "payment_id": {"S": payment_id},
        "customer_id": {"S": "cust-1"},
        "status": {"S": "CAPTURED"},
        "created_at": {"S": "2026-01-01T00:00:00Z"},
        "amount": {"N": "12.34"},
    }
    dynamodb.put_item(TableName=name, Item=item, ConditionExpression="attribute_not_exists(payment_id)")
    assert dynamodb.get_item(TableName=name, Key={"payment_id": {"S": payment_id}}, ConsistentRead=True)["Item"] == item
    by_customer = dynamodb.query(
        TableName=name,
        IndexName="customer-index",
        KeyConditionExpression="customer_id = :c",
        ExpressionAttributeValues={":c": {"S": "cust-1"}},
    )["Items"]
    assert payment_id in {i["payment_id"]["S"] for i in by_customer}
    dynamodb.delete_item(TableName=name, Key={"payment_id": {"S": payment_id}})


# -- S3 -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_audit_bucket_versioned_encrypted_and_private(platform: Platform, data, role: str) -> None:
    s3 = platform.client("s3", role)
    bucket = data[role]["audit_bucket_name"]
    assert data[role]["audit_bucket_arn"] == f"arn:aws:s3:::{bucket}"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": data[role]["key_arn"],
    }
    assert rule["BucketKeyEnabled"] is True
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    controls = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert controls == [{"ObjectOwnership": "BucketOwnerEnforced"}]


@pytest.mark.parametrize("role", ROLES)
def test_audit_bucket_policy_denies_plain_http(platform: Platform, data, role: str) -> None:
    s3 = platform.client("s3", role)
    bucket = data[role]["audit_bucket_name"]
    if not supports_tls_only_bucket_policy(platform.settings):  # gap `s3-tls-only-policy`
        with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
            s3.get_bucket_policy(Bucket=bucket)
        return
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    (deny,) = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(deny["Resource"]) == {data[role]["audit_bucket_arn"], f"{data[role]['audit_bucket_arn']}/*"}
    assert deny["Action"] == ["s3:*"]


@pytest.mark.parametrize("role", ROLES)
def test_audit_bucket_lifecycle_expires_old_versions(platform: Platform, data, role: str) -> None:
    s3 = platform.client("s3", role)
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=data[role]["audit_bucket_name"])["Rules"]
    assert rule["Status"] == "Enabled"
    assert "Transitions" not in rule
    expected_days = platform.settings.data.noncurrent_version_expiration_days
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == expected_days


@pytest.mark.parametrize("role", ROLES)
def test_audit_bucket_replicates_to_the_peer_re_encrypted(platform: Platform, data, role: str) -> None:
    """Both ways (primary -> secondary, secondary -> primary), each configuration on its source bucket in its own
    region. Only the stored configuration: the emulator never copies objects (gap `s3-replication-copy`)."""
    peer = "secondary" if role == "primary" else "primary"
    config = platform.client("s3", role).get_bucket_replication(Bucket=data[role]["audit_bucket_name"])
    configuration = config["ReplicationConfiguration"]
    assert configuration["Role"].endswith(f":role/{replication_role_name(platform.settings)}")
    (rule,) = configuration["Rules"]
    assert rule["Status"] == "Enabled"
    destination = rule["Destination"]
    assert destination["Bucket"] == data[peer]["audit_bucket_arn"]
    assert destination["EncryptionConfiguration"]["ReplicaKmsKeyID"] == data[peer]["key_arn"]


def test_replication_role_is_least_privilege(platform: Platform, data) -> None:
    iam = platform.client("iam", "primary")
    name = replication_role_name(platform.settings)
    trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "s3.amazonaws.com"}
    assert iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"] == []
    (policy_name,) = iam.list_role_policies(RoleName=name)["PolicyNames"]
    document = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
    resources = {r for s in document["Statement"] for r in s["Resource"]}
    assert "*" not in resources
    assert resources == {
        data["primary"]["audit_bucket_arn"],
        f"{data['primary']['audit_bucket_arn']}/*",
        data["secondary"]["audit_bucket_arn"],
        f"{data['secondary']['audit_bucket_arn']}/*",
        data["primary"]["key_arn"],
        data["secondary"]["key_arn"],
    }


@pytest.mark.parametrize("role", ROLES)
def test_audit_object_round_trip_encrypted_with_region_key(platform: Platform, data, role: str) -> None:
    s3 = platform.client("s3", role)
    bucket = data[role]["audit_bucket_name"]
    key = f"integration/{role}/{uuid.uuid4()}.json"
    body = json.dumps({"payment_id": "p-1", "event": "created"}).encode()
    put = s3.put_object(Bucket=bucket, Key=key, Body=body)
    assert put["ServerSideEncryption"] == "aws:kms"
    assert put["SSEKMSKeyId"] == data[role]["key_arn"]
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == body
    assert got["ServerSideEncryption"] == "aws:kms"


# -- Aurora -------------------------------------------------------------------------------------------------------


def test_global_database_has_the_primary_cluster_as_writer(platform: Platform, data) -> None:
    rds = platform.client("rds", "primary")
    globals_ = {g["GlobalClusterIdentifier"]: g for g in rds.describe_global_clusters()["GlobalClusters"]}
    identifier = data["primary"]["global_cluster_identifier"]
    assert data["secondary"]["global_cluster_identifier"] == identifier
    global_cluster = globals_[identifier]
    assert global_cluster["Engine"] == "aurora-postgresql"
    assert global_cluster["StorageEncrypted"] is True
    members = {m["DBClusterArn"]: m["IsWriter"] for m in global_cluster["GlobalClusterMembers"]}
    assert members.get(data["primary"]["cluster_arn"]) is True
    if joins_global_cluster(platform.settings, platform.region("secondary")):
        assert members.get(data["secondary"]["cluster_arn"]) is False
    else:  # gap `aurora-global-cluster-members`: locally the secondary is a regional cluster
        assert data["secondary"]["cluster_arn"] not in members


@pytest.mark.parametrize("role", ROLES)
def test_cluster_encrypted_iam_auth_backups_and_isolated(platform: Platform, data, network, role: str) -> None:
    rds = platform.client("rds", role)
    (cluster,) = rds.describe_db_clusters(DBClusterIdentifier=data[role]["cluster_identifier"])["DBClusters"]
    settings = platform.settings
    assert cluster["DBClusterArn"] == data[role]["cluster_arn"]
    assert cluster["Engine"] == "aurora-postgresql"
    assert cluster["EngineVersion"] == settings.data.aurora_engine_version
    assert cluster["StorageEncrypted"] is True
    assert cluster["KmsKeyId"] == data[role]["key_arn"]
    assert cluster["IAMDatabaseAuthenticationEnabled"] is True
    assert cluster["BackupRetentionPeriod"] == AURORA_BACKUP_RETENTION_DAYS
    assert cluster["DeletionProtection"] is settings.is_production
    assert [g["VpcSecurityGroupId"] for g in cluster["VpcSecurityGroups"]] == [
        network[role]["database_security_group_id"]
    ]
    (group,) = rds.describe_db_subnet_groups(DBSubnetGroupName=cluster["DBSubnetGroup"])["DBSubnetGroups"]
    assert {s["SubnetIdentifier"] for s in group["Subnets"]} == set(network[role]["isolated_subnet_ids"])
    assert cluster["EnabledCloudwatchLogsExports"] == ["postgresql"]
    endpoint = data[role]["cluster_endpoint"]
    assert endpoint == (cluster["Endpoint"] if role == "primary" else cluster["ReaderEndpoint"])
    instances = [
        i
        for i in rds.describe_db_instances()["DBInstances"]
        if i.get("DBClusterIdentifier") == cluster["DBClusterIdentifier"]
    ]
    assert len(instances) == settings.data.aurora_instance_count
    for instance in instances:
        assert instance["DBInstanceClass"] == settings.data.aurora_instance_class
        assert instance["PubliclyAccessible"] is False
        assert instance["MonitoringInterval"] == 60
        assert instance["MonitoringRoleArn"].endswith(f":role/{Naming.for_role(settings, role).name('rds-monitoring')}")


def test_writer_master_password_is_in_a_secret_encrypted_with_the_region_key(platform: Platform, data) -> None:
    """Written by Terraform through write-only arguments: the secret holds the user name and a password;
    the password is never printed here."""
    rds = platform.client("rds", "primary")
    (cluster,) = rds.describe_db_clusters(DBClusterIdentifier=data["primary"]["cluster_identifier"])["DBClusters"]
    assert cluster["MasterUsername"] == platform.settings.data.database_master_username
    assert "MasterUserSecret" not in cluster  # not RDS-managed: global database members cannot use that
    secrets = platform.client("secretsmanager", "primary")
    described = secrets.describe_secret(SecretId=data["primary"]["database_secret_arn"])
    assert described["KmsKeyId"] == data["primary"]["key_arn"]
    value = json.loads(secrets.get_secret_value(SecretId=data["primary"]["database_secret_arn"])["SecretString"])
    assert value["username"] == platform.settings.data.database_master_username
    assert len(value["password"]) == 32


def test_secondary_master_secret_is_encrypted_with_its_region_key(platform: Platform, data) -> None:
    """The writer's copy on AWS; locally the standalone secondary's own (gap `aurora-global-cluster-members`)."""
    described = platform.client("secretsmanager", "secondary").describe_secret(
        SecretId=data["secondary"]["database_secret_arn"]
    )
    assert described["KmsKeyId"] == data["secondary"]["key_arn"]


# -- AWS Backup ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_backup_vault_encrypted_with_region_key(platform: Platform, data, role: str) -> None:
    vault = platform.client("backup", role).describe_backup_vault(BackupVaultName=data[role]["backup_vault_name"])
    assert vault["EncryptionKeyArn"] == data[role]["key_arn"]


@pytest.mark.parametrize("role", ROLES)
def test_daily_backup_plan_retention_and_copy_to_the_peer(platform: Platform, data, role: str) -> None:
    backup = platform.client("backup", role)
    vault_name = data[role]["backup_vault_name"]
    plan = backup.get_backup_plan(BackupPlanId=data[role]["backup_plan_id"])["BackupPlan"]
    assert plan["BackupPlanName"].startswith(plan_name(Naming.for_role(platform.settings, role)))
    (rule,) = plan["Rules"]
    settings = platform.settings
    assert rule["TargetBackupVaultName"] == vault_name
    assert rule["ScheduleExpression"] == DAILY_SCHEDULE
    assert rule["Lifecycle"]["DeleteAfterDays"] == settings.data.backup_retention_days
    assert rule["RecoveryPointTags"] == selection_tags(Naming.for_role(settings, role))
    copies = rule.get("CopyActions", [])
    if settings.data.backup_copy_to_secondary:  # both regions copy to the other's vault
        peer = "secondary" if role == "primary" else "primary"
        peer_vault = platform.client("backup", peer).describe_backup_vault(
            BackupVaultName=data[peer]["backup_vault_name"]
        )
        assert [c["DestinationBackupVaultArn"] for c in copies] == [peer_vault["BackupVaultArn"]]
        assert copies[0]["Lifecycle"]["DeleteAfterDays"] == settings.data.backup_retention_days
    else:
        assert copies == []


@pytest.mark.parametrize("role", ROLES)
def test_table_and_cluster_carry_the_backup_selection_tag(platform: Platform, data, role: str) -> None:
    expected = selection_tags(Naming.for_role(platform.settings, role))
    assert set(expected) == {SELECTION_TAG_KEY}
    dynamodb = platform.client("dynamodb", role)
    table_tags = {
        t["Key"]: t["Value"] for t in dynamodb.list_tags_of_resource(ResourceArn=data[role]["table_arn"])["Tags"]
    }
    assert expected.items() <= table_tags.items()
    rds = platform.client("rds", role)
    cluster_tags = {
        t["Key"]: t["Value"] for t in rds.list_tags_for_resource(ResourceName=data[role]["cluster_arn"])["TagList"]
    }
    assert expected.items() <= cluster_tags.items()
