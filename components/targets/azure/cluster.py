"""AKS: the control-plane identity, the cluster with its system pool, the
Materialize pool, and the explicit Kubernetes provider built from them.

The cluster signs users in with Entra ID only (the kubeconfig runs kubelogin),
issues OIDC tokens for workload identity, and routes pods through Azure CNI
overlay with Cilium enforcing network policies. Its identity may manage its
own subnet and nothing else.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TypedDict

import pulumi
import pulumi_azure_native as azure
import pulumi_azure_native.containerservice as cs
import pulumi_kubernetes as k8s

from components.settings import Placement, Toleration
from components.settings.azure import AzureSettings, MaintenanceWindow
from components.targets.azure.home import Home
from components.targets.azure.kubeconfig import exec_kubeconfig
from components.targets.azure.names import AKS_RBAC_CLUSTER_ADMIN, NETWORK_CONTRIBUTOR
from components.targets.azure.roles import Grant, assign_role
from components.targets.disk_setup import SWAP_NODE_LABELS

SYSTEM_POOL = "system"
# Linux pool names: at most 12 lower-case letters and digits.
MATERIALIZE_POOL = "materialize"
SYSTEM_NODE_LABELS = {"workload": "generic"}
MATERIALIZE_NODE_LABELS = {"workload": "materialize-instance"}
MATERIALIZE_TAINT = Toleration(
    key="materialize.cloud/workload", operator="Equal", value="materialize-instance", effect="NoSchedule"
)
# Exactly the Materialize pool's nodes, whatever placement settings give Materialize's pods.
# (Pydantic models take their aliases as keywords, which is what type checkers see.)
MATERIALIZE_POOL_PLACEMENT = Placement(
    nodeSelector={**MATERIALIZE_NODE_LABELS, **SWAP_NODE_LABELS}, tolerations=[MATERIALIZE_TAINT]
)
# Managed OS disks on every pool. Left unset, AKS picks an ephemeral OS disk
# whenever the size has local storage to hold it (agent pool `osDiskType`,
# pulumi_azure_native 3.29.0 containerservice/agent_pool.py), and on v6 sizes
# that means NVMe placement, which takes the whole NVMe disk ("NVMe disk
# placement utilizes the entire NVMe disk", learn.microsoft.com/azure/
# virtual-machines/ephemeral-os-disks-faq). Materialize's disk setup then finds
# no unused "Microsoft NVMe Direct Disk" and panics (MaterializeInc/
# ephemeral-storage-setup-image src/detect.rs@1f9eb6b: "No suitable NVMe
# devices found"), so swap never comes up. Materialize's Terraform gets
# Managed from azurerm's default and sizes the disk at 100 GB
# (materialize-terraform-self-managed azure/examples/simple/main.tf@187f61a).
# The system pool gets the same: nothing there needs its local disk, and a
# managed disk fits every size, unlike an ephemeral one.
OS_DISK_TYPE = "Managed"
# What AKS takes only when a pool is created: the OS disk ("May not be changed
# after creation", pulumi_azure_native 3.29.0 containerservice/agent_pool.py),
# the zones, and host encryption ("can only be set at cluster or node pool
# creation time", learn.microsoft.com/azure/aks/enable-host-encryption).
POOL_CREATION_FIELDS = ("osDiskType", "osDiskSizeGB", "availabilityZones", "enableEncryptionAtHost")
# The two planned-maintenance configurations AKS reads for the auto-upgrade
# channels (learn.microsoft.com/azure/aks/planned-maintenance, "Schedule
# configuration types"): cluster upgrades, and node OS / node image upgrades.
KUBERNETES_UPGRADE_SCHEDULE = "aksManagedAutoUpgradeSchedule"
NODE_OS_UPGRADE_SCHEDULE = "aksManagedNodeOSUpgradeSchedule"


class _PoolShape(TypedDict):
    """What both pools share, as ManagedClusterAgentPoolProfileArgs and AgentPool both name it."""

    type: str
    os_type: str
    os_sku: str
    os_disk_type: str
    os_disk_size_gb: int
    orchestrator_version: str
    enable_auto_scaling: bool
    vnet_subnet_id: pulumi.Input[str]
    availability_zones: list[str] | None
    enable_encryption_at_host: bool
    upgrade_settings: cs.AgentPoolUpgradeSettingsArgs
    tags: dict[str, str]


@dataclass(frozen=True)
class ClusterArgs:
    home: Home
    settings: AzureSettings
    aks_subnet_id: pulumi.Input[str]
    # The NAT gateway's address: in-cluster clients reach the API server from it.
    egress_ip: pulumi.Output[str] | None
    tenant_id: pulumi.Output[str]
    # Whoever runs the program: made cluster admin when Azure RBAC authorizes.
    deployer_object_id: pulumi.Output[str]
    swap: bool
    # Availability zones of both pools (regions.py decides the default); empty: none.
    zones: list[str]


class AksCluster(pulumi.ComponentResource):
    cluster: azure.containerservice.ManagedCluster
    cluster_name: str
    oidc_issuer_url: pulumi.Output[str]
    materialize_pool: azure.containerservice.AgentPool
    # The planned-maintenance windows of the two auto-upgrade channels.
    maintenance: list[cs.MaintenanceConfiguration]
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider
    # What must exist before any API call is made (the deployer's access);
    # the Materialize pool is separate (materialize_pool).
    ready: list[pulumi.Resource]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:azure:Cluster", name, None, opts)
        home, settings = args.home, args.settings
        names = home.names
        child = pulumi.ResourceOptions(parent=self)
        self.cluster_name = names.of("aks")

        identity = azure.managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=names.of("aks-identity"),
            resource_group_name=home.resource_group,
            location=home.location,
            tags=home.tagged(),
            opts=child,
        )
        subnet_access = assign_role(
            f"{name}-subnet-access",
            home,
            Grant(
                scope=args.aks_subnet_id,
                role=NETWORK_CONTRIBUTOR,
                principal_id=identity.principal_id,
                principal_type="ServicePrincipal",
                description="AKS control plane: load balancer front ends and node NICs in its own subnet",
            ),
            child,
        )
        self.cluster = azure.containerservice.ManagedCluster(
            f"{name}-aks",
            resource_name_=self.cluster_name,
            resource_group_name=home.resource_group,
            location=home.location,
            dns_prefix=self.cluster_name,
            kubernetes_version=settings.kubernetes_version,
            sku=cs.ManagedClusterSKUArgs(name="Base", tier="Standard"),
            identity=cs.ManagedClusterIdentityArgs(
                type=cs.ResourceIdentityType.USER_ASSIGNED, user_assigned_identities=[identity.id]
            ),
            enable_rbac=True,
            aad_profile=cs.ManagedClusterAADProfileArgs(
                managed=True,
                enable_azure_rbac=settings.entra_id_rbac,
                admin_group_object_ids=[str(group) for group in settings.admin_group_object_ids],
                tenant_id=args.tenant_id,
            ),
            disable_local_accounts=settings.entra_id_rbac,
            oidc_issuer_profile=cs.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=cs.ManagedClusterSecurityProfileArgs(
                workload_identity=cs.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True)
            ),
            network_profile=cs.ContainerServiceNetworkProfileArgs(
                network_plugin="azure",
                network_plugin_mode="overlay",
                network_dataplane="cilium",
                network_policy="cilium",
                pod_cidr=settings.pod_cidr,
                service_cidr=settings.service_cidr,
                dns_service_ip=_dns_service_ip(settings.service_cidr),
                load_balancer_sku="standard",
                outbound_type="userAssignedNATGateway",
            ),
            api_server_access_profile=_api_server_access(settings, args.egress_ip),
            # The minor version stays where settings put it; patches and node images follow.
            auto_upgrade_profile=cs.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel="patch", node_os_upgrade_channel="NodeImage"
            ),
            agent_pool_profiles=[
                cs.ManagedClusterAgentPoolProfileArgs(
                    name=SYSTEM_POOL,
                    mode="System",
                    vm_size=settings.system_vm_size,
                    count=settings.system_min_nodes,
                    min_count=settings.system_min_nodes,
                    max_count=settings.system_max_nodes,
                    node_labels=SYSTEM_NODE_LABELS,
                    **_pool_shape(args, home),
                )
            ],
            tags=home.tagged(),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[subnet_access],
                # The autoscaler owns the node count once the pool exists. What
                # AKS sets only when a pool is created cannot reach the system
                # pool, which lives in the cluster: changing it would fail the
                # whole update (or, for the cluster, replace it), so a new
                # value applies to pools created after it (docs/azure.md).
                ignore_changes=[f"agentPoolProfiles[0].{field}" for field in ("count", *POOL_CREATION_FIELDS)],
            ),
        )
        self.oidc_issuer_url = self.cluster.oidc_issuer_profile.apply(
            lambda profile: profile.issuer_url if profile else ""
        )

        labels = {**MATERIALIZE_NODE_LABELS, **(SWAP_NODE_LABELS if args.swap else {})}
        self.materialize_pool = azure.containerservice.AgentPool(
            f"{name}-materialize-pool",
            agent_pool_name=MATERIALIZE_POOL,
            resource_name_=self.cluster.name,
            resource_group_name=home.resource_group,
            mode="User",
            vm_size=settings.materialize_vm_size,
            count=max(settings.materialize_min_nodes, 1),
            min_count=settings.materialize_min_nodes,
            max_count=settings.materialize_max_nodes,
            node_labels=dict(sorted(labels.items())),
            # AKS keeps pool taints on every node and forbids removing them, so
            # this is the only taint: Materialize's pods tolerate it, others stay off.
            node_taints=[f"{MATERIALIZE_TAINT.key}={MATERIALIZE_TAINT.value}:{MATERIALIZE_TAINT.effect}"],
            **_pool_shape(args, home),
            opts=pulumi.ResourceOptions(
                parent=self,
                # The autoscaler owns the node count once the pool exists.
                ignore_changes=["count"],
                # AKS cannot change a pool's OS disk ("May not be changed after
                # creation"), zones or host encryption: a new one replaces the
                # pool, and as the name is fixed the old pool goes first
                # (Materialize's pods move with it).
                replace_on_changes=list(POOL_CREATION_FIELDS),
                delete_before_replace=True,
            ),
        )
        # The system pool, which runs the system components, comes with the cluster.
        self.ready = []
        # One after another, and after the pool: writes to the same cluster
        # are not left to run side by side while AKS may still be busy with it.
        self.maintenance = []
        previous: pulumi.Resource = self.materialize_pool
        for config, window in (
            (KUBERNETES_UPGRADE_SCHEDULE, settings.kubernetes_upgrade_window),
            (NODE_OS_UPGRADE_SCHEDULE, settings.node_os_upgrade_window),
        ):
            previous = _maintenance(
                f"{name}-{config}",
                config,
                window,
                self.cluster.name,
                home,
                pulumi.ResourceOptions(parent=self, depends_on=[previous]),
            )
            self.maintenance.append(previous)

        api_access = _cluster_admins(name, home, settings, self.cluster.id, args.deployer_object_id, child)
        self.ready += api_access

        credentials = azure.containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=home.resource_group,
            resource_name=self.cluster.name,
            format="exec",
        )
        cluster_name = self.cluster_name
        self.kubeconfig = pulumi.Output.secret(
            credentials.kubeconfigs.apply(
                lambda configs: exec_kubeconfig(cluster_name, configs[0].value, settings.kubelogin_mode)
            )
        )
        self.provider = k8s.Provider(
            f"{name}-kubernetes",
            kubeconfig=self.kubeconfig,
            # The cluster is its name: new credentials must not replace every object.
            cluster_identifier=f"azure/{cluster_name}",
            enable_server_side_apply=True,
            # With Azure RBAC nothing may call the API before the deployer's role exists.
            opts=pulumi.ResourceOptions(parent=self, depends_on=api_access),
        )
        self.register_outputs({"clusterName": self.cluster.name, "oidcIssuerUrl": self.oidc_issuer_url})


def _cluster_admins(
    name: str,
    home: Home,
    settings: AzureSettings,
    cluster_id: pulumi.Output[str],
    deployer_object_id: pulumi.Output[str],
    child: pulumi.ResourceOptions,
) -> list[pulumi.Resource]:
    """With Azure RBAC only role assignments open the Kubernetes API: one per named admin, and the deployer's."""
    if not settings.entra_id_rbac:
        return []
    admins: list[pulumi.Resource] = [
        assign_role(
            f"{name}-admin-{admin.object_id}",
            home,
            Grant(
                scope=cluster_id,
                role=AKS_RBAC_CLUSTER_ADMIN,
                principal_id=str(admin.object_id),
                principal_type=admin.type,
                description="Named in materialize:azure.clusterAdmins",
            ),
            child,
        )
        for admin in settings.cluster_admins
    ]
    if settings.deployer_cluster_admin:
        admins.append(
            assign_role(
                f"{name}-deployer-admin",
                home,
                Grant(
                    scope=cluster_id,
                    role=AKS_RBAC_CLUSTER_ADMIN,
                    principal_id=deployer_object_id,
                    # A user or a service principal, whichever runs pulumi: Azure looks it up.
                    principal_type=None,
                    description="Whoever first ran the Materialize Pulumi program administers the cluster",
                ),
                pulumi.ResourceOptions.merge(
                    child,
                    # Someone else running `up` later must not take the first
                    # deployer's access away: the assignment stays theirs.
                    pulumi.ResourceOptions(ignore_changes=["principalId", "roleAssignmentName"]),
                ),
            )
        )
    return admins


