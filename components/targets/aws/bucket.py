"""The persist bucket: one per install, every instance under its own prefix.

Private by every switch S3 has (all four public-access blocks, bucket-owner
ownership so ACLs are off), encrypted by default (S3-managed keys, or a KMS
key of its own), and a policy that refuses any request not made over TLS.
With versioning, replaced or deleted objects expire after a while, and
incomplete multipart uploads are always cleaned up. With `protectData` the
bucket (and its KMS key) is Pulumi-protected and never force-destroyed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.settings.aws import AwsSettings
from components.targets.aws.context import AwsContext
from components.targets.aws.iam import document
from components.targets.aws.keys import data_key

_ABORT_UPLOADS_AFTER_DAYS = 7


@dataclass(frozen=True)
class BucketArgs:
    context: AwsContext
    settings: AwsSettings
    cluster_name: str
    protect: bool


class Bucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    # The bucket's KMS key with sse-kms; None with S3-managed keys.
    kms_key_arn: pulumi.Output[str] | None
    # What must be in place before anyone writes: encryption, the TLS-only policy.
    ready: list[pulumi.Resource]

    def __init__(self, name: str, args: BucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:aws:Bucket", name, None, opts)
        context, settings = args.context, args.settings
        options = context.options(self)
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            # Auto-named (a random suffix, kept in state): bucket names are global.
            force_destroy=not args.protect,
            tags=context.tagged(f"{args.cluster_name}-persist"),
            opts=context.options(self, protect=args.protect),
        )
        self.name, self.arn = self.bucket.bucket, self.bucket.arn
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=options,
        )
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=options,
        )

        self.kms_key_arn = None
        if settings.bucket_encryption == "sse-kms":
            # Without this key every object is unreadable: it lives as long as the data.
            key = data_key(
                f"{name}-key",
                context=context,
                parent=self,
                description=f"Default encryption of the Materialize persist bucket of {args.cluster_name}",
                tag_name=f"{args.cluster_name}-persist",
                protect=args.protect,
            )
            self.kms_key_arn = key.arn
            default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms", kms_master_key_id=key.arn
            )
        else:
            default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="AES256"
            )
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=default,
                    # One data key per bucket, not per object: far fewer KMS calls.
                    bucket_key_enabled=settings.bucket_encryption == "sse-kms",
                )
            ],
            opts=options,
        )

        lifecycle_after: list[pulumi.Resource] = []
        rules = [
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="abort-incomplete-uploads",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=_ABORT_UPLOADS_AFTER_DAYS
                ),
            )
        ]
        if settings.bucket_versioning:
            lifecycle_after.append(
                aws.s3.BucketVersioning(
                    f"{name}-versioning",
                    bucket=self.bucket.id,
                    versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
                    opts=options,
                )
            )
            rules.append(
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-noncurrent-versions",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=settings.noncurrent_version_days
                    ),
                )
            )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=rules,
            opts=context.options(self, depends_on=lifecycle_after),
        )

        policy = aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=self.bucket.id,
            policy=self.bucket.arn.apply(_tls_only_policy),
            # S3 refuses policy changes while the public-access block is being written.
            opts=context.options(self, depends_on=[public_access, ownership]),
        )
        self.ready = [encryption, policy, public_access]
        self.register_outputs({"bucket": self.name})


def _tls_only_policy(arn: str) -> str:
    return document(
        [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    )
