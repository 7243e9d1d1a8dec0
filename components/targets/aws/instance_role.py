"""One instance's own IAM role (IRSA): its service account, its prefix, nothing else.

The trust policy accepts exactly `system:serviceaccount:<namespace>:<name>`
with audience sts.amazonaws.com from this cluster's OIDC provider. The
permissions cover objects under `<prefix>/` and listing the bucket only
where the listed prefix is the instance's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.contract import InstanceIdentity
from components.targets.aws.context import AwsContext
from components.targets.aws.iam import document, irsa_trust_policy

# What persist does with its blobs: read, write (multipart uploads included),
# delete, and list its own prefix.
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")


def prefix_policy(bucket_arn: str, prefix: str, kms_key_arn: str | None) -> str:
    statements: list[dict[str, object]] = [
        {
            "Sid": "OwnObjects",
            "Effect": "Allow",
            "Action": list(OBJECT_ACTIONS),
            "Resource": f"{bucket_arn}/{prefix}/*",
        },
        {
            "Sid": "ListOwnPrefix",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}},
        },
    ]
    if kms_key_arn is not None:
        statements.append(
            {
                "Sid": "BucketKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": kms_key_arn,
            }
        )
    return document(statements)


@dataclass(frozen=True)
class InstanceRoleArgs:
    context: AwsContext
    instance: InstanceIdentity
    prefix: str
    bucket_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str] | None
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]


class InstanceRole(pulumi.ComponentResource):
    arn: pulumi.Output[str]
    ready: list[pulumi.Resource]

    def __init__(self, name: str, args: InstanceRoleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:aws:InstanceRole", name, None, opts)
        context, instance = args.context, args.instance
        options = context.options(self)
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=irsa_trust_policy(
                args.oidc_provider_arn, args.oidc_issuer_url, instance.namespace, instance.name
            ),
            description=f"Materialize instance {instance.namespace}/{instance.name}: its persist prefix",
            tags=context.tagged(f"materialize-{instance.name}"),
            opts=options,
        )
        key = args.kms_key_arn if args.kms_key_arn is not None else pulumi.Output.from_input("")
        policy = aws.iam.RolePolicy(
            f"{name}-persist",
            role=role.id,
            policy=pulumi.Output.all(args.bucket_arn, key).apply(
                lambda parts: prefix_policy(parts[0], args.prefix, parts[1] or None)
            ),
            opts=options,
        )
        self.arn = role.arn
        self.ready = [role, policy]
        self.register_outputs({"roleArn": self.arn})
