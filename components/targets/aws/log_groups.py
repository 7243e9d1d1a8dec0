"""CloudWatch log groups that AWS services write into, made by us first, and their optional KMS key.

EKS (control-plane logs) and RDS (Postgres log exports) each create the
group they log to when it is missing, without a retention, so logs would
be kept forever. Creating the group ourselves, before the service starts
logging, gives it the stack's retention, tags and (optionally) key.

Kept at destroy: the groups hold audit data (API server audit, Postgres
connections and errors) and their retention ages them out anyway; EKS
would even re-create its group while the cluster is being deleted. A kept
group is adopted by the next `up` of the same name through an import (an
import of a group already in this stack's state is an ordinary update:
pulumi/pulumi developer-docs/architecture/import.md, the `import` option),
so a re-created stack never fails with ResourceAlreadyExists.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.targets.aws.context import AwsContext
from components.targets.aws.iam import document
from components.targets.aws.keys import data_key


def kept_log_group(
    name: str,
    *,
    context: AwsContext,
    parent: pulumi.Resource,
    group_name: str,
    retention_days: int,
    tag_name: str,
    keep: bool = True,
    kms_key_arn: pulumi.Input[str] | None = None,
) -> aws.cloudwatch.LogGroup:
    """The log group `group_name`, adopted when an earlier stack left it behind.

    `keep` false deletes it with the stack (throwaway stacks), for a group
    the service cannot re-create once the stack's resource is gone.
    """
    existing = aws.cloudwatch.get_log_groups(
        log_group_name_prefix=group_name,
        opts=pulumi.InvokeOptions(provider=context.provider, parent=parent),
    ).log_group_names
    return aws.cloudwatch.LogGroup(
        name,
        name=group_name,
        retention_in_days=retention_days,
        kms_key_id=kms_key_arn,
        tags=context.tagged(tag_name),
        opts=pulumi.ResourceOptions.merge(
            context.options(parent),
            pulumi.ResourceOptions(
                retain_on_delete=keep,
                # A prefix lookup also returns longer names; the group's id is its exact name.
                import_=group_name if group_name in (existing or []) else None,
            ),
        ),
    )


def logs_service_principal(context: AwsContext) -> str:
    """CloudWatch Logs' regional service principal (China regions end in .com.cn)."""
    suffix = "amazonaws.com.cn" if context.partition == "aws-cn" else "amazonaws.com"
    return f"logs.{context.region}.{suffix}"


def logs_key_policy(context: AwsContext) -> str:
    """The key policy CloudWatch Logs needs to encrypt this account's log groups in this region.

    As https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
    describes: the account keeps full control (so IAM policies apply, as with a
    default key policy), and the regional Logs service may use the key only for
    log groups of this account and region (the encryption context it sends
    names the log group's ARN).
    """
    account = f"arn:{context.partition}:iam::{context.account_id}:root"
    log_groups = f"arn:{context.partition}:logs:{context.region}:{context.account_id}:log-group:*"
    return document(
        [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": account},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchLogsEncrypts",
                "Effect": "Allow",
                "Principal": {"Service": logs_service_principal(context)},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            },
        ]
    )


class LogsKey(pulumi.ComponentResource):
    """A customer-managed KMS key for the log groups of one install.

    It lives as long as the logs it encrypts: protected with `protectData`,
    and kept at destroy when the groups are (a kept group whose key is gone
    cannot be read).
    """

    key: aws.kms.Key
    arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        context: AwsContext,
        cluster_name: str,
        protect: bool,
        keep: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("materialize:aws:LogsKey", name, None, opts)
        self.key = data_key(
            f"{name}-key",
            context=context,
            parent=self,
            description=f"Encryption of the CloudWatch log groups of {cluster_name}",
            tag_name=f"{cluster_name}-logs",
            protect=protect,
            keep=keep,
            policy=logs_key_policy(context),
        )
        self.arn = self.key.arn
        self.register_outputs({"arn": self.arn})
