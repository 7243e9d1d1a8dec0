"""Targets turn NetworkPolicy enforcement on where it is off, and open what the operator's webhook needs.

(Issue 12's target part; what every stack's policies let through is checked
in test_network_reachability.py.)
"""

from __future__ import annotations

import json

import pytest

from tests.harness.stack import evaluate, example_stack

NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
ADDON = "aws:eks/addon:Addon"
FIREWALL = "gcp:compute/firewall:Firewall"
RELEASE = "kubernetes:helm.sh/v3:Release"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.mark.parametrize("on", [True, False])
def test_the_vpc_cni_enforces_policies_exactly_when_they_are_on(on: bool) -> None:
    evaluation = evaluate(example_stack("aws", networkPolicies=on))
    cni = [r for r in evaluation.of_type(ADDON) if r.inputs["addonName"] == "vpc-cni"]
    assert len(cni) == 1
    assert json.loads(cni[0].inputs["configurationValues"]) == {"enableNetworkPolicy": "true" if on else "false"}


@pytest.mark.parametrize("crd_version", ["v1", "v1alpha1"])
def test_gke_opens_the_webhook_port_from_the_control_plane_only_with_the_v1_crd(crd_version: str) -> None:
    evaluation = evaluate(example_stack("gcp", crdVersion=crd_version))
    webhook = [r for r in evaluation.of_type(FIREWALL) if r.name.endswith("conversion-webhook")]
    if crd_version == "v1alpha1":
        assert webhook == []
        return
    (rule,) = webhook
    assert rule.inputs["direction"] == "INGRESS"
    assert rule.inputs["allows"] == [{"protocol": "tcp", "ports": ["8001"]}]
    # The control plane's range (master_ipv4_cidr_block), or its private endpoint: never the world.
    (source,) = rule.inputs["sourceRanges"]
    assert source != "0.0.0.0/0" and int(source.rsplit("/", 1)[1]) >= 28


@pytest.mark.parametrize("stack", ["byo", "local", "aws", "gcp", "azure"])
def test_policies_exist_before_the_operator_and_not_at_all_when_turned_off(stack: str) -> None:
    on = evaluate(example_stack(stack))
    operator_policies = [
        r for r in on.of_type(NETWORK_POLICY) if r.inputs["metadata"]["name"].startswith("materialize-operator-")
    ]
    names = {r.inputs["metadata"]["name"] for r in operator_policies}
    assert {
        "materialize-operator-dns",
        "materialize-operator-api-server",
        "materialize-operator-conversion-webhook",
    } <= names
    release = next(r for r in on.of_type(RELEASE) if r.inputs["chart"] == "materialize-operator")
    assert {r.urn for r in operator_policies} <= set(release.dependencies)
    for policy in operator_policies:
        assert policy.inputs["spec"]["policyTypes"], policy.name
    off = evaluate(example_stack(stack, networkPolicies=False))
    assert [
        r.name for r in off.of_type(NETWORK_POLICY) if "materialize-operator-" in r.inputs["metadata"]["name"]
    ] == []
