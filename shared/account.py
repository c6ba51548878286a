"""The account and partition a stack deploys into: one lookup each per stack, shared by everything in it."""

from __future__ import annotations

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from constructs import Construct

CALLER_ID = "caller"
PARTITION_ID = "partition"


def account_id(scope: Construct) -> str:
    """The deploying account's id (a token), from the one `caller` data source of `scope`'s stack."""
    stack = TerraformStack.of(scope)
    found = stack.node.try_find_child(CALLER_ID)
    identity = found if isinstance(found, DataAwsCallerIdentity) else DataAwsCallerIdentity(stack, CALLER_ID)
    return identity.account_id


def partition(scope: Construct) -> str:
    """The partition (`aws`, `aws-cn`, ...) as a token, from the one `partition` data source of the stack."""
    stack = TerraformStack.of(scope)
    found = stack.node.try_find_child(PARTITION_ID)
    data = found if isinstance(found, DataAwsPartition) else DataAwsPartition(stack, PARTITION_ID)
    return data.partition
