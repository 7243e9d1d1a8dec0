"""NetworkPolicy objects from the contract's peers and endpoints.

A policy written here always states its `policyTypes`: Kubernetes otherwise
infers them (Ingress always, Egress when egress rules exist), which is how the
operator chart's own egress-only policy ends up isolating ingress too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.contract import NetworkEndpoint, NetworkPeer

Selector = dict[str, Any]
Rule = dict[str, Any]

# Every namespace, or every pod of the namespaces a peer selects.
EVERYTHING: Selector = {}
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def labels_selector(labels: Mapping[str, str]) -> Selector:
    return {"matchLabels": dict(sorted(labels.items()))} if labels else {}


def peers(peer: NetworkPeer) -> list[dict[str, Any]]:
    """`peer` as the entries of a rule's `from` / `to` (never empty: an empty list admits everything)."""
    if peer.all_pods:
        return [{"namespaceSelector": EVERYTHING}]
    found: list[dict[str, Any]] = [{"ipBlock": {"cidr": cidr}} for cidr in peer.cidrs]
    for namespace in peer.namespaces:
        entry: dict[str, Any] = {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: namespace}}}
        if peer.pod_labels:
            entry["podSelector"] = labels_selector(peer.pod_labels)
        found.append(entry)
    if not found:
        raise ValueError(f"{peer} names nobody: a rule without peers would admit every peer")
    return found


def ports(numbers: Sequence[int | str], protocols: Sequence[str] = ("TCP",)) -> list[dict[str, Any]]:
    return [{"port": number, "protocol": protocol} for number in numbers for protocol in protocols]


def egress_to(endpoint: NetworkEndpoint) -> Rule:
    return {"to": peers(endpoint.peer), "ports": ports(endpoint.ports, endpoint.protocols)}


def ingress_from(peer: NetworkPeer | None, numbers: Sequence[int | str]) -> Rule:
    """Ingress on `numbers` (TCP) from `peer`; None: from any source."""
    rule: Rule = {"ports": ports(numbers)}
    if peer is not None:
        rule["from"] = peers(peer)
    return rule


def network_policy(
    name: str,
    *,
    policy_name: str,
    namespace: pulumi.Input[str],
    pod_selector: Selector,
    ingress: Sequence[Rule] = (),
    egress: Sequence[Rule] = (),
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> k8s.networking.v1.NetworkPolicy:
    """A policy that allows exactly `ingress` and `egress` to the pods `pod_selector` picks."""
    spec: dict[str, Any] = {
        "podSelector": pod_selector,
        "policyTypes": [kind for kind, rules in (("Ingress", ingress), ("Egress", egress)) if rules],
    }
    if ingress:
        spec["ingress"] = list(ingress)
    if egress:
        spec["egress"] = list(egress)
    return k8s.networking.v1.NetworkPolicy(
        name,
        metadata={"name": policy_name, "namespace": namespace, "labels": dict(labels)},
        spec=spec,
        opts=opts,
    )
