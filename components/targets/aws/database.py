"""RDS Postgres, the metadata store: private, encrypted, TLS only, backed up.

Reachable on 5432 only from the node security group (every pod carries it),
in private subnets, never publicly accessible. The master password is
generated and stays a Pulumi secret. With `protectData` (the default) the
instance has deletion protection and is Pulumi-protected.

Backups outlive the instance: deleting it takes a final snapshot and keeps
its automated backups until their retention ends, whatever `protectData`
says, because the instance can only be deleted once `protectData` is off
(docs/aws.md, Tearing down). `keepBackupsOnDelete: false` is the explicit
opt-out for throwaway stacks (the nightly's).

Changed settings apply at once (`postgresApplyChanges`), so a preview never
keeps showing a change RDS holds back for the maintenance window. A new
`postgresVersion` is a real major upgrade: RDS upgrades in place, with the
parameter group of the new family, and with backups on (always, here) it
snapshots the instance before and after the upgrade
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.PostgreSQL.MajorVersion.Process.html);
it refuses a downgrade itself.

Its Postgres and upgrade logs go to CloudWatch (the two exports RDS for
PostgreSQL offers besides IAM authentication errors:
https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html,
EnableCloudwatchLogsExports), into `/aws/rds/instance/<identifier>/<log>`
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.Concepts.PostgreSQL.PublishtoCloudWatchLogs.html).
RDS would create those groups without a retention, so they are made first
(log_groups.py), which needs an identifier known before the instance: it is
named after the cluster, not auto-named. They are kept at destroy like the
backups (`keepBackupsOnDelete`): Postgres logs are audit data.

Multi-AZ is on by default in a production stack: one whose tags have
`environment: production`, the tag the policy pack reads from the stack
(policy/materialize_policies/protection.py), which a program cannot read.

It needs only the network, so it is created while the cluster comes up.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.settings.aws import AwsSettings
from components.targets.aws.context import AwsContext
from components.targets.aws.keys import data_key
from components.targets.aws.log_groups import kept_log_group

PORT = 5432
MASTER_USER = "mzadmin"
# What RDS for PostgreSQL exports to CloudWatch Logs, besides iam-db-auth-error (no IAM auth here).
LOG_EXPORTS = ("postgresql", "upgrade")
PRODUCTION_TAG = ("environment", "production")
_IDENTIFIER_LIMIT = 63
_SUFFIX = "-metadata"


@dataclass(frozen=True)
class DatabaseArgs:
    context: AwsContext
    settings: AwsSettings
    cluster_name: str
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    client_security_group_id: pulumi.Input[str]
    protect: bool
    # The customer-managed key of the log groups (logEncryption: kms), else None.
    logs_key_arn: pulumi.Input[str] | None = None


def instance_identifier(cluster_name: str) -> str:
    """The RDS identifier of a cluster's metadata database, within RDS's rules.

    1-63 letters, digits and hyphens, a letter first, no double or trailing
    hyphen (terraform-provider-aws internal/service/rds validIdentifier). A
    cluster name may hold underscores or start with a digit, and a long one
    is cut and given a hash of the whole, so two names stay two identifiers.
    """
    base = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", cluster_name.lower())).strip("-")
    if not base[:1].isalpha():
        base = f"mz-{base}".rstrip("-")
    if len(base) + len(_SUFFIX) > _IDENTIFIER_LIMIT:
        digest = hashlib.sha256(cluster_name.encode()).hexdigest()[:8]
        base = f"{base[: _IDENTIFIER_LIMIT - len(_SUFFIX) - len(digest) - 1].rstrip('-')}-{digest}"
    return f"{base}{_SUFFIX}"


def is_production(tags: Mapping[str, str]) -> bool:
    """Whether the stack's tags mark it production, as the policy pack's stack tag does."""
    key, value = PRODUCTION_TAG
    return any(k.lower() == key and v.strip().lower() == value for k, v in tags.items())


class Database(pulumi.ComponentResource):
    instance: aws.rds.Instance
    identifier: str
    log_groups: list[aws.cloudwatch.LogGroup]
    # The database's own KMS key with postgresEncryption: kms; None with the aws/rds key.
    kms_key_arn: pulumi.Output[str] | None
    address: pulumi.Output[str]
    port: int
    master_user: str
    master_password: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:aws:Database", name, None, opts)
        context, settings, cluster = args.context, args.settings, args.cluster_name
        options = context.options(self)

        security_group = aws.ec2.SecurityGroup(
            f"{name}-security-group",
            vpc_id=args.vpc_id,
            description=f"Metadata Postgres of {cluster}: 5432 from the cluster's nodes only",
            tags=context.tagged(f"{cluster}-postgres"),
            opts=options,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-nodes",
            security_group_id=security_group.id,
            referenced_security_group_id=args.client_security_group_id,
            ip_protocol="tcp",
            from_port=PORT,
            to_port=PORT,
            description="Postgres from EKS nodes and pods",
            tags=context.tagged(f"{cluster}-postgres-from-nodes"),
            opts=options,
        )
        subnets = aws.rds.SubnetGroup(
            f"{name}-subnets",
            subnet_ids=list(args.subnet_ids),
            description=f"Private subnets of {cluster}",
            tags=context.tagged(f"{cluster}-postgres"),
            opts=options,
        )
        # Auto-named and replaced before the old one goes: a new major (family)
        # gets its group first, and the instance moves to it in the upgrade.
        parameters = aws.rds.ParameterGroup(
            f"{name}-parameters",
            family=f"postgres{settings.postgres_version}",
            description=f"Metadata Postgres of {cluster}: TLS required",
            parameters=[
                aws.rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1", apply_method="immediate"),
            ],
            tags=context.tagged(f"{cluster}-postgres"),
            opts=options,
        )

        keep = pulumi.ResourceOptions(parent=self, protect=args.protect)
        password = random.RandomPassword(
            f"{name}-master-password",
            length=32,
            # Letters and digits: RDS refuses some punctuation, and it travels in URLs.
            special=False,
            opts=keep,
        )
        # A final snapshot name must be new each time; drawn once, kept in state.
        snapshot_suffix = random.RandomId(f"{name}-final-snapshot", byte_length=4, opts=keep)

        self.identifier = instance_identifier(cluster)
        self.log_groups = [
            kept_log_group(
                f"{name}-{log}-logs",
                context=context,
                parent=self,
                group_name=f"/aws/rds/instance/{self.identifier}/{log}",
                retention_days=settings.log_retention_days,
                tag_name=f"{cluster}-postgres-{log}-logs",
                # RDS stops writing before the group goes (the instance is deleted first).
                keep=settings.keep_backups_on_delete,
                kms_key_arn=args.logs_key_arn,
            )
            for log in LOG_EXPORTS
        ]

        self.kms_key_arn = None
        if settings.postgres_encryption == "kms":
            # Without it the database, its snapshots and backups are unreadable: protected like them.
            # The default key policy (the account's IAM policies decide) is what RDS needs: it uses
            # the key through grants it creates for the caller.
            key = data_key(
                f"{name}-key",
                context=context,
                parent=self,
                description=f"Storage encryption of the Materialize metadata database of {cluster}",
                tag_name=f"{cluster}-postgres",
                protect=args.protect,
                # Kept snapshots and backups need the key after the database is gone.
                keep=settings.keep_backups_on_delete,
            )
            self.kms_key_arn = key.arn

        multi_az = settings.postgres_multi_az
        if multi_az is None:
            multi_az = is_production(context.tags)

        self.instance = aws.rds.Instance(
            f"{name}-postgres",
            # Updatable in place: an instance auto-named before is renamed, not replaced
            # (terraform-provider-aws internal/service/rds/instance.go: `identifier` has no
            # ForceNew since v5, and the update sends NewDBInstanceIdentifier; `kms_key_id` is ForceNew).
            identifier=self.identifier,
            engine="postgres",
            # A major only: RDS applies minor releases itself (auto_minor_version_upgrade).
            engine_version=settings.postgres_version,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=True,
            apply_immediately=settings.postgres_apply_changes == "immediately",
            backup_window=settings.postgres_backup_window,
            maintenance_window=settings.postgres_maintenance_window,
            instance_class=settings.postgres_instance_class,
            allocated_storage=settings.postgres_storage_gb,
            max_allocated_storage=settings.postgres_max_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            # Create-only in the provider (ForceNew: a new key replaces the database).
            kms_key_id=self.kms_key_arn,
            username=MASTER_USER,
            password=password.result,
            port=PORT,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[security_group.id],
            parameter_group_name=parameters.name,
            publicly_accessible=False,
            multi_az=multi_az,
            enabled_cloudwatch_logs_exports=list(LOG_EXPORTS),
            backup_retention_period=settings.postgres_backup_retention_days,
            copy_tags_to_snapshot=True,
            deletion_protection=args.protect,
            skip_final_snapshot=not settings.keep_backups_on_delete,
            final_snapshot_identifier=snapshot_suffix.hex.apply(lambda suffix: f"materialize-metadata-final-{suffix}"),
            delete_automated_backups=not settings.keep_backups_on_delete,
            tags=context.tagged(f"{cluster}-metadata"),
            # Our groups first, so RDS never creates them without a retention.
            opts=context.options(self, protect=args.protect, depends_on=self.log_groups),
        )
        self.address = self.instance.address
        self.port = PORT
        self.master_user = MASTER_USER
        self.master_password = pulumi.Output.secret(password.result)
        self.register_outputs({"address": self.address, "port": PORT})
