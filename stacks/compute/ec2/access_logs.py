"""The load balancer's access-log bucket: private, versioned, SSE-S3, TLS-only, written by ELB log delivery only.

Unlike every other store of the platform it is not encrypted with the region key: ALB access logs support only
SSE-S3 ("The only server-side encryption option that's supported is Amazon S3-managed keys (SSE-S3)", AWS:
Enable access logs for your Application Load Balancer). Logs expire after `retention_days`; replaced or deleted
versions after `noncurrent_version_expiration_days`.

Who may write, as AWS documents it for ALB access logs (bucket policy, step 2 of that page):
- the log delivery service principal `logdelivery.elasticloadbalancing.amazonaws.com`: the only way in Regions
  opened in August 2022 or later, and supported in every Region since 10 September 2025 (ELB document history,
  "Bucket policies for access logs": "the newer bucket policy is supported in all Regions");
- the Region's Elastic Load Balancing account (`data aws_elb_service_account`): the policy AWS documented for
  Regions available before August 2022, still supported there. Granted as well in those Regions, so delivery does
  not hang on which of the two a Region's log delivery uses; Regions opened since have no such account (the data
  source fails there), so they get the service principal only.
Both may only put objects under `AWSLogs/<our account>/`, where ELB writes this account's logs.
"""

from __future__ import annotations

from typing import Any

from cdktf_cdktf_provider_aws.data_aws_elb_service_account import DataAwsElbServiceAccount
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
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

from config.schema import REGIONS_WITHOUT_ELB_ACCOUNT
from shared import iam
from shared.account import account_id
from shared.checkov import skip
from shared.naming import Naming
from stacks.data.audit_bucket import ABORT_MULTIPART_AFTER_DAYS, deny_insecure_transport

COMPONENT = "alb"  # global names carry at most 5 characters of component (config.schema.GLOBAL_COMPONENT_MAX)
LOG_DELIVERY_PRINCIPAL = "logdelivery.elasticloadbalancing.amazonaws.com"
SSE_S3 = "AES256"


def access_log_bucket_name(naming: Naming, account: str) -> str:
    return naming.global_name(COMPONENT, account)


def has_elb_account(region: str) -> bool:
    """Whether AWS documents a regional Elastic Load Balancing account for `region` (opened before August 2022)."""
    return region not in REGIONS_WITHOUT_ELB_ACCOUNT


class AccessLogBucket(Construct):
    """Exposes `bucket` (`bucket` is its name, `arn`) and `policy` (the load balancer waits for it: ELB checks
    that it may write when access logging is turned on).

    `tls_only` False leaves the TLS-only statement out (gap `s3-tls-only-policy` on the local target).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: Naming,
        region: str,
        retention_days: int,
        noncurrent_version_expiration_days: int,
        force_destroy: bool,
        tls_only: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        account = account_id(self)
        self.bucket = S3Bucket(
            self, "bucket", bucket=access_log_bucket_name(naming, account), force_destroy=force_destroy
        )
        skip(self.bucket, "CKV_AWS_18", "this is a log bucket: logging its own access would log the logging")
        skip(self.bucket, "CKV_AWS_145", "ALB access logs support only SSE-S3 (AWS: enable-access-logging)")
        skip(self.bucket, "CKV2_AWS_62", "no consumer of log-delivery events")
        skip(self.bucket, "CKV_AWS_144", "access logs are per region; the other region keeps its own")
        S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=self.bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        versioning = S3BucketVersioningA(
            self,
            "versioning",
            bucket=self.bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=self.bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=(
                        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                            sse_algorithm=SSE_S3
                        )
                    ),
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
        statements = self._delivery_statements(region, f"{self.bucket.arn}/AWSLogs/{account}/*")
        if tls_only:
            statements.append(deny_insecure_transport(self.bucket.arn))
        self.policy = S3BucketPolicy(
            self,
            "policy",
            bucket=self.bucket.id,
            policy=iam.document(*statements),
            depends_on=[public_access],
        )
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=self.bucket.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-logs",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=retention_days)],
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
            depends_on=[versioning],
        )

    def _delivery_statements(self, region: str, logs_arn: str) -> list[dict[str, Any]]:
        statements = [
            iam.allow(
                ["s3:PutObject"], [logs_arn], sid="LogDeliveryWrite", principals={"Service": LOG_DELIVERY_PRINCIPAL}
            )
        ]
        if has_elb_account(region):
            elb_account = DataAwsElbServiceAccount(self, "elb-account")
            statements.append(
                iam.allow(["s3:PutObject"], [logs_arn], sid="ElbAccountWrite", principals={"AWS": elb_account.arn})
            )
        return statements
