"""NetworkPolicies of log collection (with `networkPolicies` on).

The collector (Alloy) reads log files from its node's disk and only sends: it may
reach DNS, the API server (pod discovery), Loki's push port in the monitoring
namespace, and the export endpoints' ports, nothing else. Loki admits only the
monitoring namespace's pods (the collector and Grafana; Loki itself joins its own
memberlist ring and compactor over gRPC), on its HTTP, gRPC and memberlist ports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.contract import ANYWHERE, ClusterNetwork, NetworkEndpoint, NetworkPeer
from components.dataplane.logging_values import (
    COLLECTOR_LABELS,
    LOKI_GRPC_PORT,
    LOKI_HTTP_PORT,
    LOKI_MEMBERLIST_PORT,
    LOKI_POD_LABELS,
)
from components.dataplane.monitoring_values import MONITORING_NAMESPACE
from components.dataplane.network_policies import (
    EgressRule,
    IngressRule,
    egress_to,
    ingress_from,
    labels_selector,
    network_policy,
)

POLICY_LABELS = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "materialize-monitoring"}
LOKI = NetworkEndpoint(NetworkPeer(namespaces=(MONITORING_NAMESPACE,), pod_labels=LOKI_POD_LABELS), (LOKI_HTTP_PORT,))


@dataclass(frozen=True)
class LoggingNetworkPoliciesArgs:
    provider: k8s.Provider
    network: ClusterNetwork
    loki: bool
    # Ports of the export endpoints (they may live at any address).
    export_ports: Sequence[int] = ()
    # The monitoring Namespace, which the policies in it wait for.
    namespace: pulumi.Resource | None = None


def collector_egress(network: ClusterNetwork, loki: bool, export_ports: Sequence[int]) -> list[EgressRule]:
    endpoints = [network.dns, network.api_server]
    if loki:
        endpoints.append(LOKI)
    if export_ports:
        endpoints.append(NetworkEndpoint(NetworkPeer(cidrs=ANYWHERE), ports=sorted(set(export_ports))))
    return [egress_to(endpoint) for endpoint in endpoints]


def loki_ingress() -> list[IngressRule]:
    return [
        ingress_from(
            NetworkPeer(namespaces=(MONITORING_NAMESPACE,)), [LOKI_HTTP_PORT, LOKI_GRPC_PORT, LOKI_MEMBERLIST_PORT]
        )
    ]


class LoggingNetworkPolicies(pulumi.ComponentResource):
    policies: list[pulumi.Resource]

    def __init__(self, name: str, args: LoggingNetworkPoliciesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:dataplane:LoggingNetworkPolicies", name, None, opts)
        child = pulumi.ResourceOptions(
            parent=self, provider=args.provider, depends_on=[args.namespace] if args.namespace else []
        )
        self.policies = [
            network_policy(
                f"{name}-collector-egress",
                policy_name="log-collector-egress",
                namespace=MONITORING_NAMESPACE,
                pod_selector=labels_selector(COLLECTOR_LABELS),
                egress=collector_egress(args.network, args.loki, args.export_ports),
                labels=POLICY_LABELS,
                opts=child,
            )
        ]
        if args.loki:
            self.policies.append(
                network_policy(
                    f"{name}-loki-ingress",
                    policy_name="loki-ingress",
                    namespace=MONITORING_NAMESPACE,
                    pod_selector=labels_selector(LOKI_POD_LABELS),
                    ingress=loki_ingress(),
                    labels=POLICY_LABELS,
                    opts=child,
                )
            )
        self.register_outputs({"policies": len(self.policies)})
