"""Cloud SQL for PostgreSQL: one private instance, one database and user per Materialize instance.

The server has a private address only, in the range reserved for private
services access, and accepts encrypted connections only. Backups run daily
with point-in-time recovery. Cloud SQL keeps a deleted instance's name for
about a week, so the name ends in a random suffix that is generated once
and kept with the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

from components.contract import InstanceIdentity, MetadataDatabase
from components.metadata_url import postgres_url
from components.settings.gcp import GcpSettings
from components.targets.gcp.context import GcpContext
from components.targets.gcp.network import NetworkRef
from components.targets.metadata_roles import database_name

PORT = 5432


@dataclass(frozen=True)
class PostgresArgs:
    context: GcpContext
    settings: GcpSettings
    network: NetworkRef
    instances: tuple[InstanceIdentity, ...]


def ssl_mode(settings: GcpSettings) -> str:
    """Encrypted connections only; with `postgresClientCertificates`, also a client certificate Cloud SQL issued.

    Both are values of the instance's `settings.ip_configuration.ssl_mode`
    (pulumi_gcp 10.2.0 sql DatabaseInstanceSettingsIpConfigurationArgs;
    https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/instances#ipconfiguration).
    """
    return "TRUSTED_CLIENT_CERTIFICATE_REQUIRED" if settings.postgres_client_certificates else "ENCRYPTED_ONLY"


def audit_flags(settings: GcpSettings) -> dict[str, str]:
    """Postgres flags for who connected, who waited on locks, and what ran slowly.

    Each is a flag Cloud SQL supports for PostgreSQL
    (https://cloud.google.com/sql/docs/postgres/flags), and the CIS Google
    Cloud benchmark asks for the first three.
    """
    return {
        "log_connections": "on",
        "log_disconnections": "on",
        "log_lock_waits": "on",
        "log_min_duration_statement": str(settings.postgres_log_min_duration_ms),
    }


class CloudSqlPostgres(pulumi.ComponentResource):
    instance: gcp.sql.DatabaseInstance
    databases: Mapping[str, MetadataDatabase]

    def __init__(self, name: str, args: PostgresArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:gcp:Postgres", name, None, opts)
        ctx, settings, network = args.context, args.settings, args.network
        kept = pulumi.ResourceOptions(protect=ctx.protect)

        suffix = random.RandomId(
            f"{name}-name-suffix", byte_length=4, opts=pulumi.ResourceOptions(parent=self, protect=ctx.protect)
        )
        self.instance = gcp.sql.DatabaseInstance(
            f"{name}-instance",
            name=suffix.hex.apply(lambda hex_: ctx.name(f"pg-{hex_}")),
            project=ctx.project,
            region=ctx.region,
            database_version=f"POSTGRES_{settings.postgres_version}",
            deletion_protection=ctx.protect,
            settings=gcp.sql.DatabaseInstanceSettingsArgs(
                # Named, not left to Google: from Postgres 16 the default is
                # Enterprise Plus, which takes other machine tiers.
                edition="ENTERPRISE",
                tier=settings.postgres_tier,
                availability_type="REGIONAL" if settings.postgres_high_availability else "ZONAL",
                disk_type="PD_SSD",
                disk_size=settings.postgres_disk_gb,
                disk_autoresize=True,
                deletion_protection_enabled=ctx.protect,
                user_labels=dict(ctx.labels),
                ip_configuration=gcp.sql.DatabaseInstanceSettingsIpConfigurationArgs(
                    ipv4_enabled=False,
                    private_network=network.network,
                    allocated_ip_range=network.private_services_range,
                    ssl_mode=ssl_mode(settings),
                ),
                backup_configuration=gcp.sql.DatabaseInstanceSettingsBackupConfigurationArgs(
                    enabled=True,
                    point_in_time_recovery_enabled=True,
                    start_time="03:00",
                    transaction_log_retention_days=7,
                    backup_retention_settings=gcp.sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs(
                        retained_backups=14, retention_unit="COUNT"
                    ),
                ),
                maintenance_window=gcp.sql.DatabaseInstanceSettingsMaintenanceWindowArgs(
                    day=7, hour=4, update_track="stable"
                ),
                database_flags=[
                    gcp.sql.DatabaseInstanceSettingsDatabaseFlagArgs(name=flag, value=value)
                    for flag, value in audit_flags(settings).items()
                ],
            ),
            opts=ctx.options(
                self,
                pulumi.ResourceOptions.merge(
                    kept,
                    pulumi.ResourceOptions(
                        # The private address needs the peering to Google's services.
                        depends_on=list(network.private_services_ready),
                        # Storage grows by itself; the configured size is only the start.
                        ignore_changes=["settings.diskSize"],
                    ),
                ),
            ),
        )

        self.databases = {
            identity.name: MetadataDatabaseOnCloudSql(
                f"{name}-{identity.name}",
                MetadataDatabaseArgs(
                    context=ctx,
                    server=self.instance,
                    instance=identity,
                    client_certificate=settings.postgres_client_certificates,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            ).database
            for identity in args.instances
        }
        self.register_outputs({"instance": self.instance.name, "connectionName": self.instance.connection_name})


@dataclass(frozen=True)
class MetadataDatabaseArgs:
    context: GcpContext
    server: gcp.sql.DatabaseInstance
    instance: InstanceIdentity
    # The server requires a client certificate: issue one for this instance.
    client_certificate: bool = False


class MetadataDatabaseOnCloudSql(pulumi.ComponentResource):
    """One instance's database and the user it connects as."""

    database: MetadataDatabase

    def __init__(self, name: str, args: MetadataDatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:gcp:MetadataDatabase", name, None, opts)
        ctx, server = args.context, args.server
        role = database_name(args.instance.name)

        password = random.RandomPassword(
            f"{name}-password",
            length=32,
            # Letters and digits only: the password also travels inside a URL.
            special=False,
            opts=pulumi.ResourceOptions(parent=self, protect=ctx.protect),
        )
        user = gcp.sql.User(
            f"{name}-user",
            name=role,
            project=ctx.project,
            instance=server.name,
            password=password.result,
            # Postgres refuses to drop a role that owns objects, and this one
            # owns everything Materialize created; it goes with the instance.
            deletion_policy="ABANDON",
            opts=ctx.options(self),
        )
        database = gcp.sql.Database(
            f"{name}-database",
            name=role,
            project=ctx.project,
            instance=server.name,
            # DELETE would run DROP DATABASE while environmentd may still hold
            # connections, and fail the destroy; the instance's own deletion
            # takes the database with it. Removing one instance from the
            # stack leaves its database (and data) on the server.
            deletion_policy="ABANDON",
            opts=ctx.options(self, pulumi.ResourceOptions(protect=ctx.protect)),
        )
        ready: list[pulumi.Resource] = [database, user]
        if args.client_certificate:
            certificate = gcp.sql.SslCert(
                f"{name}-client-certificate",
                common_name=role,
                project=ctx.project,
                instance=server.name,
                opts=ctx.options(self),
            )
            ready.append(certificate)
            url = pulumi.Output.all(
                server.private_ip_address,
                password.result,
                certificate.cert,
                certificate.private_key,
                certificate.server_ca_cert,
            ).apply(lambda parts: certificate_url(role, *parts))
        else:
            url = pulumi.Output.all(server.private_ip_address, password.result).apply(
                # No search_path: environmentd picks its own schemas.
                lambda parts: postgres_url(parts[0], PORT, role, role, parts[1], sslmode="require")
            )
        self.database = MetadataDatabase(url=pulumi.Output.secret(url), ready=tuple(ready))
        self.register_outputs({"database": database.name, "user": user.name})


def certificate_url(role: str, host: str, password: str, cert: str, key: str, server_ca: str) -> str:
    """The metadata URL with the client certificate, its key and the server's CA inline.

    environmentd parses the URL with Materialize's tokio-postgres fork, which
    takes `sslcert_inline`, `sslkey_inline` and `sslrootcert_inline` as the
    PEM text itself (MaterializeInc/rust-postgres tokio-postgres/src/config.rs
    `Config::param` at f0b4df201dfd9dd2796277176b8b200ea8fbc59a), and builds its
    TLS connector from them (MaterializeInc/materialize src/tls-util/src/lib.rs
    `make_tls` at 0258aa4f512cd2811f2638ff5482d98b0a54f156, called by
    src/postgres-client/src/lib.rs `PostgresClient::open`): no file has to be
    mounted into the pod. With the server's CA given, `verify-ca` checks the
    server's certificate; not its name, since Cloud SQL's server certificate
    names the instance, not the private address the URL connects to.
    """
    return postgres_url(
        host,
        PORT,
        role,
        role,
        password,
        sslmode="verify-ca",
        params=(("sslcert_inline", cert), ("sslkey_inline", key), ("sslrootcert_inline", server_ca)),
    )
