"""The GKE cluster: regional, private nodes, Workload Identity, Dataplane V2,
and the explicit Kubernetes provider every Kubernetes object goes through.

Node pools are separate resources (node_pools.py). GKE always creates a
default pool with a new cluster; it is removed right away, and the node
settings given for it only matter for those first minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components.settings.gcp import GcpSettings, rfc3339
from components.targets.gcp.context import GcpContext
from components.targets.gcp.kubeconfig import gke_kubeconfig
from components.targets.gcp.network import NetworkRef
from components.targets.gcp.node_upgrades import topic_name

# Broad scope on purpose: what nodes may do is decided by their service
# account's IAM roles, as Google recommends, not by legacy access scopes.
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
# Logging, monitoring and the node bootstrap: the least a GKE node needs.
NODE_ROLE = "roles/container.defaultNodeServiceAccount"
# Where Google's load balancer health checks come from: backend-service
# based passthrough load balancers, and target-pool based external ones.
HEALTH_CHECK_RANGES = ("35.191.0.0/16", "130.211.0.0/22", "209.85.152.0/22", "209.85.204.0/22")
# kube-proxy's health port (externalTrafficPolicy Cluster) and the NodePort
# range GKE picks a Service's healthCheckNodePort from (policy Local).
HEALTH_CHECK_PORTS = ("10256", "30000-32767")
# The operator's conversion webhook for the v1 CRD (the chart's `webhook` port).
CONVERSION_WEBHOOK_PORT = "8001"


@dataclass(frozen=True)
class ClusterArgs:
    context: GcpContext
    settings: GcpSettings
    network: NetworkRef
    # Publish node upgrade notifications for the operator's rollout trigger.
    upgrade_notifications: bool
    # The v1 CRD is installed: the control plane calls the operator's webhook.
    conversion_webhook: bool = False


def maintenance_policy(settings: GcpSettings) -> gcp.container.ClusterMaintenancePolicyArgs | None:
    window, exclusions = settings.maintenance_window, settings.maintenance_exclusions
    if window is None and not exclusions:
        return None
    return gcp.container.ClusterMaintenancePolicyArgs(
        recurring_window=(
            gcp.container.ClusterMaintenancePolicyRecurringWindowArgs(
                start_time=rfc3339(window.start), end_time=rfc3339(window.end), recurrence=window.recurrence
            )
            if window is not None
            else None
        ),
        maintenance_exclusions=[
            gcp.container.ClusterMaintenancePolicyMaintenanceExclusionArgs(
                exclusion_name=exclusion.name,
                start_time=rfc3339(exclusion.start),
                end_time=rfc3339(exclusion.end),
                exclusion_options=gcp.container.ClusterMaintenancePolicyMaintenanceExclusionExclusionOptionsArgs(
                    scope=exclusion.scope
                ),
            )
            for exclusion in exclusions
        ]
        or None,
    )


class GkeCluster(pulumi.ComponentResource):
    cluster: gcp.container.Cluster
    node_service_account: gcp.serviceaccount.Account
    # The node account's project role: pools wait for it.
    node_role: gcp.projects.IAMMember
    # Where GKE publishes its upgrade events, with the rollout trigger on.
    upgrade_topic: gcp.pubsub.Topic | None
    provider: k8s.Provider
    kubeconfig: pulumi.Output[str]  # a secret
    cluster_name: str
    # Where the control plane's calls to nodes and pods come from.
    control_plane_cidr: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:gcp:Cluster", name, None, opts)
        ctx, settings, network = args.context, args.settings, args.network
        self.cluster_name = ctx.name("gke")

        # Nodes get their own account instead of the project's default compute
        # account, which usually holds Editor on the whole project.
        self.node_service_account = gcp.serviceaccount.Account(
            f"{name}-node-account",
            account_id=ctx.name("gke-nodes"),
            project=ctx.project,
            display_name=f"GKE nodes of {self.cluster_name}",
            opts=ctx.options(self),
        )
        self.node_role = gcp.projects.IAMMember(
            f"{name}-node-role",
            project=ctx.project,
            role=NODE_ROLE,
            member=self.node_service_account.member,
            opts=ctx.options(self),
        )

        self.upgrade_topic = (
            gcp.pubsub.Topic(
                f"{name}-upgrade-notifications",
                name=topic_name(ctx),
                project=ctx.project,
                labels=dict(ctx.labels),
                opts=ctx.options(self),
            )
            if args.upgrade_notifications
            else None
        )
        notifications = (
            gcp.container.ClusterNotificationConfigArgs(
                pubsub=gcp.container.ClusterNotificationConfigPubsubArgs(
                    enabled=True,
                    topic=self.upgrade_topic.id,
                    filter=gcp.container.ClusterNotificationConfigPubsubFilterArgs(event_types=["UPGRADE_EVENT"]),
                )
            )
            if self.upgrade_topic is not None
            else None
        )

        shielded = gcp.container.ClusterNodeConfigShieldedInstanceConfigArgs(
            enable_secure_boot=True, enable_integrity_monitoring=True
        )
        self.cluster = gcp.container.Cluster(
            f"{name}-cluster",
            name=self.cluster_name,
            project=ctx.project,
            # A region, not a zone: the control plane is replicated across zones.
            location=ctx.region,
            node_locations=list(settings.zones) or None,
            network=network.network,
            subnetwork=network.subnetwork,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name=network.pods_range,
                services_secondary_range_name=network.services_range,
            ),
            remove_default_node_pool=True,
            initial_node_count=1,
            node_config=gcp.container.ClusterNodeConfigArgs(
                service_account=self.node_service_account.email,
                oauth_scopes=[CLOUD_PLATFORM_SCOPE],
                shielded_instance_config=shielded,
                workload_metadata_config=gcp.container.ClusterNodeConfigWorkloadMetadataConfigArgs(mode="GKE_METADATA"),
                resource_labels=dict(ctx.labels),
            ),
            release_channel=gcp.container.ClusterReleaseChannelArgs(channel=settings.release_channel),
            min_master_version=settings.kubernetes_version,
            workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
                workload_pool=f"{ctx.project}.svc.id.goog"
            ),
            # Nodes have no public address; the API endpoint stays reachable
            # from the allowlist below (that is where `pulumi up` runs).
            private_cluster_config=gcp.container.ClusterPrivateClusterConfigArgs(
                enable_private_nodes=True, enable_private_endpoint=False
            ),
            master_authorized_networks_config=gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
                cidr_blocks=[
                    gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
                        cidr_block=cidr, display_name=f"allowed-{index}"
                    )
                    for index, cidr in enumerate(settings.api_allowed_cidrs)
                ],
                # Not every Compute Engine address in the world: only the list.
                gcp_public_cidrs_access_enabled=False,
            ),
            # Dataplane V2 enforces NetworkPolicies (the operator installs some).
            datapath_provider="ADVANCED_DATAPATH",
            # Internal passthrough load balancers send traffic only to nodes
            # that run a backend pod, through GCE_VM_IP NEGs, instead of to
            # every node; needed past 250 nodes. Decided at creation: GKE can
            # turn it on for an existing cluster but never off again.
            enable_l4_ilb_subsetting=True,
            # NodeLocal DNSCache: on Dataplane V2 the addon is the only node-local DNS
            # cache that can intercept kube-dns traffic (Materialize's gcp/modules/gke at
            # 187f61a turns it on in its simple example for that reason). Its cache
            # keeps even TTL-0 cluster records up to 5s (CoreDNS cache's minimum TTL).
            addons_config=gcp.container.ClusterAddonsConfigArgs(
                dns_cache_config=gcp.container.ClusterAddonsConfigDnsCacheConfigArgs(
                    enabled=settings.node_local_dns_cache
                )
            ),
            notification_config=notifications,
            maintenance_policy=maintenance_policy(settings),
            enable_shielded_nodes=True,
            deletion_protection=ctx.protect,
            resource_labels=dict(ctx.labels),
            opts=ctx.options(
                self,
                pulumi.ResourceOptions(
                    depends_on=[self.node_role],
                    # The default pool's settings are gone with the pool; what the
                    # API reports there afterwards must not replace the cluster.
                    # Toggling NodeLocal DNSCache makes GKE recreate every node pool
                    # (Materialize's gcp/modules/gke/variables.tf enable_node_local_dns,
                    # 187f61a), evicting Materialize: only a new cluster takes the setting.
                    ignore_changes=["nodeConfig", "addonsConfig.dnsCacheConfig"],
                ),
            ),
        )

        gcp.compute.Firewall(
            f"{name}-health-checks",
            name=ctx.name("lb-health-checks"),
            # A Shared VPC's firewall rules live in its host project.
            project=network.project,
            network=network.network,
            direction="INGRESS",
            source_ranges=list(HEALTH_CHECK_RANGES),
            target_service_accounts=[self.node_service_account.email],
            allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=list(HEALTH_CHECK_PORTS))],
            description="Google load balancer health checks to the nodes of the Materialize load balancers",
            opts=ctx.options(self),
        )

        self.control_plane_cidr = self.cluster.private_cluster_config.apply(_control_plane_cidr)
        if args.conversion_webhook:
            # Private nodes admit the control plane on 443 and 10250 only
            # (GKE's own firewall rule); the API server calls the conversion
            # webhook on the operator pod's port, straight to the pod.
            gcp.compute.Firewall(
                f"{name}-conversion-webhook",
                name=ctx.name("conversion-webhook"),
                # A Shared VPC's firewall rules live in its host project.
                project=network.project,
                network=network.network,
                direction="INGRESS",
                source_ranges=[self.control_plane_cidr],
                target_service_accounts=[self.node_service_account.email],
                allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=[CONVERSION_WEBHOOK_PORT])],
                description="GKE control plane to the Materialize operator's conversion webhook (v1 CRD)",
                opts=ctx.options(self),
            )

        context_name = f"gke_{ctx.project}_{ctx.region}_{self.cluster_name}"
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.cluster.endpoint, self.cluster.master_auth.cluster_ca_certificate).apply(
                lambda parts: gke_kubeconfig(context_name, parts[0], parts[1])
            )
        )
        self.provider = k8s.Provider(
            f"{name}-kubernetes",
            kubeconfig=self.kubeconfig,
            # The cluster is its name: a new endpoint or certificate updates the
            # provider instead of replacing every Kubernetes object.
            cluster_identifier=f"gke/{ctx.project}/{ctx.region}/{self.cluster_name}",
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"cluster": self.cluster.name, "endpoint": self.cluster.endpoint})


def _control_plane_cidr(config: gcp.container.outputs.ClusterPrivateClusterConfig | None) -> str:
    """The control plane's range: a VPC-peered cluster's /28, else (Private
    Service Connect) its private endpoint's one address in the node subnet."""
    if config is None or not (config.master_ipv4_cidr_block or config.private_endpoint):
        raise ValueError("the GKE cluster reports neither a control-plane range nor a private endpoint")
    if config.master_ipv4_cidr_block:
        return config.master_ipv4_cidr_block
    return f"{config.private_endpoint}/32"
