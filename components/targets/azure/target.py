"""The azure target: a resource group holding the network, AKS, a private
Postgres Flexible Server and Premium Blob storage, plus one identity and one
container per instance.

What the database and storage need (the network) is created without waiting
for the cluster, and each instance waits only for its own database,
container, identity and role, so a fresh `up` takes about as long as the
network -> cluster -> nodes chain, not the sum of all chains.
"""

from __future__ import annotations

import re

import pulumi
import pulumi_azure_native as azure

from components.contract import (
    ANYWHERE,
    PRIVATE_RANGES,
    ClusterNetwork,
    InstanceIdentity,
    NetworkEndpoint,
    NetworkPeer,
    Platform,
    TargetResult,
)
from components.settings import Placement, Settings
from components.settings.azure import AzureSettings
from components.settings.loading import report
from components.targets.azure.cluster import (
    MATERIALIZE_NODE_LABELS,
    MATERIALIZE_POOL_PLACEMENT,
    MATERIALIZE_TAINT,
    SYSTEM_NODE_LABELS,
    AksCluster,
    ClusterArgs,
)
from components.targets.azure.home import Home
from components.targets.azure.instance_access import InstanceAccessArgs, InstanceBlobAccess
from components.targets.azure.kubeconfig import require_kubelogin
from components.targets.azure.names import Names
from components.targets.azure.network import Network, NetworkArgs
from components.targets.azure.postgres import FlexiblePostgres, PostgresArgs
from components.targets.azure.regions import node_zones, storage_replication
from components.targets.azure.storage import BlobStorage, StorageArgs
from components.targets.cluster_dns import AKS_STOCK_DNS, ClusterDns, ClusterDnsArgs
from components.targets.disk_setup import DiskSetup, DiskSetupArgs, namespace_problems
from components.targets.load_balancers import INTERNAL, PUBLIC
from components.targets.prepared_stores import PreparedBlobStore, PreparedMetadataStore

# Azure location names: eastus2, westeurope, ...
_LOCATION = re.compile(r"^[a-z]+[a-z0-9]*$")


