"""Settings of the azure target."""

from __future__ import annotations

import ipaddress
import uuid
from typing import Literal

from pydantic import (
    Field,
    model_validator,
)

from components.settings.base import Cidr, ReachableCidr, StrictModel


class ClusterAdmin(StrictModel):
    """An Entra ID principal given "Azure Kubernetes Service RBAC Cluster Admin" on the cluster."""

    object_id: uuid.UUID = Field(alias="objectId", description="The principal's object id.")
    # Naming the type lets Azure skip a directory lookup that fails for a
    # principal created moments ago (Microsoft.Authorization roleAssignments: principalType).
    type: Literal["User", "Group", "ServicePrincipal"] = Field(description="User, Group or ServicePrincipal.")


WeekDay = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class MaintenanceWindow(StrictModel):
    """A weekly AKS planned-maintenance window (Microsoft.ContainerService maintenanceConfigurations)."""

    day_of_week: WeekDay = Field(alias="dayOfWeek", description="The day the window starts.")
    start_time: str = Field(
        alias="startTime", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM, in utcOffset's time."
    )
    # AKS takes 4 to 24 hours and wants at least 4 for auto-upgrades
    # (learn.microsoft.com/azure/aks/planned-maintenance; pulumi_azure_native
    # 3.29.0 containerservice MaintenanceWindowArgs.duration_hours).
    duration_hours: int = Field(default=6, ge=4, le=24, alias="durationHours", description="4 to 24 hours.")
    utc_offset: str = Field(
        default="+00:00",
        alias="utcOffset",
        pattern=r"^[+-](0[0-9]|1[0-4]):[0-5][0-9]$",
        description="Time zone of startTime, +HH:MM or -HH:MM.",
    )
    interval_weeks: int = Field(default=1, ge=1, alias="intervalWeeks", description="Every this many weeks.")


