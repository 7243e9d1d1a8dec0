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

It needs only the network, so it is created while the cluster comes up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.settings.aws import AwsSettings
from components.targets.aws.context import AwsContext

PORT = 5432
MASTER_USER = "mzadmin"


@dataclass(frozen=True)
class DatabaseArgs:
    context: AwsContext
    settings: AwsSettings
    cluster_name: str
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    client_security_group_id: pulumi.Input[str]
    protect: bool


class Database(pulumi.ComponentResource):
    instance: aws.rds.Instance
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

        self.instance = aws.rds.Instance(
            f"{name}-postgres",
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
            username=MASTER_USER,
            password=password.result,
            port=PORT,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[security_group.id],
            parameter_group_name=parameters.name,
            publicly_accessible=False,
            multi_az=settings.postgres_multi_az,
            backup_retention_period=settings.postgres_backup_retention_days,
            copy_tags_to_snapshot=True,
            deletion_protection=args.protect,
            skip_final_snapshot=not settings.keep_backups_on_delete,
            final_snapshot_identifier=snapshot_suffix.hex.apply(lambda suffix: f"materialize-metadata-final-{suffix}"),
            delete_automated_backups=not settings.keep_backups_on_delete,
            tags=context.tagged(f"{cluster}-metadata"),
            opts=context.options(self, protect=args.protect),
        )
        self.address = self.instance.address
        self.port = PORT
        self.master_user = MASTER_USER
        self.master_password = pulumi.Output.secret(password.result)
        self.register_outputs({"address": self.address, "port": PORT})