def _dns_service_ip(service_cidr: str) -> str:
    # AKS's convention: the tenth address of the service range.
    return str(ipaddress.ip_network(service_cidr)[10])


def _pool_shape(args: ClusterArgs, home: Home) -> _PoolShape:
    settings = args.settings
    return _PoolShape(
        type="VirtualMachineScaleSets",
        os_type="Linux",
        os_sku="Ubuntu",
        os_disk_type=OS_DISK_TYPE,
        os_disk_size_gb=settings.os_disk_size_gb,
        orchestrator_version=settings.kubernetes_version,
        enable_auto_scaling=True,
        vnet_subnet_id=args.aks_subnet_id,
        # None rather than []: a pool with no zones is what AKS reads back.
        availability_zones=list(args.zones) or None,
        enable_encryption_at_host=settings.encryption_at_host,
        # Node pools surge by a tenth of their size during upgrades, as AKS recommends for production.
        upgrade_settings=cs.AgentPoolUpgradeSettingsArgs(max_surge="10%"),
        tags=home.tagged(),
    )


def _maintenance(
    name: str,
    config: str,
    window: MaintenanceWindow,
    cluster_name: pulumi.Input[str],
    home: Home,
    opts: pulumi.ResourceOptions,
) -> cs.MaintenanceConfiguration:
    """A weekly window: AKS starts that channel's upgrades only inside it (best effort, urgent fixes excepted)."""
    return cs.MaintenanceConfiguration(
        name,
        config_name=config,
        resource_name_=cluster_name,
        resource_group_name=home.resource_group,
        maintenance_window=cs.MaintenanceWindowArgs(
            schedule=cs.ScheduleArgs(
                weekly=cs.WeeklyScheduleArgs(
                    day_of_week=cs.WeekDay(window.day_of_week), interval_weeks=window.interval_weeks
                )
            ),
            start_time=window.start_time,
            duration_hours=window.duration_hours,
            utc_offset=window.utc_offset,
        ),
        # Left out, the start date is the day AKS created the window: read
        # back by a refresh, it must not show as a change.
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(ignore_changes=["maintenanceWindow.startDate"])),
    )


def _api_server_access(
    settings: AzureSettings, egress_ip: pulumi.Output[str] | None
) -> pulumi.Input[cs.ManagedClusterAPIServerAccessProfileArgs] | None:
    allowed = list(settings.api_server_authorized_ranges)
    if not allowed:
        return None
    if egress_ip is None:
        return cs.ManagedClusterAPIServerAccessProfileArgs(authorized_ip_ranges=allowed)
    # Pods reach the API server's public address through the NAT gateway.
    return egress_ip.apply(
        lambda ip: cs.ManagedClusterAPIServerAccessProfileArgs(authorized_ip_ranges=[*allowed, f"{ip}/32"])
    )
