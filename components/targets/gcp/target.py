"""The gcp target: a VPC with Cloud NAT, GKE with swap-ready Materialize
nodes, private Cloud SQL for Postgres and a GCS bucket reached through HMAC.

The database and the bucket need only the network (and not even that, for
the bucket), so they are created alongside the cluster rather than after
it; each instance waits for its own database and for the bucket, and the
Kubernetes side waits for the node pools and the disk setup.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from components.contract import (
    ANYWHERE,
    ClusterNetwork,
    InstanceIdentity,
    NetworkEndpoint,
    NetworkPeer,
    Platform,
    TargetResult,
)
from components.settings import Settings
from components.targets.cluster_dns import GKE_STOCK_DNS, ClusterDns, ClusterDnsArgs
from components.targets.disk_setup import DiskSetup, DiskSetupArgs
from components.targets.gcp.apis import ApisArgs, GcpApis
from components.targets.gcp.checks import check_gcp_settings, rollout_trigger_on
from components.targets.gcp.cluster import ClusterArgs, GkeCluster
from components.targets.gcp.context import GcpContext
from components.targets.gcp.database import CloudSqlPostgres, PostgresArgs
from components.targets.gcp.gke_versions import check_gke_version
from components.targets.gcp.network import GcpNetwork, NetworkArgs, NetworkRef, existing_network
from components.targets.gcp.node_pools import STARTUP_TAINT, GkeNodePools, NodePoolsArgs, pool_layout
from components.targets.gcp.node_upgrades import NodeUpgradeTrigger, NodeUpgradeTriggerArgs
from components.targets.gcp.storage import GcsPersistStore, PersistStoreArgs
from components.targets.load_balancers import GKE_CONTROLLER_ANNOTATIONS, INTERNAL, PUBLIC
from components.targets.prepared_stores import PreparedMetadataStore


class GcpTarget(pulumi.ComponentResource):
    result: TargetResult

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        check_gcp_settings(settings)
        super().__init__("materialize:gcp:Target", name, None, opts)
        config = settings.gcp
        # check_gcp_settings guarantees both.
        assert config.project is not None and settings.region is not None
        region = settings.region
        child = pulumi.ResourceOptions(parent=self)

        provider = gcp.Provider(f"{name}-gcp", project=config.project, region=region, opts=child)
        # Before any GCP resource: a version the channel does not offer is refused here.
        check_gke_version(config, region, provider)
        ctx = GcpContext(
            provider=provider,
            project=config.project,
            region=region,
            prefix=config.name_prefix,
            labels=dict(sorted(settings.tags.items())),
            protect=settings.protect_data,
        )
        trigger_on = rollout_trigger_on(settings)
        apis = GcpApis(f"{name}-apis", ApisArgs(context=ctx, pubsub=trigger_on), opts=child)
        ctx = ctx.after(apis.enabled)

        network: NetworkRef = (
            GcpNetwork(f"{name}-network", NetworkArgs(context=ctx, settings=config), opts=child).ref
            if config.creates_network
            else existing_network(ctx, config)
        )
        identities = tuple(
            InstanceIdentity(namespace=instance.resolved_namespace, name=instance.name)
            for instance in settings.instances
        )
        postgres = CloudSqlPostgres(
            f"{name}-postgres",
            PostgresArgs(context=ctx, settings=config, network=network, instances=identities),
            opts=child,
        )
        store = GcsPersistStore(f"{name}-persist", PersistStoreArgs(context=ctx, settings=config), opts=child)
        cluster = GkeCluster(
            f"{name}-gke",
            ClusterArgs(
                context=ctx,
                settings=config,
                network=network,
                upgrade_notifications=trigger_on,
                conversion_webhook=settings.crd_version == "v1",
            ),
            opts=child,
        )

        # Swap is on unless the stack turns it off: every GKE node here has the disks for it.
        swap = settings.swap is not False
        layout = pool_layout(config, swap)
        pools = GkeNodePools(
            f"{name}-node-pools",
            NodePoolsArgs(context=ctx, settings=config, cluster=cluster, layout=layout, swap=swap),
            opts=child,
        )
        # Images from outside Google (Docker Hub, quay.io) come through Cloud NAT.
        system_ready: list[pulumi.Resource] = [pools.system, *network.egress_ready]
        materialize_ready: list[pulumi.Resource] = [pools.materialize]
        chart_values: dict[str, object] = {}
        if cluster.upgrade_topic is not None:
            trigger = NodeUpgradeTrigger(
                f"{name}-node-upgrade-trigger",
                NodeUpgradeTriggerArgs(
                    context=ctx,
                    cluster=cluster.cluster,
                    cluster_name=cluster.cluster_name,
                    topic=cluster.upgrade_topic,
                    watched_pool_names=(pools.materialize_name,),
                ),
                opts=child,
            )
            # The operator's chart values name the trigger's subscription.
            system_ready += trigger.ready
            chart_values = dict(trigger.operator_values)
        # cluster.local answered fresh during Materialize rollouts (cluster_dns.py);
        # the CoreDNS image comes from Docker Hub, through Cloud NAT.
        system_nodes = settings.node_placement.system or layout.system
        dns = ClusterDns(
            f"{name}-cluster-dns",
            ClusterDnsArgs(
                provider=cluster.provider,
                stock_deployments=GKE_STOCK_DNS,
                placement=system_nodes,
                depends_on=[pools.system, *network.egress_ready],
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
                    mode="gcp",
                    placement=layout.swap_nodes,
                    startup_taint=STARTUP_TAINT.key,
                    # The node pool's kernel configuration sets them already.
                    apply_sysctls=False,
                    depends_on=[pools.materialize, *network.egress_ready],
                ),
                opts=child,
            )
            materialize_ready += disks.ready

        platform = Platform(
            provider=cluster.provider,
            cloud_provider="gcp",
            region=region,
            materialize_nodes=settings.node_placement.materialize or layout.materialize,
            system_nodes=system_nodes,
            swap_enabled=swap,
            internal_load_balancer_annotations=INTERNAL["gcp"],
            public_load_balancer_annotations=PUBLIC["gcp"],
            controller_service_annotations=GKE_CONTROLLER_ANNOTATIONS,
            operator_values=chart_values,
            system_ready=tuple(system_ready),
            materialize_ready=tuple(materialize_ready),
            network=_cluster_network(postgres, trigger_on),
        )
        summary = {
            "project": config.project,
            "region": region,
            "cluster": cluster.cluster.name,
            "network": network.network,
            "postgres": {
                "instance": postgres.instance.name,
                "connectionName": postgres.instance.connection_name,
                "privateIp": postgres.instance.private_ip_address,
            },
            "bucket": store.bucket.name,
            "persistServiceAccount": store.service_account.email,
            "nodePools": {"system": pools.system.name, "materialize": pools.materialize.name},
            "natEgressIps": list(network.egress_ips),
        }
        self.result = TargetResult(
            platform=platform,
            metadata=PreparedMetadataStore("gcp", postgres.databases),
            blob=store,
            # The kubeconfig holds no credential, but stays a secret like every kubeconfig.
            outputs={"gcp": summary, "kubeconfig": cluster.kubeconfig},
        )
        self.register_outputs(summary)


def _cluster_network(postgres: CloudSqlPostgres, rollout_trigger: bool) -> ClusterNetwork:
    """Where pods' traffic goes on GKE, for NetworkPolicies (Dataplane V2 enforces them).

    The API server and the control plane's webhook calls: any address, as
    Materialize's own Terraform allows them (gcp/modules/operator/main.tf at
    187f61a: the API server's address "might change dynamically"); a private
    endpoint's /32 is not a documented source of the control plane's calls,
    and a wrong guess would cut the v1 CRD's conversion webhook off. The VPC
    firewall still admits 8001 only from the control plane's range (cluster.py).
    Cloud SQL has one private address. GCS (through Private Google Access)
    answers on Google's public ranges, which change: any address on 443. The
    node-upgrade rollout trigger authenticates through the GKE metadata server
    (169.254.169.254:80, and 169.254.169.252:988 after Dataplane V2's DNAT;
    the same Terraform file) and calls Pub/Sub and GKE's API on 443.
    """
    metadata_server = (
        NetworkEndpoint(NetworkPeer(cidrs=("169.254.169.254/32",)), ports=(80,)),
        NetworkEndpoint(NetworkPeer(cidrs=("169.254.169.252/32",)), ports=(988,)),
    )
    return ClusterNetwork(
        enforces_policies=True,
        api_server=NetworkEndpoint(NetworkPeer(cidrs=ANYWHERE), ports=(443,)),
        control_plane=None,
        metadata=NetworkEndpoint(
            NetworkPeer(cidrs=(postgres.instance.private_ip_address.apply(lambda ip: f"{ip}/32"),)), ports=(5432,)
        ),
        blob=NetworkEndpoint(NetworkPeer(cidrs=ANYWHERE), ports=(443,)),
        operator_egress=metadata_server if rollout_trigger else (),
    )
