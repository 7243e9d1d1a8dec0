"""What the cluster runs for itself once nodes exist: CoreDNS and metrics-server.

CoreDNS is an EKS add-on that only turns Active with nodes to run on, so it
comes after the node groups; it does not tolerate the Materialize nodes'
taint, so it lands on the system nodes. metrics-server is the upstream chart, pinned; it
serves `kubectl top` and the console's pod metrics (`podMetrics`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.helm_releases import RELEASE_POLICY
from components.settings import Placement
from components.targets.aws.cluster import Cluster, ClusterArgs
from components.targets.aws.pins import METRICS_SERVER_CHART, METRICS_SERVER_REPO, METRICS_SERVER_VERSION
from components.targets.cluster_dns import eks_coredns_configuration


@dataclass(frozen=True)
class ClusterAddonsArgs:
    cluster: Cluster
    cluster_args: ClusterArgs
    system_nodes: Placement
    # The system node group: CoreDNS and metrics-server run there (neither
    # tolerates the Materialize nodes' taint), so they need no other group.
    node_group: pulumi.Resource


class ClusterAddons(pulumi.ComponentResource):
    # What workloads need of these: cluster DNS.
    dns: list[pulumi.Resource]
    metrics_server: k8s.helm.v3.Release

    def __init__(self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:aws:ClusterAddons", name, None, opts)
        cluster = args.cluster
        coredns = cluster.addon(
            name,
            args.cluster_args,
            "coredns",
            depends_on=[args.node_group],
            # cluster.local with TTL 0 and no cache, through the add-on's own Corefile setting.
            configuration=eks_coredns_configuration(),
            parent=self,
        )
        metrics_server = k8s.helm.v3.Release(
            f"{name}-metrics-server",
            name="metrics-server",
            chart=METRICS_SERVER_CHART,
            version=METRICS_SERVER_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=METRICS_SERVER_REPO),
            namespace="kube-system",
            values={"replicas": 2, **args.system_nodes.helm_values()},
            **RELEASE_POLICY,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=cluster.provider,
                depends_on=[args.node_group, coredns],
                # Gone with the cluster: nothing to clean up one object at a time.
                deleted_with=cluster.eks,
            ),
        )
        self.dns = [coredns]
        self.metrics_server = metrics_server
        self.register_outputs({})
