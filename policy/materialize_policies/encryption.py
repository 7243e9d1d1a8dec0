"""Encryption at rest for the metadata database and the persist bucket.

Only AWS leaves it to the caller: Cloud SQL, GCS, Azure Flexible Server and
Azure Storage always encrypt at rest and offer no setting that turns it off,
so there is nothing to check for them.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .companions import require_for_each
from .fields import RDS_INSTANCE, S3_BUCKET, S3_BUCKET_NAME, S3_ENCRYPTION, field, is_true

RDS_ENCRYPTED = field(RDS_INSTANCE, "storageEncrypted")
ENCRYPTION_BUCKET = field(S3_ENCRYPTION, "bucket", "outputs")
ENCRYPTION_ALGORITHM = field(S3_ENCRYPTION, "rules[].applyServerSideEncryptionByDefault.sseAlgorithm", "outputs")

# What S3 accepts as a default: S3-managed keys, KMS, or dual-layer KMS.
S3_ALGORITHMS = frozenset({"AES256", "aws:kms", "aws:kms:dsse"})


def validate_database_encrypted_at_rest(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # RDS leaves storage unencrypted unless asked, and it cannot be turned on later.
    if args.resource_type == RDS_INSTANCE and not is_true(RDS_ENCRYPTED.get(args.props)):
        report_violation("storageEncrypted is not true: the RDS instance's storage would be unencrypted.", None)


def _sets_a_default_algorithm(configuration: PolicyResource) -> bool:
    return any(algorithm in S3_ALGORITHMS for algorithm in ENCRYPTION_ALGORITHM.each(configuration.props))


def validate_s3_bucket_encrypted(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    require_for_each(
        args,
        S3_BUCKET,
        ENCRYPTION_BUCKET,
        S3_BUCKET_NAME,
        lambda _bucket, configuration: _sets_a_default_algorithm(configuration),
        f"default encryption ({', '.join(sorted(S3_ALGORITHMS))})",
        report_violation,
    )


DATABASE_ENCRYPTED_AT_REST = ResourceValidationPolicy(
    name="database-encrypted-at-rest",
    description="RDS instances encrypt their storage (storageEncrypted).",
    validate=validate_database_encrypted_at_rest,
    enforcement_level=EnforcementLevel.MANDATORY,
)

S3_BUCKET_ENCRYPTED = StackValidationPolicy(
    name="s3-bucket-encrypted",
    description="Every S3 bucket has a server-side encryption configuration with a default algorithm.",
    validate=validate_s3_bucket_encrypted,
    enforcement_level=EnforcementLevel.MANDATORY,
)