class AzureTarget(pulumi.ComponentResource):
    result: TargetResult

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        _refuse_unusable(settings)
        super().__init__("materialize:azure:Target", name, None, opts)
        azure_settings = settings.azure
        # Settings validation guarantees a region for cloud targets.
        location = settings.region or ""
        protect = settings.protect_data
        locks = protect if settings.azure.delete_locks is None else settings.azure.delete_locks
        child = pulumi.ResourceOptions(parent=self)
        names = Names(azure_settings.name_prefix)
        tags = dict(sorted(settings.tags.items()))

        client = azure.authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
        resource_group: pulumi.Input[str]
        if azure_settings.resource_group is not None:
            resource_group = azure_settings.resource_group
        else:
            resource_group = azure.resources.ResourceGroup(
                f"{name}-resource-group",
                resource_group_name=names.resource_group,
                location=location,
                tags=tags,
                # Deleting the group deletes everything in it, data included.
                opts=pulumi.ResourceOptions(parent=self, protect=protect),
            ).name
        home = Home(
            resource_group=resource_group,
            location=location,
            names=names,
            tags=tags,
            subscription_id=client.subscription_id,
        )
        identities = [
            InstanceIdentity(namespace=instance.resolved_namespace, name=instance.name)
            for instance in settings.instances
        ]

        network = Network(f"{name}-network", NetworkArgs(home=home, settings=azure_settings), opts=child)
        postgres = FlexiblePostgres(
            f"{name}-postgres",
            PostgresArgs(
                home=home,
                settings=azure_settings,
                subnet_id=network.postgres_subnet_id,
                dns_zone_id=network.postgres_dns_zone_id,
                network_ready=network.postgres_ready,
                instances=identities,
                protect=protect,
                lock=locks,
            ),
            opts=child,
        )
        storage = BlobStorage(
            f"{name}-storage",
            StorageArgs(
                home=home,
                aks_subnet_id=network.aks_subnet_id,
                protect=protect,
                replication=storage_replication(location, azure_settings.storage_replication),
                lock=locks,
            ),
            opts=child,
        )
        swap = True if settings.swap is None else settings.swap
        cluster = AksCluster(
            f"{name}-cluster",
            ClusterArgs(
                home=home,
                settings=azure_settings,
                aks_subnet_id=network.aks_subnet_id,
                egress_ip=network.egress_ip,
                tenant_id=client.tenant_id,
                deployer_object_id=client.object_id,
                swap=swap,
                zones=list(node_zones(location, azure_settings.zones)),
            ),
            opts=child,
        )
        materialize_ready: list[pulumi.Resource] = [cluster.materialize_pool]
        system_nodes = settings.node_placement.system or Placement(nodeSelector=dict(SYSTEM_NODE_LABELS))
        # cluster.local answered fresh during Materialize rollouts (cluster_dns.py).
        dns = ClusterDns(
            f"{name}-cluster-dns",
            ClusterDnsArgs(
                provider=cluster.provider,
                stock_deployments=AKS_STOCK_DNS,
                placement=system_nodes,
                depends_on=cluster.ready,
            ),
            opts=child,
        )
        # The stock DNS answers until this one is ready; only rollouts need it fresh.
        materialize_ready += dns.ready
        if swap:
            disks = DiskSetup(
                f"{name}-disk-setup",
                DiskSetupArgs(
                    provider=cluster.provider,
                    mode="azure",
                    placement=MATERIALIZE_POOL_PLACEMENT,
                    # AKS forbids removing a node pool's taints from a node, so
                    # there is no startup taint to lift; see docs/azure.md.
                    startup_taint=None,
                    # With the pool in place, its nodes count in the DaemonSet's rollout.
                    depends_on=[cluster.materialize_pool, *cluster.ready],
                ),
                opts=child,
            )
            materialize_ready += disks.ready
        access = {
            identity.name: InstanceBlobAccess(
                f"{name}-{identity.name}-blob",
                InstanceAccessArgs(
                    home=home, storage=storage, instance=identity, oidc_issuer_url=cluster.oidc_issuer_url
                ),
                opts=child,
            ).access
            for identity in identities
        }

        materialize_nodes = settings.node_placement.materialize or Placement(
            nodeSelector=dict(MATERIALIZE_NODE_LABELS), tolerations=[MATERIALIZE_TAINT]
        )
        platform = Platform(
            provider=cluster.provider,
            cloud_provider="azure",
            region=location,
            materialize_nodes=materialize_nodes,
            system_nodes=system_nodes,
            swap_enabled=swap,
            internal_load_balancer_annotations=INTERNAL["azure"],
            public_load_balancer_annotations=PUBLIC["azure"],
            system_ready=tuple(cluster.ready),
            materialize_ready=tuple(materialize_ready),
            network=_cluster_network(azure_settings),
        )
        outputs: dict[str, pulumi.Input[object]] = {
            "resourceGroup": resource_group,
            "clusterName": cluster.cluster.name,
            "storageAccount": storage.account_name,
            "postgresHost": postgres.fqdn,
        }
        self.result = TargetResult(
            platform=platform,
            metadata=PreparedMetadataStore("azure", postgres.databases),
            blob=PreparedBlobStore("azure", access),
            outputs={"azure": outputs, "kubeconfig": cluster.kubeconfig},
        )
        self.register_outputs(outputs)


def _cluster_network(settings: AzureSettings) -> ClusterNetwork:
    """Where pods' traffic goes on AKS, for NetworkPolicies (Cilium enforces them).

    The API server's public address is Azure's to choose and is not known in
    advance: any address on 443. Its calls to webhooks come through AKS's
    konnectivity tunnel, so their source is not a fixed range either. The
    Flexible Server lives in its delegated subnet (in an existing network,
    somewhere in the private ranges). Blob storage is reached on its public
    addresses through the subnet's service endpoint; workload identity's
    token exchange is on 443 too. Load balancer probes go to the nodes.
    """
    postgres = PRIVATE_RANGES if settings.existing_postgres_subnet_id else (settings.postgres_subnet_cidr,)
    return ClusterNetwork(
        enforces_policies=True,
        metadata=NetworkEndpoint(NetworkPeer(cidrs=postgres), ports=(5432,)),
        blob=NetworkEndpoint(NetworkPeer(cidrs=ANYWHERE), ports=(443,)),
    )


def _refuse_unusable(settings: Settings) -> None:
    """Before anything is registered: values only this target cannot use."""
    if not _LOCATION.match(settings.region or ""):
        raise pulumi.RunError(
            f"materialize:region: {settings.region!r} is not an Azure location name "
            "(lower-case letters and digits, such as eastus2 or westeurope)"
        )
    for index, instance in enumerate(settings.instances):
        if "--" in instance.name:
            raise pulumi.RunError(
                f"materialize:instances[{index}].name: {instance.name!r} is not allowed on azure: "
                "it names the instance's blob container, which cannot contain '--'"
            )
    # Like gcp, azure runs the disk setup in its own namespace.
    if problems := namespace_problems(settings):
        raise pulumi.RunError(report(problems))
    require_kubelogin()
