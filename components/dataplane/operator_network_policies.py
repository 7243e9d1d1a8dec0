"""What the operator's pods need beyond the chart's one NetworkPolicy.

The chart's `egress-to-environmentd` policy selects the operator pods and has
no `policyTypes`, so Kubernetes applies it to Ingress and Egress: on a cluster
that enforces policies the operator may then only reach environmentd on
6876/6878 (MaterializeInc/materialize misc/helm-charts/operator/templates/
networkpolicies.yaml, commit 942b3d3551313b77e0511d67f18682de07e3177f).
These policies add, for the same pods and nothing else: DNS, the Kubernetes
API server, the API server's calls to the v1 CRD's conversion webhook, and
scrapes of the metrics port. They exist before the chart is installed, so the
operator's first start already has them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.contract import ClusterNetwork
from components.dataplane.network_policies import egress_to, ingress_from, labels_selector, network_policy

POLICY_LABELS = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "materialize-operator"}


@dataclass(frozen=True)
class OperatorNetworkPoliciesArgs:
    provider: k8s.Provider
    namespace: pulumi.Input[str]
    # The operator pods' labels: the chart's selectorLabels, which its own policy selects too.
    pod_labels: dict[str, str]
    network: ClusterNetwork
    # The v1 CRD's conversion webhook listens only when the v1 CRD is installed.
    conversion_webhook: bool


class OperatorNetworkPolicies(pulumi.ComponentResource):
    policies: list[pulumi.Resource]

    def __init__(
        self, name: str, args: OperatorNetworkPoliciesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("materialize:dataplane:OperatorNetworkPolicies", name, None, opts)
        network = args.network
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        operator = labels_selector(args.pod_labels)
        wanted = {
            "dns": {"egress": [egress_to(network.dns)]},
            "api-server": {"egress": [egress_to(network.api_server)]},
            # Named ports: they follow the chart's Deployment if its numbers move.
            "metrics": {"ingress": [ingress_from(network.metrics_scrapers, ["metrics"])]},
        }
        if network.operator_egress:
            wanted["platform"] = {"egress": [egress_to(endpoint) for endpoint in network.operator_egress]}
        if args.conversion_webhook:
            # The API server is not a pod: its calls come from the control plane's addresses.
            wanted["conversion-webhook"] = {"ingress": [ingress_from(network.control_plane, ["webhook"])]}
        self.policies = [
            network_policy(
                f"{name}-{purpose}",
                policy_name=f"materialize-operator-{purpose}",
                namespace=args.namespace,
                pod_selector=operator,
                labels=POLICY_LABELS,
                opts=child,
                **rules,
            )
            for purpose, rules in wanted.items()
        ]
        self.register_outputs({"policies": [f"materialize-operator-{purpose}" for purpose in wanted]})
