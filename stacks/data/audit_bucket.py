"""The region's audit bucket: one record per payment, kept private, versioned and encrypted with the region key.

Records are encrypted with the region key and an S3 bucket key (KMS is asked
once per bucket key rather than once per object), and replaced or deleted
versions expire after `noncurrent_version_expiration_days`. ACLs are off,
every public access block is on, and the bucket policy refuses any request
not made over TLS.

No archive tier: a record is about 1 KB, and S3 lifecycle does not transition
objects under 128 KB (the default minimum object size since September 2024);
Glacier would also add 40 KB of metadata per object and a 90-day minimum, so
archiving these records would cost more than keeping them in Standard.

Where `object_lock_days` is set (prod), the bucket is created with S3 Object
Lock and every new version is kept in COMPLIANCE mode for that many days: no
one, the root user included, can delete or overwrite it before then. The
noncurrent-version expiry still runs, but only on versions whose retention
has passed. Object Lock can only be turned on when a bucket is created.

No server access logging: S3 delivers those logs only to SSE-S3 buckets,
and every store of the platform is encrypted with the region key.
"""

from __future__ import annotations

from typing import Any

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_object_lock_configuration import (
    S3BucketObjectLockConfigurationA,
    S3BucketObjectLockConfigurationRuleA,
    S3BucketObjectLockConfigurationRuleDefaultRetentionA,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from shared import iam
from shared.account import account_id
from shared.checkov import skip
from shared.naming import Naming

ABORT_MULTIPART_AFTER_DAYS = 7
OBJECT_LOCK_MODE = "COMPLIANCE"  # GOVERNANCE could be bypassed by anyone with s3:BypassGovernanceRetention


def audit_bucket_name(naming: Naming, account: str) -> str:
    """The region's audit bucket: named before it exists (the region key's policy names it)."""
    return naming.global_name("audit", account)


def deny_insecure_transport(bucket_arn: str) -> dict[str, Any]:
    return iam.deny(
        ["s3:*"],
        [bucket_arn, f"{bucket_arn}/*"],
        sid="DenyInsecureTransport",
        principals={"AWS": "*"},
        conditions={"Bool": {"aws:SecureTransport": "false"}},
    )


class AuditBucket(Construct):
    """Exposes `bucket` (`bucket` is its name, `arn`, `id`) and `versioning` (what replication waits for).

    `tls_only` False leaves the TLS-only statement out, and with it the bucket policy (it has no other).
    `object_lock_days` 0 creates the bucket without Object Lock.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: Naming,
        kms_key_arn: str,
        noncurrent_version_expiration_days: int,
        force_destroy: bool,
        lifecycle: TerraformResourceLifecycle | None = None,
        tls_only: bool = True,
        object_lock_days: int = 0,
        bucket_name: str | None = None,
    ) -> None:
        """`bucket_name`: another bucket kept the same way (default: the region's audit bucket)."""
        super().__init__(scope, construct_id)
        self.bucket = S3Bucket(
            self,
            "bucket",
            bucket=bucket_name or audit_bucket_name(naming, account_id(self)),
            force_destroy=force_destroy,
            object_lock_enabled=True if object_lock_days else None,
            lifecycle=lifecycle,
        )
        skip(
            self.bucket, "CKV_AWS_18", "S3 access logs go only to SSE-S3 buckets; every store here uses the region CMK"
        )
        skip(self.bucket, "CKV2_AWS_62", "no consumer of bucket events: the writer also emits payment.created")
        skip(self.bucket, "CKV_AWS_144", "replication both ways is owned by data-secondary (cross-stack)")
        S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=self.bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        self.versioning = S3BucketVersioningA(
            self,
            "versioning",
            bucket=self.bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        if object_lock_days:
            S3BucketObjectLockConfigurationA(
                self,
                "object-lock",
                bucket=self.bucket.id,
                rule=S3BucketObjectLockConfigurationRuleA(
                    default_retention=S3BucketObjectLockConfigurationRuleDefaultRetentionA(
                        mode=OBJECT_LOCK_MODE, days=object_lock_days
                    )
                ),
                depends_on=[self.versioning],
            )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=self.bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=(
                        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                            sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
                        )
                    ),
                    bucket_key_enabled=True,
                )
            ],
        )
        public_access = S3BucketPublicAccessBlock(
            self,
            "public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        if tls_only:
            S3BucketPolicy(
                self,
                "policy",
                bucket=self.bucket.id,
                policy=iam.document(deny_insecure_transport(self.bucket.arn)),
                depends_on=[public_access],
            )
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=self.bucket.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-old-versions",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=noncurrent_version_expiration_days
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=ABORT_MULTIPART_AFTER_DAYS
                        )
                    ],
                )
            ],
            depends_on=[self.versioning],
        )
