"""AWS rules for data flowing both ways between the regions: audit-bucket replication and backup copies.

Whichever region is current, what it writes reaches the other: S3 replication runs primary -> secondary and
secondary -> primary (both configurations owned by data-secondary), and each region's backup plan copies its
recovery points into the other region's vault.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.support import Synth
from tests.unit.aws_rules.support import each

STACKS = {"primary": "data-primary", "secondary": "data-secondary"}
OWNER = STACKS["secondary"]  # the stack that creates every cross-region link
REMOTE = "${data.terraform_remote_state.cross-stack-reference-input-data-primary.outputs.cross-stack-output-"


@dataclass(frozen=True)
class Side:
    """One region's audit bucket and key, as the owner's JSON refers to them."""

    role: str
    region: str
    bucket_arn: str
    bucket_id: str
    key_arn: str


def _region(synth: Synth, stack: str) -> str:
    (default,) = [p for p in synth[stack]["provider"]["aws"] if "alias" not in p]
    region: str = default["region"]
    return region


def _only(synth: Synth, stack: str, rtype: str) -> str:
    (name,) = synth.resources(stack, rtype)
    return name


def _sides(synth: Synth) -> dict[str, Side]:
    """The primary's bucket and key through the cross-stack reference, the secondary's as local references."""
    sides = {}
    for role, stack in STACKS.items():
        bucket, key = _only(synth, stack, "aws_s3_bucket"), _only(synth, stack, "aws_kms_key")
        if stack == OWNER:
            ref = {"arn": f"${{aws_s3_bucket.{bucket}.arn}}", "bucket": f"${{aws_s3_bucket.{bucket}.bucket}}"}
            key_arn = f"${{aws_kms_key.{key}.arn}}"
        else:
            ref = {attr: f"{REMOTE}aws_s3_bucket{bucket}{attr}}}" for attr in ("arn", "bucket")}
            key_arn = f"{REMOTE}aws_kms_key{key}arn}}"
        sides[role] = Side(role, _region(synth, stack), ref["arn"], ref["bucket"], key_arn)
    return sides


def _policy(resource: dict[str, Any], attr: str = "policy") -> dict[str, Any]:
    document: dict[str, Any] = json.loads(resource[attr])
    return document


def _replication_statements(synth: Synth) -> list[dict[str, Any]]:
    (policy,) = [p for _, name, p in each(synth, "aws_iam_role_policy") if name.startswith("audit-replication")]
    statements: list[dict[str, Any]] = _policy(policy)["Statement"]
    return statements


def test_audit_buckets_replicate_both_ways_with_the_same_rule(aws: Synth) -> None:
    """Each direction is the source bucket's replication configuration, made in the source's region, naming the
    destination bucket and the destination region's key for the replicas (SSE-KMS objects are replicated only
    when the rule selects them). The two directions do not loop: S3 does not replicate objects that are replicas
    created by another replication rule, so replica modification sync (metadata changes on replicas sent back) is
    left off: nothing changes a replica's metadata. Both rules carry the same delete-marker, RTC and metrics
    settings.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-for-metadata-changes.html"""
    configurations = each(aws, "aws_s3_bucket_replication_configuration", at_least=2)
    assert len(configurations) == 2
    assert {stack for stack, _, _ in configurations} == {OWNER}
    sides = _sides(aws)
    by_source = {c["bucket"]: c for _, _, c in configurations}
    assert set(by_source) == {sides["primary"].bucket_id, sides["secondary"].bucket_id}
    rules = []
    for source, destination in (("primary", "secondary"), ("secondary", "primary")):
        configuration = by_source[sides[source].bucket_id]
        # The primary's bucket is configured in the primary region, through the owner's provider alias.
        assert configuration.get("provider") == (None if source == "secondary" else "aws.primary"), source
        (rule,) = configuration["rule"]
        assert rule["status"] == "Enabled"
        assert rule["destination"]["bucket"] == sides[destination].bucket_arn, source
        assert rule["destination"]["encryption_configuration"] == {"replica_kms_key_id": sides[destination].key_arn}
        assert rule["source_selection_criteria"]["sse_kms_encrypted_objects"] == {"status": "Enabled"}
        assert "replica_modifications" not in rule["source_selection_criteria"]
        rules.append({k: v for k, v in rule.items() if k != "destination"} | {"time": _timing(rule["destination"])})
    assert rules[0] == rules[1]


def _timing(destination: dict[str, Any]) -> tuple[Any, Any, Any]:
    return destination.get("replication_time"), destination.get("metrics"), destination.get("storage_class")


def test_each_direction_waits_for_versioning_on_both_buckets(aws: Synth) -> None:
    """Replication requires versioning on the source and the destination bucket. The owner's bucket is versioned
    in the owner's stack, before either configuration (depends_on); the primary's in data-primary, which the owner
    depends on (deployed first).
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-requirements.html"""
    for stack in STACKS.values():
        (versioning,) = aws.resources(stack, "aws_s3_bucket_versioning").values()
        assert versioning["versioning_configuration"]["status"] == "Enabled", stack
    assert STACKS["primary"] in aws.manifest["stacks"][OWNER]["dependencies"]
    owner_versioning = f"aws_s3_bucket_versioning.{_only(aws, OWNER, 'aws_s3_bucket_versioning')}"
    for _, name, configuration in each(aws, "aws_s3_bucket_replication_configuration", at_least=2):
        assert owner_versioning in configuration["depends_on"], name


def test_replication_role_can_replicate_both_ways(aws: Synth) -> None:
    """The replication role reads each source bucket (configuration, object versions, their ACLs and tags) and
    writes replicas into each destination; for SSE-KMS objects it decrypts with the source's key and encrypts with
    the destination's, each only through S3 in that key's region (kms:ViaService) and only for that bucket's
    objects (kms:EncryptionContext:aws:s3:arn: the bucket ARN with S3 Bucket Keys, else the object ARN).
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html"""
    statements = _replication_statements(aws)
    by_sid = {s["Sid"]: s for s in statements}
    sides = _sides(aws).values()
    both = sorted(side.bucket_arn for side in sides)
    assert sorted(by_sid["ReadSourceBucket"]["Resource"]) == both
    assert sorted(by_sid["ReadSourceObjects"]["Resource"]) == [f"{arn}/*" for arn in both]
    assert sorted(by_sid["WriteReplicas"]["Resource"]) == [f"{arn}/*" for arn in both]
    kms = [s for s in statements if any(a.startswith("kms:") for a in s["Action"])]
    assert len(kms) == 4  # count guard: decrypt and encrypt, for each of the two keys
    for side in sides:
        for actions in (["kms:Decrypt"], ["kms:Encrypt", "kms:GenerateDataKey"]):
            (statement,) = [s for s in kms if s["Action"] == actions and s["Resource"] == [side.key_arn]]
            assert statement["Condition"] == {
                "StringEquals": {"kms:ViaService": f"s3.{side.region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [side.bucket_arn, f"{side.bucket_arn}/*"]},
            }, (side.role, actions)


def test_both_region_keys_let_the_replication_role_use_them_for_their_bucket_only(aws: Synth) -> None:
    """A KMS key is usable only when its key policy allows it: each region's key is the source key of one
    direction and the destination key of the other, so its policy lets the replication role decrypt and encrypt,
    only through S3 in its region and only for its region's audit bucket.
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html"""
    role_names = [role["name"] for _, _, role in each(aws, "aws_iam_role") if "s3-replication" in role["name"]]
    assert len(role_names) == 1, role_names
    for stack in STACKS.values():
        key = aws.resource(stack, "aws_kms_key")
        (statement,) = [s for s in _policy(key)["Statement"] if s["Sid"] == "S3ReplicationRoleUsesKey"]
        assert {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"} <= set(statement["Action"]), stack
        condition = statement["Condition"]
        assert condition["ArnEquals"]["aws:PrincipalArn"].endswith(f":role/{role_names[0]}"), stack
        assert condition["StringEquals"] == {"kms:ViaService": f"s3.{_region(aws, stack)}.amazonaws.com"}
        bucket_name = aws.resource(stack, "aws_s3_bucket")["bucket"]
        arns = condition["StringLike"]["kms:EncryptionContext:aws:s3:arn"]
        assert [arn.split(":::")[1] for arn in arns] == [bucket_name, f"{bucket_name}/*"], stack


def test_each_region_backup_plan_copies_to_the_other_region_vault(aws: Synth) -> None:
    """A backup plan rule's copy action copies each recovery point into a vault of another Region (named by its
    ARN) with its own lifecycle; AWS Backup re-encrypts the copy with the destination vault's key. Copies into a
    locked vault need a retention of at least the vault lock's minimum. Both regions copy to the other, so the
    current region's recovery points always have a copy out of it.
    https://docs.aws.amazon.com/aws-backup/latest/devguide/cross-region-backup.html
    https://docs.aws.amazon.com/aws-backup/latest/devguide/encryption.html
    https://docs.aws.amazon.com/aws-backup/latest/devguide/vault-lock.html"""
    plans = each(aws, "aws_backup_plan", at_least=2)
    assert {stack for stack, _, _ in plans} == set(STACKS.values())
    for stack, _, plan in plans:
        (peer,) = [other for other in STACKS.values() if other != stack]
        vault = aws.resource(peer, "aws_backup_vault")
        (rule,) = plan["rule"]
        (copy,) = rule["copy_action"]
        arn = copy["destination_vault_arn"]
        assert arn.split(":")[2:4] == ["backup", _region(aws, peer)], stack
        assert arn.endswith(f":backup-vault:{vault['name']}"), stack
        assert copy["lifecycle"] == rule["lifecycle"], stack
        for lock in aws.resources(peer, "aws_backup_vault_lock_configuration").values():
            assert copy["lifecycle"]["delete_after"] >= lock["min_retention_days"], stack


