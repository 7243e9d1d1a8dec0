"""Blob storage is never public: every switch a cloud offers against it is on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .companions import of_type, require_for_each
from .fields import (
    AZURE_BLOB_CONTAINER,
    AZURE_STORAGE_ACCOUNT,
    GCS_BUCKET,
    GCS_BUCKET_IAM_BINDING,
    GCS_BUCKET_IAM_MEMBER,
    S3_ACCOUNT_PUBLIC_ACCESS_BLOCK,
    S3_BUCKET,
    S3_BUCKET_NAME,
    S3_PUBLIC_ACCESS_BLOCK,
    Field,
    Side,
    as_list,
    field,
    is_true,
)

BLOCK_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _flags(token: str, side: Side) -> tuple[Field, ...]:
    return tuple(field(token, flag, side) for flag in BLOCK_FLAGS)


BUCKET_BLOCK_INPUTS = _flags(S3_PUBLIC_ACCESS_BLOCK, "inputs")
ACCOUNT_BLOCK_INPUTS = _flags(S3_ACCOUNT_PUBLIC_ACCESS_BLOCK, "inputs")
BUCKET_BLOCK_OUTPUTS = _flags(S3_PUBLIC_ACCESS_BLOCK, "outputs")
ACCOUNT_BLOCK_OUTPUTS = _flags(S3_ACCOUNT_PUBLIC_ACCESS_BLOCK, "outputs")
BLOCK_BUCKET = field(S3_PUBLIC_ACCESS_BLOCK, "bucket", "outputs")

GCS_PREVENTION = field(GCS_BUCKET, "publicAccessPrevention")
GCS_UNIFORM_ACCESS = field(GCS_BUCKET, "uniformBucketLevelAccess")
GCS_MEMBER = field(GCS_BUCKET_IAM_MEMBER, "member")
GCS_MEMBERS = field(GCS_BUCKET_IAM_BINDING, "members")
# GCS's names for "anyone" and "anyone with a Google account".
PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})

AZURE_BLOB_PUBLIC = field(AZURE_STORAGE_ACCOUNT, "allowBlobPublicAccess")
AZURE_NETWORK_ACCESS = field(AZURE_STORAGE_ACCOUNT, "publicNetworkAccess")
AZURE_DEFAULT_ACTION = field(AZURE_STORAGE_ACCOUNT, "networkRuleSet.defaultAction")
AZURE_CONTAINER_ACCESS = field(AZURE_BLOB_CONTAINER, "publicAccess")
# Values of publicNetworkAccess that close the public endpoint by themselves.
AZURE_CLOSED = frozenset({"Disabled", "SecuredByPerimeter"})


def _unblocked(flags: tuple[Field, ...], props: Mapping[str, Any]) -> list[str]:
    # Every flag defaults to false, so an absent one is a hole too.
    return [flag.path for flag in flags if not is_true(flag.get(props))]


def _check_public_access_block(flags: tuple[Field, ...], args: ResourceValidationArgs, report: ReportViolation) -> None:
    missing = _unblocked(flags, args.props)
    if missing:
        report(f"not true: {', '.join(missing)}. All four public-access blocks must be on.", None)


def _check_gcs_bucket(args: ResourceValidationArgs, report: ReportViolation) -> None:
    prevention = GCS_PREVENTION.get(args.props)
    if prevention != "enforced":
        # "inherited" (the default) is public unless an organization policy says otherwise.
        report(f"publicAccessPrevention is {prevention or 'not set'}, not enforced.", None)
    if not is_true(GCS_UNIFORM_ACCESS.get(args.props)):
        report("uniformBucketLevelAccess is not true: object ACLs could grant public reads.", None)


def _check_gcs_members(members: list[Any], report: ReportViolation) -> None:
    public = sorted(PUBLIC_MEMBERS.intersection(m for m in members if isinstance(m, str)))
    if public:
        report(f"grants the bucket to {', '.join(public)}.", None)


def _check_azure_account(args: ResourceValidationArgs, report: ReportViolation) -> None:
    # Azure's default for allowBlobPublicAccess is false, so only an explicit true opens it.
    if is_true(AZURE_BLOB_PUBLIC.get(args.props)):
        report("allowBlobPublicAccess is true: containers could be made public.", None)
    access = AZURE_NETWORK_ACCESS.get(args.props)
    if access not in AZURE_CLOSED and AZURE_DEFAULT_ACTION.get(args.props) != "Deny":
        report(
            f"publicNetworkAccess is {access or 'not set (Enabled)'} and networkRuleSet.defaultAction is not Deny: "
            "the account is reachable from any network.",
            None,
        )


def _check_azure_container(args: ResourceValidationArgs, report: ReportViolation) -> None:
    access = AZURE_CONTAINER_ACCESS.get(args.props)
    if access not in (None, "None"):
        report(f"publicAccess is {access}: the container's blobs would be readable anonymously.", None)


def validate_bucket_public_access_blocked(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    kind = args.resource_type
    if kind == S3_PUBLIC_ACCESS_BLOCK:
        _check_public_access_block(BUCKET_BLOCK_INPUTS, args, report_violation)
    elif kind == S3_ACCOUNT_PUBLIC_ACCESS_BLOCK:
        _check_public_access_block(ACCOUNT_BLOCK_INPUTS, args, report_violation)
    elif kind == GCS_BUCKET:
        _check_gcs_bucket(args, report_violation)
    elif kind == GCS_BUCKET_IAM_MEMBER:
        _check_gcs_members([GCS_MEMBER.get(args.props)], report_violation)
    elif kind == GCS_BUCKET_IAM_BINDING:
        _check_gcs_members(as_list(GCS_MEMBERS.get(args.props)), report_violation)
    elif kind == AZURE_STORAGE_ACCOUNT:
        _check_azure_account(args, report_violation)
    elif kind == AZURE_BLOB_CONTAINER:
        _check_azure_container(args, report_violation)


def _blocks_everything(flags: tuple[Field, ...], resource: PolicyResource) -> bool:
    return not _unblocked(flags, resource.props)


def validate_s3_bucket_public_access_blocked(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    # An account-wide block with all four flags covers every bucket in the account.
    account_blocks = of_type(args.resources, S3_ACCOUNT_PUBLIC_ACCESS_BLOCK)
    if any(_blocks_everything(ACCOUNT_BLOCK_OUTPUTS, block) for block in account_blocks):
        return
    require_for_each(
        args,
        S3_BUCKET,
        BLOCK_BUCKET,
        S3_BUCKET_NAME,
        lambda _bucket, block: _blocks_everything(BUCKET_BLOCK_OUTPUTS, block),
        f"a public-access block ({', '.join(BLOCK_FLAGS)} all true)",
        report_violation,
    )


BUCKET_PUBLIC_ACCESS_BLOCKED = ResourceValidationPolicy(
    name="bucket-public-access-blocked",
    description=(
        "Buckets cannot be made public: S3 public-access blocks all on, GCS public access prevention enforced "
        "with uniform access and no allUsers grants, Azure storage without public blob access or open network."
    ),
    validate=validate_bucket_public_access_blocked,
    enforcement_level=EnforcementLevel.MANDATORY,
)

S3_BUCKET_PUBLIC_ACCESS_BLOCKED = StackValidationPolicy(
    name="s3-bucket-public-access-blocked",
    description="Every S3 bucket has a public-access block with all four settings on (or the account has one).",
    validate=validate_s3_bucket_public_access_blocked,
    enforcement_level=EnforcementLevel.MANDATORY,
)
