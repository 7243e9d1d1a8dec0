"""What an instance's pods need beyond the policies the operator creates.

With the chart's `networkPolicies.internal` on, the operator creates in each
instance namespace (MaterializeInc/materialize src/orchestratord/src/controller/
materialize/global.rs, commit 6ec833a9373ce70a413bae729d35186815d011f4):
`allow-all-within-environment`, which isolates ingress and egress of every pod
labelled `materialize.cloud/mz-resource-id` (environmentd, clusterd, balancerd,
console) and lets them reach each other, and `allow-orchestratord` (environmentd
on 6876/6878 from the operator). `networkPolicies.egress` adds egress to the
chart's CIDRs; `networkPolicies.ingress` would open balancerd's 6875/6876 to the
chart's CIDRs for every instance alike, so the program leaves it off and opens
each instance's ports to that instance's own exposure here instead.

Added here: DNS for every Materialize pod; the API server for environmentd
(it creates clusterd); the metadata Postgres and the blob store for environmentd
and clusterd (they also work with the chart's egress CIDRs narrowed, and on
CNIs where an ipBlock never matches a pod, such as the local stores); and
balancerd's and the console's ports from where the exposure says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.contract import ClusterNetwork, NetworkPeer
from components.dataplane import exposure
from components.dataplane.exposure import ExposureType
from components.dataplane.network_policies import (
    IngressRule,
    Selector,
    egress_to,
    ingress_from,
    labels_selector,
    network_policy,
    requirement,
)

# Labels the operator puts on an instance's pods (transcribed, with the commits,
# in tests/harness/network_policy.py): every Materialize pod carries the
# resource id; balancerd's and the console's pods also `app: balancerd|console`.
RESOURCE_ID_LABEL = "materialize.cloud/mz-resource-id"
MATERIALIZE_PODS = Selector(match_expressions=[requirement(RESOURCE_ID_LABEL, "Exists")])
# `app: environmentd`, not `materialize.cloud/app`: the operator has set the latter
# to "environmentd" (src/orchestratord/src/controller/materialize/generation.rs at
# edc0c2f845d6550438a466ffb4d949a778603aba) and, in earlier releases, to the
# service name "mz<resourceId>-environmentd"; `app` is "environmentd" in both.
ENVIRONMENTD = labels_selector({"app": "environmentd"})
# environmentd and clusterd: every Materialize pod but balancerd's and the console's.
STORAGE_USERS = Selector(
    match_expressions=[
        requirement(RESOURCE_ID_LABEL, "Exists"),
        requirement("app", "NotIn", ["balancerd", "console"]),
    ]
)
BALANCERD = labels_selector({"app": "balancerd"})
CONSOLE = labels_selector({"app": "console"})
# balancerd's readiness endpoint, which cloud load balancers health-check.
BALANCERD_INTERNAL_HTTP_PORT = 8080
IN_CLUSTER = NetworkPeer(all_pods=True)


@dataclass(frozen=True)
class InstanceNetworkPoliciesArgs:
    provider: k8s.Provider
    namespace: str
    instance: str
    network: ClusterNetwork
    exposure: ExposureType
    allowed_cidrs: Sequence[str]


def exposure_sources(args: InstanceNetworkPoliciesArgs) -> list[NetworkPeer]:
    """Who may connect to balancerd and the console: in-cluster clients always
    (every LoadBalancer Service is a ClusterIP Service too), and for a load
    balancer its allowedCidrs (an internal one without them: its network's clients)."""
    if args.exposure == "clusterIP":
        return [IN_CLUSTER]
    clients = list(args.allowed_cidrs) or (list(args.network.internal_clients) if args.exposure == "internal" else [])
    return [IN_CLUSTER, NetworkPeer(cidrs=clients)] if clients else [IN_CLUSTER]


def app_ingress(args: InstanceNetworkPoliciesArgs, ports: Sequence[int], probed: Sequence[int]) -> list[IngressRule]:
    rules = [ingress_from(peer, ports) for peer in exposure_sources(args)]
    probes = list(args.network.load_balancer_probes)
    if args.exposure != "clusterIP" and probes:
        rules.append(ingress_from(NetworkPeer(cidrs=probes), probed))
    return rules


class InstanceNetworkPolicies(pulumi.ComponentResource):
    policies: list[pulumi.Resource]

    def __init__(
        self, name: str, args: InstanceNetworkPoliciesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("materialize:dataplane:InstanceNetworkPolicies", name, None, opts)
        network = args.network
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        labels = {"app.kubernetes.io/managed-by": "pulumi", "materialize.cloud/instance": args.instance}
        balancerd_ports = [exposure.SQL_PORT, exposure.HTTP_PORT]
        wanted: dict[str, dict[str, Any]] = {
            "dns": {"pod_selector": MATERIALIZE_PODS, "egress": [egress_to(network.dns)]},
            "api-server": {"pod_selector": ENVIRONMENTD, "egress": [egress_to(network.api_server)]},
            "metadata": {"pod_selector": STORAGE_USERS, "egress": [egress_to(network.metadata)]},
            "blob": {"pod_selector": STORAGE_USERS, "egress": [egress_to(network.blob)]},
            "balancerd-ingress": {
                "pod_selector": BALANCERD,
                "ingress": app_ingress(args, balancerd_ports, [*balancerd_ports, BALANCERD_INTERNAL_HTTP_PORT]),
            },
            "console-ingress": {
                "pod_selector": CONSOLE,
                "ingress": app_ingress(args, [exposure.CONSOLE_PORT], [exposure.CONSOLE_PORT]),
            },
        }
        self.policies = [
            network_policy(
                f"{name}-{purpose}",
                policy_name=f"{args.instance}-{purpose}",
                namespace=args.namespace,
                labels=labels,
                opts=child,
                **rules,
            )
            for purpose, rules in wanted.items()
        ]
        self.register_outputs({"policies": [f"{args.instance}-{purpose}" for purpose in wanted]})
