"""The persist store: one GCS bucket, reached through its S3-compatible XML API.

Materialize speaks S3 to its blob store, so it authenticates to GCS with an
HMAC key of a service account that may manage objects in this bucket and
nothing else. Every instance writes under its own prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

from components.contract import BlobAccess, InstanceIdentity
from components.persist_url import s3_persist_url
from components.settings.gcp import GcpSettings
from components.targets.gcp.context import GcpContext

GCS_S3_ENDPOINT = "https://storage.googleapis.com"
# Read, write, list and delete objects (multipart uploads included); no
# control over the bucket itself or its policy.
OBJECT_ROLE = "roles/storage.objectAdmin"


# Uploads Materialize started but never finished (a crash mid-upload).
_ABORT_UPLOADS_AFTER_DAYS = 7


@dataclass(frozen=True)
class PersistStoreArgs:
    context: GcpContext
    settings: GcpSettings


def lifecycle_rules(settings: GcpSettings) -> list[gcp.storage.BucketLifecycleRuleArgs]:
    rules = [
        gcp.storage.BucketLifecycleRuleArgs(
            action=gcp.storage.BucketLifecycleRuleActionArgs(type="AbortIncompleteMultipartUpload"),
            condition=gcp.storage.BucketLifecycleRuleConditionArgs(age=_ABORT_UPLOADS_AFTER_DAYS),
        )
    ]
    if settings.bucket_versioning:
        rules.append(
            gcp.storage.BucketLifecycleRuleArgs(
                action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
                condition=gcp.storage.BucketLifecycleRuleConditionArgs(
                    with_state="ARCHIVED", days_since_noncurrent_time=settings.noncurrent_version_days
                ),
            )
        )
    return rules


class GcsPersistStore(pulumi.ComponentResource):
    bucket: gcp.storage.Bucket
    service_account: gcp.serviceaccount.Account
    access: gcp.storage.BucketIAMMember
    hmac_key: gcp.storage.HmacKey

    def __init__(self, name: str, args: PersistStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:gcp:PersistStore", name, None, opts)
        ctx, settings = args.context, args.settings
        self._region = ctx.region

        # Bucket names are global: a random part keeps them from colliding.
        suffix = random.RandomId(
            f"{name}-name-suffix", byte_length=4, opts=pulumi.ResourceOptions(parent=self, protect=ctx.protect)
        )
        self.bucket = gcp.storage.Bucket(
            f"{name}-bucket",
            name=suffix.hex.apply(lambda hex_: ctx.name(f"persist-{hex_}")),
            project=ctx.project,
            # The region's own location (upper case, as the API reports it).
            location=ctx.region.upper(),
            storage_class="STANDARD",
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            # As on AWS: with versioning, an object persist (or anyone) deletes
            # or overwrites stays recoverable for noncurrentVersionDays, then
            # goes for good.
            versioning=gcp.storage.BucketVersioningArgs(enabled=settings.bucket_versioning),
            lifecycle_rules=lifecycle_rules(settings),
            # Soft delete off: persist deletes objects all the time, and each
            # soft-deleted one would be billed for seven more days. Versioning
            # (above) is the one recovery window, as on AWS.
            soft_delete_policy=gcp.storage.BucketSoftDeletePolicyArgs(retention_duration_seconds=0),
            force_destroy=not ctx.protect,
            labels=dict(ctx.labels),
            opts=ctx.options(self, pulumi.ResourceOptions(protect=ctx.protect)),
        )
        self.service_account = gcp.serviceaccount.Account(
            f"{name}-account",
            account_id=ctx.name("persist"),
            project=ctx.project,
            display_name=f"Materialize persist access to {ctx.prefix}",
            opts=ctx.options(self),
        )
        self.access = gcp.storage.BucketIAMMember(
            f"{name}-object-admin",
            bucket=self.bucket.name,
            role=OBJECT_ROLE,
            member=self.service_account.member,
            opts=ctx.options(self),
        )
        self.hmac_key = gcp.storage.HmacKey(
            f"{name}-hmac-key",
            project=ctx.project,
            service_account_email=self.service_account.email,
            opts=ctx.options(self),
        )
        self.register_outputs({"bucket": self.bucket.name, "serviceAccount": self.service_account.email})

    def access_for(self, instance: InstanceIdentity) -> BlobAccess:
        region = self._region
        url = pulumi.Output.all(self.bucket.name, self.hmac_key.access_id, self.hmac_key.secret).apply(
            lambda parts: s3_persist_url(
                parts[0],
                # Each instance under its own prefix of the one bucket.
                instance.name,
                region,
                endpoint=GCS_S3_ENDPOINT,
                access_key_id=parts[1],
                secret_access_key=parts[2],
            )
        )
        return BlobAccess(persist_url=pulumi.Output.secret(url), ready=(self.bucket, self.access))
