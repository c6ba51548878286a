"""The `payments` DynamoDB table, and its replica in another region (a global table, version 2019.11.21).

One payment per item, keyed by `payment_id`; a customer's payments are read
through a GSI ordered by `created_at` (the API's list route). No index on
`status`: a handful of values would put most items on one partition, and
nothing queries by it. The stream
(new and old images) is what a global table replicates; `expires_at` is the TTL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTableGlobalSecondaryIndex,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
    DynamodbTableTtl,
)
from cdktf_cdktf_provider_aws.dynamodb_table_replica import DynamodbTableReplicaA
from constructs import Construct

HASH_KEY = "payment_id"
TTL_ATTRIBUTE = "expires_at"
# index name -> (hash key, range key); every key attribute is a string.
INDEXES: dict[str, tuple[str, str]] = {
    "customer-index": ("customer_id", "created_at"),
}
STREAM_VIEW = "NEW_AND_OLD_IMAGES"


def _key_attributes() -> list[str]:
    names = [HASH_KEY]
    for hash_key, range_key in INDEXES.values():
        names += [n for n in (hash_key, range_key) if n not in names]
    return names


class PaymentsTable(Construct):
    """A regional `payments` table. Exposes `table` (`name`, `arn`, `stream_arn`).

    The primary region's table is the global table's first member; replicas are
    added by the secondary stack, so the table ignores its own `replica` set
    (`ignore_changes`, as the provider documents for `aws_dynamodb_table_replica`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        kms_key_arn: str,
        deletion_protection: bool,
        lifecycle: TerraformResourceLifecycle | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = DynamodbTable(
            self,
            "table",
            name=name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=HASH_KEY,
            attribute=[DynamodbTableAttribute(name=attr, type="S") for attr in _key_attributes()],
            global_secondary_index=[
                DynamodbTableGlobalSecondaryIndex(
                    name=index, hash_key=hash_key, range_key=range_key, projection_type="ALL"
                )
                for index, (hash_key, range_key) in INDEXES.items()
            ],
            stream_enabled=True,
            stream_view_type=STREAM_VIEW,
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=kms_key_arn),
            ttl=DynamodbTableTtl(attribute_name=TTL_ATTRIBUTE, enabled=True),
            deletion_protection_enabled=deletion_protection,
            lifecycle=lifecycle,
            tags=dict(tags or {}),
        )


def replica_managed_elsewhere(extra: Sequence[str] = ()) -> list[str]:
    """`ignore_changes` for a table whose replicas are separate `aws_dynamodb_table_replica` resources."""
    return ["replica", *extra]


class PaymentsTableReplica(Construct):
    """The table's replica in this construct's region (the provider's region). Exposes `replica` (`arn`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        global_table_arn: str,
        kms_key_arn: str,
        deletion_protection: bool,
        lifecycle: TerraformResourceLifecycle | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.replica = DynamodbTableReplicaA(
            self,
            "replica",
            global_table_arn=global_table_arn,
            kms_key_arn=kms_key_arn,
            point_in_time_recovery=True,
            deletion_protection_enabled=deletion_protection,
            lifecycle=lifecycle,
            tags=dict(tags or {}),
        )
