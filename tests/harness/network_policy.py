"""A NetworkPolicy evaluator with the semantics of Kubernetes networking.k8s.io/v1.

Semantics (https://kubernetes.io/docs/concepts/services-networking/network-policies/ and the API reference
https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/):
- A pod is isolated for a direction when any policy in its namespace selects it and has that policy type;
  policies are additive, so an isolated pod admits what the union of those policies' rules allows.
- `policyTypes` absent: Ingress always, Egress only if the spec has an `egress` section.
- A connection needs the source's egress AND the destination's ingress to admit it.
- A rule with `from`/`to` absent or empty matches every peer; `ports` absent or empty matches every port.
  An `ingress`/`egress` list that is absent or empty admits nothing (the pod is only isolated).
- A peer with namespaceSelector and podSelector matches pods selected by both (AND); podSelector alone is
  the policy's own namespace; namespaceSelector alone is every pod of the selected namespaces.
- ipBlock matches addresses inside `cidr` and outside every `except`.
- A port entry: protocol defaults to TCP; `port` absent means every port of that protocol; a named port is
  resolved against the destination pod's container ports; `endPort` makes the range port..endPort.
Endpoints outside the cluster (an API server address, a database) are `Address`es: no policy selects them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

Policy = dict[str, Any]  # {"namespace": ..., "name": ..., "spec": NetworkPolicySpec as plain dict}


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str]
    ip: str = "10.244.0.10"
    # Container port name -> (port, protocol), for named ports.
    named_ports: dict[str, tuple[int, str]] = field(default_factory=dict)
    namespace_labels: dict[str, str] = field(default_factory=dict)

    def all_namespace_labels(self) -> dict[str, str]:
        # The API server sets kubernetes.io/metadata.name on every namespace (Kubernetes >= 1.21).
        return {**self.namespace_labels, NAMESPACE_NAME_LABEL: self.namespace}


@dataclass(frozen=True)
class Address:
    """An endpoint no NetworkPolicy selects (outside the cluster, or a host address)."""

    ip: str


Endpoint = Pod | Address


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A LabelSelector; an empty selector selects everything."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        if operator == "In":
            ok = present and labels[key] in values
        elif operator == "NotIn":
            ok = not present or labels[key] not in values
        elif operator == "Exists":
            ok = present
        elif operator == "DoesNotExist":
            ok = not present
        else:
            raise ValueError(f"unknown selector operator {operator!r}")
        if not ok:
            return False
    return True


def policy_types(spec: dict[str, Any]) -> list[str]:
    if spec.get("policyTypes"):
        return list(spec["policyTypes"])
    return ["Ingress", "Egress"] if "egress" in spec else ["Ingress"]


def _selecting(policies: list[Policy], pod: Pod, direction: str) -> list[Policy]:
    return [
        p
        for p in policies
        if p["namespace"] == pod.namespace
        and direction in policy_types(p["spec"])
        and selects(p["spec"].get("podSelector"), pod.labels)
    ]


def isolated(policies: list[Policy], pod: Pod, direction: str) -> bool:
    return bool(_selecting(policies, pod, direction))


def peer_matches(peer: dict[str, Any], endpoint: Endpoint, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        address = ipaddress.ip_address(endpoint.ip)
        return address in ipaddress.ip_network(block["cidr"], strict=False) and not any(
            address in ipaddress.ip_network(excluded, strict=False) for excluded in block.get("except") or []
        )
    if not isinstance(endpoint, Pod):
        return False  # selectors only ever name pods
    if "namespaceSelector" in peer:
        namespace_ok = selects(peer["namespaceSelector"], endpoint.all_namespace_labels())
    else:
        namespace_ok = endpoint.namespace == policy_namespace
    return namespace_ok and selects(peer.get("podSelector"), endpoint.labels)


def port_matches(rule: dict[str, Any], destination: Endpoint, port: int, protocol: str) -> bool:
    entries = rule.get("ports") or []
    if not entries:
        return True
    for entry in entries:
        entry_protocol = entry.get("protocol") or "TCP"
        number = entry.get("port")
        if isinstance(number, str):
            named = destination.named_ports.get(number) if isinstance(destination, Pod) else None
            if named is None or named[1] != entry_protocol:
                continue  # a name the destination does not declare (for that protocol) matches nothing
            number = named[0]
        if entry_protocol != protocol:
            continue
        if number is None:
            return True
        if int(number) <= port <= int(entry.get("endPort") or number):
            return True
    return False


def _rules_admit(
    policies: list[Policy], direction: str, owner: Pod, peer: Endpoint, destination: Endpoint, port: int, protocol: str
) -> bool:
    """Whether a policy selecting `owner` for `direction` has a rule admitting `peer` on the port."""
    section, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    for policy in _selecting(policies, owner, direction):
        for rule in policy["spec"].get(section) or []:
            peers = rule.get(peers_key) or []
            if not port_matches(rule, destination, port, protocol):
                continue
            if not peers or any(peer_matches(p, peer, policy["namespace"]) for p in peers):
                return True
    return False


def allowed(policies: list[Policy], source: Endpoint, destination: Endpoint, port: int, protocol: str = "TCP") -> bool:
    """Whether `source` may open a connection to `destination` on port/protocol.

    Not modelled: the API reference's exception that a pod's own node may always reach it.
    """
    egress_ok = (
        not isinstance(source, Pod)
        or not isolated(policies, source, "Egress")
        or _rules_admit(policies, "Egress", source, destination, destination, port, protocol)
    )
    ingress_ok = (
        not isinstance(destination, Pod)
        or not isolated(policies, destination, "Ingress")
        or _rules_admit(policies, "Ingress", destination, source, destination, port, protocol)
    )
    return egress_ok and ingress_ok


def within_environment(namespace: str, resource_id: str) -> Policy:
    """The operator's run-time `allow-all-within-environment` policy, as data.

    Transcribed from create_environmentd_network_policies in
    MaterializeInc/materialize src/orchestratord/src/controller/materialize/global.rs
    (commit 1be70bf08d2efd2cca20632ab26dbe8e9fa613f0), created when the chart's
    networkPolicies.internal is on: every pod labelled with the instance's
    materialize.cloud/mz-resource-id is isolated both ways and may talk to its siblings only.
    The operator names it with the instance's name prefix; the name does not change evaluation.
    """
    same_environment = {"matchLabels": {"materialize.cloud/mz-resource-id": resource_id}}
    return {
        "name": "allow-all-within-environment",
        "namespace": namespace,
        "spec": {
            "podSelector": same_environment,
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"podSelector": same_environment}]}],
            "egress": [{"to": [{"podSelector": same_environment}]}],
        },
    }


def registered_policies(resources: Any) -> list[Policy]:
    """The NetworkPolicies of a mock graph (`Evaluation.of_type(NETWORK_POLICY)`) as evaluator input."""
    return [
        {"name": r.inputs["metadata"]["name"], "namespace": r.inputs["metadata"]["namespace"], "spec": r.inputs["spec"]}
        for r in resources
    ]


NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
