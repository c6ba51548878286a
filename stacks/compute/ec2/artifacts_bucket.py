"""The region's artifacts bucket: the processor's zips, kept as the audit records are (`stacks.data.audit_bucket`):
private, versioned, encrypted with the region key and a bucket key, TLS only, replaced versions expiring.

Not replicated: each region's compute stack uploads the same zip, built from this repository at synth.
"""

from __future__ import annotations

from constructs import Construct

from shared.account import account_id
from shared.checkov import skip
from shared.naming import Naming
from stacks.data.audit_bucket import AuditBucket

ARTIFACTS_COMPONENT = "code"  # global names allow short components (config.schema.GLOBAL_COMPONENT_MAX)


class ArtifactsBucket(Construct):
    """Exposes `bucket` (`bucket` is its name, `arn`, `id`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: Naming,
        kms_key_arn: str,
        noncurrent_version_expiration_days: int,
        force_destroy: bool,
        tls_only: bool,
    ) -> None:
        """`tls_only`: False leaves the TLS-only bucket policy out (the local target's gap `s3-tls-only-policy`)."""
        super().__init__(scope, construct_id)
        kept = AuditBucket(
            self,
            "store",
            naming=naming,
            kms_key_arn=kms_key_arn,
            noncurrent_version_expiration_days=noncurrent_version_expiration_days,
            force_destroy=force_destroy,
            tls_only=tls_only,
            bucket_name=naming.global_name(ARTIFACTS_COMPONENT, account_id(self)),
        )
        self.bucket = kept.bucket
        # The audit bucket's reasons, restated for this bucket (the same check ids: these replace them).
        skip(self.bucket, "CKV_AWS_144", "not replicated: each region's compute stack uploads the zip built at synth")
        skip(self.bucket, "CKV2_AWS_62", "no consumer of bucket events: a new zip reaches instances by refresh")
