"""The NetworkPolicy evaluator itself, on small hand cases, one per Kubernetes semantic it models."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness.network_policy import Address, Pod, allowed, isolated, policy_types, selects

WEB = Pod("shop", {"app": "web"}, ip="10.244.1.5", named_ports={"http": (8080, "TCP"), "dns": (53, "UDP")})
CLIENT = Pod("shop", {"app": "client"}, ip="10.244.1.6")
OUTSIDER = Pod("elsewhere", {"app": "client"}, ip="10.244.2.7", namespace_labels={"team": "blue"})
INTERNET = Address("203.0.113.9")


def policy(spec: dict[str, Any], namespace: str = "shop") -> dict[str, Any]:
    return {"name": "p", "namespace": namespace, "spec": spec}


def ingress_to_web(*rules: dict[str, Any]) -> dict[str, Any]:
    return policy({"podSelector": {"matchLabels": {"app": "web"}}, "ingress": list(rules)})


def test_no_policy_admits_everything() -> None:
    assert allowed([], OUTSIDER, WEB, 1234)
    assert allowed([], WEB, INTERNET, 443)


def test_policy_types_default_to_ingress_and_egress_only_with_egress_rules() -> None:
    assert policy_types({"podSelector": {}}) == ["Ingress"]
    assert policy_types({"podSelector": {}, "egress": []}) == ["Ingress", "Egress"]
    assert policy_types({"podSelector": {}, "policyTypes": ["Egress"], "ingress": []}) == ["Egress"]


def test_isolation_is_per_policy_type_and_only_for_selected_pods() -> None:
    egress_only = [policy({"podSelector": {}, "policyTypes": ["Egress"]})]
    assert isolated(egress_only, WEB, "Egress") and not isolated(egress_only, WEB, "Ingress")
    assert allowed(egress_only, OUTSIDER, WEB, 80)  # ingress to web still open
    assert not allowed(egress_only, WEB, OUTSIDER, 80)
    assert not isolated(egress_only, OUTSIDER, "Egress")  # other namespace


def test_empty_rule_list_admits_nothing_but_an_empty_rule_admits_everything() -> None:
    assert not allowed([ingress_to_web()], CLIENT, WEB, 8080)
    assert allowed([ingress_to_web({})], OUTSIDER, WEB, 9999)
    assert allowed([ingress_to_web({"from": [], "ports": []})], INTERNET, WEB, 1)


def test_policies_are_additive() -> None:
    deny = ingress_to_web()
    allow = ingress_to_web({"from": [{"podSelector": {"matchLabels": {"app": "client"}}}]})
    assert allowed([deny, allow], CLIENT, WEB, 8080)
    assert not allowed([deny, allow], OUTSIDER, WEB, 8080)


def test_pod_selector_alone_is_the_policy_namespace() -> None:
    rules = [ingress_to_web({"from": [{"podSelector": {}}]})]
    assert allowed(rules, CLIENT, WEB, 80)
    assert not allowed(rules, OUTSIDER, WEB, 80)


def test_namespace_and_pod_selector_in_one_peer_are_and_in_two_peers_or() -> None:
    both = {"namespaceSelector": {"matchLabels": {"team": "blue"}}, "podSelector": {"matchLabels": {"app": "web"}}}
    assert not allowed([ingress_to_web({"from": [both]})], OUTSIDER, WEB, 80)  # blue but not app=web
    assert allowed(
        [ingress_to_web({"from": [both]})], Pod("elsewhere", {"app": "web"}, namespace_labels={"team": "blue"}), WEB, 80
    )
    either = [{"namespaceSelector": both["namespaceSelector"]}, {"podSelector": both["podSelector"]}]
    assert allowed([ingress_to_web({"from": either})], OUTSIDER, WEB, 80)


def test_namespace_selector_sees_the_automatic_name_label() -> None:
    by_name = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "elsewhere"}}}
    assert allowed([ingress_to_web({"from": [by_name]})], OUTSIDER, WEB, 80)
    assert not allowed([ingress_to_web({"from": [by_name]})], CLIENT, WEB, 80)


@pytest.mark.parametrize(
    ("expression", "labels", "expected"),
    [
        ({"key": "app", "operator": "In", "values": ["web", "api"]}, {"app": "web"}, True),
        ({"key": "app", "operator": "In", "values": ["api"]}, {"app": "web"}, False),
        ({"key": "app", "operator": "In", "values": ["api"]}, {}, False),
        ({"key": "app", "operator": "NotIn", "values": ["web"]}, {"app": "web"}, False),
        ({"key": "app", "operator": "NotIn", "values": ["web"]}, {}, True),
        ({"key": "app", "operator": "Exists"}, {"app": "x"}, True),
        ({"key": "app", "operator": "Exists"}, {}, False),
        ({"key": "app", "operator": "DoesNotExist"}, {"app": "x"}, False),
        ({"key": "app", "operator": "DoesNotExist"}, {}, True),
    ],
)
def test_match_expressions(expression: dict[str, Any], labels: dict[str, str], expected: bool) -> None:
    assert selects({"matchExpressions": [expression]}, labels) is expected


def test_match_labels_and_expressions_are_and() -> None:
    selector = {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "Exists"}]}
    assert not selects(selector, {"app": "web"})
    assert selects(selector, {"app": "web", "tier": "front"})


def test_numeric_ports_protocol_defaults_to_tcp() -> None:
    rules = [ingress_to_web({"ports": [{"port": 8080}]})]
    assert allowed(rules, CLIENT, WEB, 8080)
    assert not allowed(rules, CLIENT, WEB, 8080, "UDP")
    assert not allowed(rules, CLIENT, WEB, 8081)


def test_named_ports_resolve_against_the_destination_pod() -> None:
    assert allowed([ingress_to_web({"ports": [{"port": "http"}]})], CLIENT, WEB, 8080)
    assert not allowed([ingress_to_web({"ports": [{"port": "http"}]})], CLIENT, WEB, 80)
    assert not allowed([ingress_to_web({"ports": [{"port": "missing"}]})], CLIENT, WEB, 8080)
    # The name must exist for the entry's protocol (default TCP).
    assert not allowed([ingress_to_web({"ports": [{"port": "dns"}]})], CLIENT, WEB, 53, "UDP")
    assert allowed([ingress_to_web({"ports": [{"port": "dns", "protocol": "UDP"}]})], CLIENT, WEB, 53, "UDP")


def test_end_port_is_an_inclusive_range_and_absent_port_is_every_port_of_the_protocol() -> None:
    ranged = [ingress_to_web({"ports": [{"port": 32000, "endPort": 32768}]})]
    assert allowed(ranged, CLIENT, WEB, 32000) and allowed(ranged, CLIENT, WEB, 32768)
    assert not allowed(ranged, CLIENT, WEB, 32769) and not allowed(ranged, CLIENT, WEB, 31999)
    udp_any = [ingress_to_web({"ports": [{"protocol": "UDP"}]})]
    assert allowed(udp_any, CLIENT, WEB, 5353, "UDP")
    assert not allowed(udp_any, CLIENT, WEB, 5353)


def test_ip_block_with_except() -> None:
    block = {"ipBlock": {"cidr": "203.0.113.0/24", "except": ["203.0.113.8/30"]}}
    egress = [policy({"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [block]}]})]
    assert allowed(egress, WEB, Address("203.0.113.200"), 443)
    assert not allowed(egress, WEB, INTERNET, 443)  # .9 is in the except range
    assert not allowed(egress, WEB, Address("198.51.100.1"), 443)
    ingress = [ingress_to_web({"from": [block]})]
    assert allowed(ingress, Address("203.0.113.1"), WEB, 80)
    assert not allowed(ingress, CLIENT, WEB, 80)


def test_both_ends_must_admit() -> None:
    egress_to_web = policy(
        {
            "podSelector": {"matchLabels": {"app": "client"}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 8080}]}],
        }
    )
    web_closed = ingress_to_web()
    assert allowed([egress_to_web], CLIENT, WEB, 8080)
    assert not allowed([egress_to_web], CLIENT, WEB, 9090)
    assert not allowed([egress_to_web, web_closed], CLIENT, WEB, 8080)
