"""NetworkPolicy objects from the contract's peers and endpoints.

A policy written here always states its `policyTypes`: Kubernetes otherwise
infers them (Ingress always, Egress when egress rules exist), which is how the
operator chart's own egress-only policy ends up isolating ingress too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.contract import NetworkEndpoint, NetworkPeer

meta = k8s.meta.v1
net = k8s.networking.v1
Selector = meta.LabelSelectorArgs
IngressRule = net.NetworkPolicyIngressRuleArgs
EgressRule = net.NetworkPolicyEgressRuleArgs

# Every namespace, or every pod of the namespaces a peer selects.
EVERYTHING = meta.LabelSelectorArgs()
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def labels_selector(labels: Mapping[str, str]) -> Selector:
    return meta.LabelSelectorArgs(match_labels=dict(sorted(labels.items()))) if labels else EVERYTHING


def requirement(key: str, operator: str, values: Sequence[str] | None = None) -> meta.LabelSelectorRequirementArgs:
    return meta.LabelSelectorRequirementArgs(key=key, operator=operator, values=list(values) if values else None)


def peers(peer: NetworkPeer) -> list[net.NetworkPolicyPeerArgs]:
    """`peer` as the entries of a rule's `from` / `to` (never empty: an empty list admits everything)."""
    if peer.all_pods:
        return [net.NetworkPolicyPeerArgs(namespace_selector=EVERYTHING)]
    found = [net.NetworkPolicyPeerArgs(ip_block=net.IPBlockArgs(cidr=cidr)) for cidr in peer.cidrs]
    for namespace in peer.namespaces:
        found.append(
            net.NetworkPolicyPeerArgs(
                namespace_selector=labels_selector({NAMESPACE_NAME_LABEL: namespace}),
                pod_selector=labels_selector(peer.pod_labels) if peer.pod_labels else None,
            )
        )
    if not found:
        raise ValueError(f"{peer} names nobody: a rule without peers would admit every peer")
    return found


def ports(numbers: Sequence[int | str], protocols: Sequence[str] = ("TCP",)) -> list[net.NetworkPolicyPortArgs]:
    return [net.NetworkPolicyPortArgs(port=number, protocol=protocol) for number in numbers for protocol in protocols]


def egress_to(endpoint: NetworkEndpoint) -> EgressRule:
    return EgressRule(to=peers(endpoint.peer), ports=ports(endpoint.ports, endpoint.protocols))


def ingress_from(peer: NetworkPeer | None, numbers: Sequence[int | str]) -> IngressRule:
    """Ingress on `numbers` (TCP) from `peer`; None: from any source."""
    return IngressRule(ports=ports(numbers), from_=peers(peer) if peer is not None else None)


def network_policy(
    name: str,
    *,
    policy_name: str,
    namespace: pulumi.Input[str],
    pod_selector: Selector,
    ingress: Sequence[IngressRule] = (),
    egress: Sequence[EgressRule] = (),
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> k8s.networking.v1.NetworkPolicy:
    """A policy that allows exactly `ingress` and `egress` to the pods `pod_selector` picks."""
    return k8s.networking.v1.NetworkPolicy(
        name,
        metadata=meta.ObjectMetaArgs(name=policy_name, namespace=namespace, labels=dict(labels)),
        spec=net.NetworkPolicySpecArgs(
            pod_selector=pod_selector,
            policy_types=[kind for kind, rules in (("Ingress", ingress), ("Egress", egress)) if rules],
            ingress=list(ingress) or None,
            egress=list(egress) or None,
        ),
        opts=opts,
    )
