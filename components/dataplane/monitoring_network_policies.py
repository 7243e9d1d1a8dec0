"""NetworkPolicies of the observability stack (with `networkPolicies` on).

The operator's `allow-all-within-environment` policy isolates ingress to every
Materialize pod (instance_network_policies.py), so nothing outside the instance
can scrape it unless a policy says so. Here, per instance namespace: Prometheus'
pods may reach environmentd and clusterd on their metrics port (6878) and
balancerd on its own (8080), nothing else. And Prometheus itself may send only
to what it scrapes or writes to: DNS, the API server (pod discovery), those
ports, the operator's metrics port, its own namespace's exporters, the nodes'
kubelet and node-exporter ports (node addresses are not in the contract, so any
address), CoreDNS' metrics, and the remote-write endpoints' ports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.contract import ANYWHERE, CLUSTER_DNS, ClusterNetwork, NetworkEndpoint, NetworkPeer
from components.dataplane.instance_network_policies import BALANCERD, STORAGE_USERS
from components.dataplane.monitoring_values import (
    BALANCERD_METRICS_PORT,
    CLUSTERD_LABEL_PREFIX,
    CLUSTERD_METRICS_PORT,
    ENVIRONMENTD_METRICS_PORT,
    MONITORING_NAMESPACE,
    OPERATOR_METRICS_PORT,
    SCRAPER_LABELS,
)
from components.dataplane.network_policies import (
    EVERYTHING,
    EgressRule,
    egress_to,
    ingress_from,
    labels_selector,
    net,
    network_policy,
)

POLICY_LABELS = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "materialize-monitoring"}
SCRAPER = NetworkPeer(namespaces=(MONITORING_NAMESPACE,), pod_labels=SCRAPER_LABELS)
# What kube-prometheus-stack scrapes outside Materialize: kubelet/cAdvisor (10250) and
# node-exporter (9100, host network) on every node; CoreDNS' metrics port (9153).
KUBELET_PORT = 10250
NODE_EXPORTER_PORT = 9100
COREDNS_METRICS_PORT = 9153
# The labels the scrape jobs keep (monitoring_values.scrape_targets).
ENVIRONMENTD_PODS = {"app": "environmentd"}
CLUSTERD_PODS = {f"{CLUSTERD_LABEL_PREFIX}type": "cluster"}
BALANCERD_PODS = {"app": "balancerd"}


@dataclass(frozen=True)
class MonitoringNetworkPoliciesArgs:
    provider: k8s.Provider
    network: ClusterNetwork
    instance_namespaces: Sequence[str]
    operator_namespace: str
    operator_pod_labels: dict[str, str]
    # Ports of the remote-write endpoints (they may live at any address).
    remote_write_ports: Sequence[int] = ()
    # Namespace name -> its Namespace object, which the policies in it wait for
    # (a component's depends_on does not reach its children).
    namespace_objects: Mapping[str, pulumi.Resource] = field(default_factory=dict)


def materialize_scrape_ingress() -> dict[str, dict[str, Any]]:
    """Per instance namespace: which pods admit the scraper, on which port."""
    return {
        "metrics-environmentd-clusterd": {
            "pod_selector": STORAGE_USERS,
            "ingress": [ingress_from(SCRAPER, sorted({ENVIRONMENTD_METRICS_PORT, CLUSTERD_METRICS_PORT}))],
        },
        "metrics-balancerd": {"pod_selector": BALANCERD, "ingress": [ingress_from(SCRAPER, [BALANCERD_METRICS_PORT])]},
    }


def scraper_egress(args: MonitoringNetworkPoliciesArgs) -> list[EgressRule]:
    network = args.network
    instances = tuple(sorted(args.instance_namespaces))
    endpoints = [
        network.dns,
        network.api_server,
        # Each component on its own port only (the console also listens on 8080).
        NetworkEndpoint(
            NetworkPeer(namespaces=instances, pod_labels=ENVIRONMENTD_PODS), ports=(ENVIRONMENTD_METRICS_PORT,)
        ),
        NetworkEndpoint(NetworkPeer(namespaces=instances, pod_labels=CLUSTERD_PODS), ports=(CLUSTERD_METRICS_PORT,)),
        NetworkEndpoint(NetworkPeer(namespaces=instances, pod_labels=BALANCERD_PODS), ports=(BALANCERD_METRICS_PORT,)),
        NetworkEndpoint(
            NetworkPeer(namespaces=(args.operator_namespace,), pod_labels=args.operator_pod_labels),
            ports=(OPERATOR_METRICS_PORT,),
        ),
        NetworkEndpoint(NetworkPeer(cidrs=ANYWHERE), ports=(KUBELET_PORT, NODE_EXPORTER_PORT)),
        NetworkEndpoint(CLUSTER_DNS.peer, ports=(COREDNS_METRICS_PORT,)),
    ]
    if args.remote_write_ports:
        endpoints.append(NetworkEndpoint(NetworkPeer(cidrs=ANYWHERE), ports=sorted(set(args.remote_write_ports))))
    rules = [egress_to(endpoint) for endpoint in endpoints]
    # Its own namespace: kube-state-metrics, the operator, the config reloader, itself.
    rules.append(EgressRule(to=[net.NetworkPolicyPeerArgs(pod_selector=EVERYTHING)]))
    return rules


class MonitoringNetworkPolicies(pulumi.ComponentResource):
    policies: list[pulumi.Resource]

    def __init__(
        self, name: str, args: MonitoringNetworkPoliciesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("materialize:dataplane:MonitoringNetworkPolicies", name, None, opts)

        def child(namespace: str) -> pulumi.ResourceOptions:
            waits = [args.namespace_objects[namespace]] if namespace in args.namespace_objects else []
            return pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=waits)

        self.policies = []
        for namespace in sorted(args.instance_namespaces):
            for purpose, rules in materialize_scrape_ingress().items():
                self.policies.append(
                    network_policy(
                        f"{name}-{namespace}-{purpose}",
                        policy_name=purpose,
                        namespace=namespace,
                        labels=POLICY_LABELS,
                        opts=child(namespace),
                        **rules,
                    )
                )
        self.policies.append(
            network_policy(
                f"{name}-scraper-egress",
                policy_name="prometheus-egress",
                namespace=MONITORING_NAMESPACE,
                pod_selector=labels_selector(SCRAPER_LABELS),
                egress=scraper_egress(args),
                labels=POLICY_LABELS,
                opts=child(MONITORING_NAMESPACE),
            )
        )
        self.register_outputs({"policies": len(self.policies)})
