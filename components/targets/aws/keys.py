"""Customer-managed KMS keys for data at rest, all made the same way.

Rotation on (a new key version every year, old data stays readable),
the longest deletion window (30 days, during which a deletion can be
cancelled), and the lifetime of the data they encrypt: protected with
it, and kept at destroy when that data (snapshots, log groups) is kept.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.targets.aws.context import AwsContext


def data_key(
    name: str,
    *,
    context: AwsContext,
    parent: pulumi.Resource,
    description: str,
    tag_name: str,
    protect: bool,
    keep: bool = False,
    policy: pulumi.Input[str] | None = None,
) -> aws.kms.Key:
    """A rotating KMS key; without `policy`, KMS's default policy (the account's IAM policies decide)."""
    return aws.kms.Key(
        name,
        description=description,
        policy=policy,
        enable_key_rotation=True,
        deletion_window_in_days=30,
        tags=context.tagged(tag_name),
        opts=pulumi.ResourceOptions.merge(
            context.options(parent, protect=protect), pulumi.ResourceOptions(retain_on_delete=keep)
        ),
    )
