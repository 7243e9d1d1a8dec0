"""The metadata store: a Postgres Flexible Server inside the VNet, one database per instance.

The server has no public endpoint: it lives on its delegated subnet, resolves
through the private DNS zone, and accepts TLS connections only. It waits for
the network alone, never for the cluster, so both come up side by side.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure
import pulumi_random as random

from components.contract import InstanceIdentity, MetadataDatabase
from components.metadata_url import postgres_url
from components.settings.azure import AzureSettings
from components.targets.azure.home import Home
from components.targets.azure.names import unique_suffix
from components.targets.azure.protection import delete_lock
from components.targets.metadata_roles import database_name as instance_database

ADMIN_LOGIN = "materialize"
PORT = 5432
SERVER_OWNED_BY_AZURE = ["availabilityZone", "highAvailability.standbyAvailabilityZone", "storage.storageSizeGB"]


@dataclass(frozen=True)
class PostgresArgs:
    home: Home
    settings: AzureSettings
    subnet_id: pulumi.Input[str]
    dns_zone_id: pulumi.Input[str]
    # The zone's VNet link: the server cannot be created before it.
    network_ready: list[pulumi.Resource]
    instances: list[InstanceIdentity]
    protect: bool
    # A CanNotDelete lock on the server.
    lock: bool


class FlexiblePostgres(pulumi.ComponentResource):
    server: azure.dbforpostgresql.Server
    fqdn: pulumi.Output[str]
    databases: dict[str, MetadataDatabase]

    def __init__(self, name: str, args: PostgresArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:azure:Postgres", name, None, opts)
        home, settings = args.home, args.settings
        protected = pulumi.ResourceOptions(parent=self, protect=args.protect)

        password = random.RandomPassword(
            f"{name}-admin-password",
            length=32,
            # Letters and digits only (the password travels inside a URL), of
            # every kind Azure's complexity rule counts.
            special=False,
            min_upper=2,
            min_lower=2,
            min_numeric=2,
            opts=protected,
        )
        server_name = pulumi.Output.all(home.subscription_id, home.resource_group).apply(
            lambda parts: home.names.postgres_server(unique_suffix(parts[0], parts[1], home.names.prefix))
        )
        self.server = azure.dbforpostgresql.Server(
            f"{name}-server",
            server_name=server_name,
            resource_group_name=home.resource_group,
            location=home.location,
            version=settings.postgres_version,
            sku={"name": settings.postgres_sku, "tier": settings.postgres_tier},
            storage={"storage_size_gb": settings.postgres_storage_gb, "auto_grow": "Enabled"},
            backup={
                "backup_retention_days": settings.postgres_backup_retention_days,
                "geo_redundant_backup": "Enabled" if settings.postgres_geo_redundant_backup else "Disabled",
            },
            high_availability={"mode": "ZoneRedundant" if settings.postgres_high_availability else "Disabled"},
            network={
                "delegated_subnet_resource_id": args.subnet_id,
                "private_dns_zone_arm_resource_id": args.dns_zone_id,
                "public_network_access": "Disabled",
            },
            auth_config={"password_auth": "Enabled", "active_directory_auth": "Disabled"},
            administrator_login=ADMIN_LOGIN,
            administrator_login_password=password.result,
            tags=home.tagged(),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                depends_on=args.network_ready,
                additional_secret_outputs=["administratorLoginPassword"],
                # Azure owns these once the server exists: it picks the zones
                # and swaps them on every failover, and auto-grow raises the
                # storage (which can never shrink). Read back by a refresh,
                # they must neither show as a diff nor be sent back.
                ignore_changes=SERVER_OWNED_BY_AZURE,
            ),
        )
        # A Flexible Server takes one operation at a time and answers any
        # other with ServerIsBusy (Azure/azure-postgresql#134,
        # hashicorp/terraform-provider-azurerm#28298), so its configuration
        # and its databases are applied one after another, never side by side.
        secure_transport = azure.dbforpostgresql.Configuration(
            f"{name}-require-secure-transport",
            configuration_name="require_secure_transport",
            server_name=self.server.name,
            resource_group_name=home.resource_group,
            value="on",
            source="user-override",
            opts=pulumi.ResourceOptions(parent=self),
        )
        if args.lock:
            delete_lock(f"{name}-lock", self.server.id, "metadata (Postgres server)", self)

        self.fqdn = self.server.fully_qualified_domain_name
        self.databases = {}
        previous: pulumi.Resource = secure_transport
        for instance in args.instances:
            database_name = instance_database(instance.name)
            database = azure.dbforpostgresql.Database(
                f"{name}-{instance.name}",
                database_name=database_name,
                server_name=self.server.name,
                resource_group_name=home.resource_group,
                charset="UTF8",
                collation="en_US.utf8",
                opts=pulumi.ResourceOptions.merge(protected, pulumi.ResourceOptions(depends_on=[previous])),
            )
            previous = database
            url = pulumi.Output.all(self.fqdn, password.result).apply(
                # sslmode=require: the server refuses anything else. No
                # search_path: environmentd picks its own schemas.
                lambda parts, db=database_name: postgres_url(
                    parts[0], PORT, db, ADMIN_LOGIN, parts[1], sslmode="require"
                )
            )
            self.databases[instance.name] = MetadataDatabase(
                url=pulumi.Output.secret(url), ready=(database, secure_transport)
            )
        self.register_outputs({"fqdn": self.fqdn, "databases": sorted(self.databases)})