def test_backup_roles_may_copy_into_the_peer_vault_with_its_key(aws: Synth) -> None:
    """The role of the plan that starts a copy job needs backup:CopyIntoBackupVault on the destination vault and
    the destination key (through AWS Backup and RDS in the destination region, which the destination key's policy
    allows for the account); the IAM policy and the key policy must agree. Within one account no vault access
    policy is needed (that is for cross-account copies).
    https://docs.aws.amazon.com/aws-backup/latest/devguide/encryption.html
    https://docs.aws.amazon.com/aws-backup/latest/devguide/cross-region-backup.html
    https://docs.aws.amazon.com/aws-backup/latest/devguide/create-cross-account-backup.html"""
    policies = each(aws, "aws_iam_role_policy", at_least=2, where=lambda p: p.get("name") == "back-up-payment-data")
    assert len(policies) == 2
    for stack, _, policy in policies:
        (peer,) = [other for other in STACKS.values() if other != stack]
        peer_region = _region(aws, peer)
        by_sid = {s["Sid"]: s for s in _policy(policy)["Statement"]}
        (copy,) = aws.resource(stack, "aws_backup_plan")["rule"][0]["copy_action"]
        assert copy["destination_vault_arn"] in by_sid["UseVaults"]["Resource"], stack
        assert "backup:CopyIntoBackupVault" in by_sid["UseVaults"]["Action"]
        key = by_sid["UseCopyDestinationKey"]
        assert [r.split(":")[2:4] for r in key["Resource"]] == [["kms", peer_region]], stack
        assert key["Condition"] == {
            "ForAnyValue:StringEquals": {"kms:ResourceAliases": aws.resource(peer, "aws_kms_alias")["name"]}
        }
        peer_key = {s["Sid"]: s for s in _policy(aws.resource(peer, "aws_kms_key"))["Statement"]}
        via = peer_key["AccountUsesKeyThroughServices"]["Condition"]["StringEquals"]["kms:ViaService"]
        assert {f"backup.{peer_region}.amazonaws.com", f"rds.{peer_region}.amazonaws.com"} <= set(via), peer
