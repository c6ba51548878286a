"""Remote state on S3: what every stack's backend asks of the state bucket."""

from __future__ import annotations

import re

from tests.support import STACKS, Synth


def test_state_objects_are_encrypted_with_the_bootstrap_customer_managed_key(aws: Synth) -> None:
    """A request that names its encryption overrides the bucket's default: with `encrypt` alone the backend asks for
    SSE-S3 on every write, so the state would never use the bucket's customer managed key. The key is named by its
    alias, which PutObject resolves in the requester's account (the bucket's own: bootstrap and preflight check it).
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html"""
    backends = [aws[stack]["terraform"]["backend"]["s3"] for stack in STACKS]
    assert len(backends) == 8  # count guard: four layers in two regions
    [alias] = {backend["kms_key_id"] for backend in backends}  # one key for all of them
    assert re.fullmatch(r"alias/payments-(dev|prod)-bootstrap", alias), alias
    assert all(backend["encrypt"] is True for backend in backends)