class AzureSettings(StrictModel):
    """The azure target: one resource group with a VNet, AKS, Flexible Server and Blob storage."""

    name_prefix: str = Field(
        default="materialize",
        alias="namePrefix",
        pattern=r"^[a-z][a-z0-9-]{1,14}[a-z0-9]$",
        description="Prefix of every Azure resource name: 3-16 lower-case letters, digits and '-'.",
    )
    resource_group: str | None = Field(
        default=None,
        alias="resourceGroup",
        pattern=r"^[-\w.()]{1,89}[-\w()]$",
        description="An existing resource group to deploy into; default a new one named <namePrefix>-rg.",
    )
    kubernetes_version: str = Field(
        default="1.35",
        alias="kubernetesVersion",
        pattern=r"^1\.\d{2}(\.\d+)?$",
        description="AKS Kubernetes version (MAJOR.MINOR takes the newest patch AKS offers).",
    )
    api_server_authorized_ranges: list[ReachableCidr] = Field(
        default_factory=list,
        alias="apiServerAuthorizedRanges",
        description="CIDRs that may reach the AKS API server (the NAT egress IP is added); empty: any address.",
    )
    entra_id_rbac: bool = Field(
        default=True,
        alias="entraIdRbac",
        description="Azure RBAC for Kubernetes, local accounts off; false: Kubernetes RBAC for adminGroupObjectIds.",
    )
    admin_group_object_ids: list[uuid.UUID] = Field(
        default_factory=list,
        alias="adminGroupObjectIds",
        description="Entra ID groups that administer the cluster; required when entraIdRbac is false.",
    )
    cluster_admins: list[ClusterAdmin] = Field(
        default_factory=list,
        alias="clusterAdmins",
        description="With entraIdRbac: principals ({objectId, type}) made cluster admins through Azure RBAC.",
    )
    deployer_cluster_admin: bool = Field(
        default=True,
        alias="deployerClusterAdmin",
        description="With entraIdRbac: make whoever first runs `up` a cluster admin too (kept when others run it).",
    )
    kubelogin_mode: Literal["azurecli", "workloadidentity", "spn", "msi"] = Field(
        default="azurecli",
        alias="kubeloginMode",
        description="How kubelogin signs in to reach the cluster: match how the azure-native provider signs in.",
    )
    os_disk_size_gb: int = Field(
        default=100,
        ge=30,
        le=2048,
        alias="osDiskSizeGb",
        description="Managed OS disk of every node in GiB (keeps the NVMe disk free for swap); set at creation.",
    )
    delete_locks: bool | None = Field(
        default=None,
        alias="deleteLocks",
        description="CanNotDelete locks on the server and storage account; default: follow protectData.",
    )
    system_vm_size: str = Field(
        default="Standard_D4pds_v6",
        alias="systemVmSize",
        pattern=r"^Standard_[A-Za-z0-9_]+$",
        description="VM size of the system node pool (operator, cert-manager, kube-system).",
    )
    system_min_nodes: int = Field(default=2, ge=1, le=100, alias="systemMinNodes", description="System pool minimum.")
    system_max_nodes: int = Field(default=4, ge=1, le=100, alias="systemMaxNodes", description="System pool maximum.")
    materialize_vm_size: str = Field(
        default="Standard_E4pds_v6",
        alias="materializeVmSize",
        pattern=r"^Standard_[A-Za-z0-9_]+$",
        description="VM size of the Materialize node pool; needs local NVMe disks (a 'd' size) for swap.",
    )
    materialize_min_nodes: int = Field(
        default=1, ge=0, le=100, alias="materializeMinNodes", description="Materialize pool minimum."
    )
    materialize_max_nodes: int = Field(
        default=4, ge=1, le=100, alias="materializeMaxNodes", description="Materialize pool maximum."
    )
    vnet_cidr: Cidr = Field(default="10.1.0.0/16", alias="vnetCidr", description="Address space of the new VNet.")
    aks_subnet_cidr: Cidr = Field(
        default="10.1.0.0/20", alias="aksSubnetCidr", description="AKS node subnet, inside vnetCidr."
    )
    postgres_subnet_cidr: Cidr = Field(
        default="10.1.16.0/24", alias="postgresSubnetCidr", description="Postgres subnet, inside vnetCidr."
    )
    pod_cidr: Cidr = Field(
        default="10.244.0.0/16", alias="podCidr", description="Pod addresses (CNI overlay); outside the VNet."
    )
    service_cidr: Cidr = Field(
        default="10.2.0.0/16", alias="serviceCidr", description="Kubernetes Service addresses; outside the VNet."
    )
    existing_aks_subnet_id: str | None = Field(
        default=None,
        alias="existingAksSubnetId",
        pattern=r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/[^/]+/subnets/[^/]+$",
        description="Use an existing VNet: the AKS subnet's id (needs a NAT gateway and a Microsoft.Storage endpoint).",
    )
    existing_postgres_subnet_id: str | None = Field(
        default=None,
        alias="existingPostgresSubnetId",
        pattern=r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/[^/]+/subnets/[^/]+$",
        description="Use an existing VNet: a subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers.",
    )
    existing_postgres_dns_zone_id: str | None = Field(
        default=None,
        alias="existingPostgresDnsZoneId",
        pattern=r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/privateDnsZones/"
        r"[^/]+\.postgres\.database\.azure\.com$",
        description="Use an existing VNet: a private DNS zone *.postgres.database.azure.com linked to it.",
    )
    postgres_version: Literal["15", "16", "17", "18"] = Field(
        default="17", alias="postgresVersion", description="Flexible Server Postgres major version."
    )
    postgres_sku: str = Field(
        default="Standard_D2ds_v5",
        alias="postgresSku",
        pattern=r"^Standard_[BDE]\d+[a-z]*(_v\d+)?$",
        description="Flexible Server compute size (Standard_B*: Burstable, D*: General Purpose, E*: Memory Optimized).",
    )
    postgres_storage_gb: Literal[32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384] = Field(
        default=64, alias="postgresStorageGb", description="Flexible Server storage in GiB (grows automatically)."
    )
    postgres_backup_retention_days: int = Field(
        default=7, ge=7, le=35, alias="postgresBackupRetentionDays", description="Days of point-in-time backups."
    )
    postgres_geo_redundant_backup: bool = Field(
        default=False,
        alias="postgresGeoRedundantBackup",
        description="Copy backups to the paired region (set at creation only).",
    )
    postgres_high_availability: bool = Field(
        default=False,
        alias="postgresHighAvailability",
        description="Zone-redundant standby server (not with Burstable sizes).",
    )
    storage_replication: Literal["LRS", "ZRS"] | None = Field(
        default=None,
        alias="storageReplication",
        description="Premium Blob storage replication, LRS or ZRS; default: ZRS where the region offers it.",
    )
    zones: list[Literal["1", "2", "3"]] | None = Field(
        default=None,
        alias="zones",
        description="Availability zones of both node pools ([] for none); default: all three in regions with zones. "
        "Set at a pool's creation.",
    )
    encryption_at_host: bool = Field(
        default=False,
        alias="encryptionAtHost",
        description="Host-based encryption of every node's disks and caches (needs the subscription feature "
        "Microsoft.Compute/EncryptionAtHost); set at a pool's creation.",
    )
    kubernetes_upgrade_window: MaintenanceWindow = Field(
        default_factory=lambda: MaintenanceWindow(dayOfWeek="Sunday", startTime="01:00"),
        alias="kubernetesUpgradeWindow",
        description="When AKS may apply Kubernetes patch upgrades (aksManagedAutoUpgradeSchedule).",
    )
    node_os_upgrade_window: MaintenanceWindow = Field(
        default_factory=lambda: MaintenanceWindow(dayOfWeek="Saturday", startTime="01:00"),
        alias="nodeOsUpgradeWindow",
        description="When AKS may reimage nodes with a new node image (aksManagedNodeOSUpgradeSchedule).",
    )

    @property
    def existing_network(self) -> bool:
        return self.existing_aks_subnet_id is not None

    @property
    def postgres_tier(self) -> Literal["Burstable", "GeneralPurpose", "MemoryOptimized"]:
        family = self.postgres_sku.removeprefix("Standard_")[0]
        if family == "B":
            return "Burstable"
        return "GeneralPurpose" if family == "D" else "MemoryOptimized"

    @model_validator(mode="after")
    def _consistent(self) -> AzureSettings:
        existing = (self.existing_aks_subnet_id, self.existing_postgres_subnet_id, self.existing_postgres_dns_zone_id)
        if any(value is not None for value in existing) and not all(value is not None for value in existing):
            raise ValueError(
                "azure.existingAksSubnetId, azure.existingPostgresSubnetId and azure.existingPostgresDnsZoneId: "
                "an existing VNet needs all three (or none, for a new VNet)"
            )
        if self.zones is not None and len(set(self.zones)) != len(self.zones):
            raise ValueError(f"azure.zones: {self.zones} names a zone twice; list each of 1, 2 and 3 at most once")
        if not self.entra_id_rbac and self.cluster_admins:
            raise ValueError(
                "azure.clusterAdmins: role assignments authorize only with entraIdRbac; "
                "with entraIdRbac false name groups in adminGroupObjectIds"
            )
        if self.entra_id_rbac and not self.deployer_cluster_admin and not self.cluster_admins:
            raise ValueError(
                "azure.deployerClusterAdmin: false with no clusterAdmins leaves nobody, not even this program, "
                "able to reach the Kubernetes API; name the principals that run pulumi in clusterAdmins"
            )
        if not self.entra_id_rbac and not self.admin_group_object_ids:
            raise ValueError(
                "azure.adminGroupObjectIds: with entraIdRbac false, name the Entra ID group(s) whose members "
                "administer the cluster (including whoever runs pulumi)"
            )
        for pool in ("system", "materialize"):
            low, high = getattr(self, f"{pool}_min_nodes"), getattr(self, f"{pool}_max_nodes")
            if low > high:
                raise ValueError(f"azure.{pool}MinNodes: {low} is more than {pool}MaxNodes ({high})")
        if self.postgres_high_availability and self.postgres_tier == "Burstable":
            raise ValueError(
                f"azure.postgresHighAvailability: Burstable sizes ({self.postgres_sku}) have no high availability; "
                "use a Standard_D* or Standard_E* size"
            )

        def alias(key: str) -> str:
            return f"azure.{type(self).model_fields[key].alias}"

        keys = ("vnet_cidr", "aks_subnet_cidr", "postgres_subnet_cidr", "pod_cidr", "service_cidr")
        networks = {key: ipaddress.ip_network(getattr(self, key)) for key in keys}
        pairs = [("pod_cidr", "service_cidr")]
        if not self.existing_network:
            for subnet in ("aks_subnet_cidr", "postgres_subnet_cidr"):
                if not networks[subnet].subnet_of(networks["vnet_cidr"]):  # type: ignore[arg-type]
                    raise ValueError(
                        f"{alias(subnet)}: {networks[subnet]} is not inside vnetCidr {networks['vnet_cidr']}"
                    )
            pairs += [
                ("aks_subnet_cidr", "postgres_subnet_cidr"),
                ("pod_cidr", "vnet_cidr"),
                ("service_cidr", "vnet_cidr"),
            ]
        for first, second in pairs:
            if networks[first].overlaps(networks[second]):
                raise ValueError(f"{alias(first)}: {networks[first]} overlaps {alias(second)} {networks[second]}")
        return self
