"""Cluster DNS without caching for cluster.local, registered on its own under mocks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.settings import Placement, Toleration
from components.targets.cluster_dns import (
    AKS_STOCK_DNS,
    COREDNS_IMAGE,
    GKE_STOCK_DNS,
    ClusterDns,
    ClusterDnsArgs,
    eks_coredns_configuration,
    zero_ttl_corefile,
)
from tests.harness.kubernetes_objects import is_plain_object, validate_strict
from tests.targets.aws.stack import aws_stack
from tests.targets.azure.stack import azure_stack
from tests.targets.gcp.stack import gcp_stack, with_gcp
from tests.targets.test_disk_setup import register as register_program
from tools.offline.evaluate import Evaluation, evaluate
from tools.offline.mocks import Registered

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
PATCH = "kubernetes:apps/v1:DeploymentPatch"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SYSTEM = Placement.model_validate(
    {
        "nodeSelector": {"workload": "system"},
        "tolerations": [Toleration(key="dedicated", value="system", effect="NoSchedule")],
    }
)


def register(stock: tuple[str, ...]) -> list[Registered]:
    return register_program(
        lambda provider: ClusterDns("dns", ClusterDnsArgs(provider=provider, stock_deployments=stock, placement=SYSTEM))
    )


@pytest.fixture(scope="module")
def gke() -> list[Registered]:
    return register(GKE_STOCK_DNS)


def of_type(registered: list[Registered], token: str) -> list[Registered]:
    return [r for r in registered if r.type == token]


def corefile_blocks(corefile: str) -> dict[str, list[str]]:
    """Top-level plugin lines of the one server block, and the lines of each nested block."""
    lines = [line.strip() for line in corefile.splitlines() if line.strip()]
    assert lines[0] == ".:53 {" and lines[-1] == "}", lines
    blocks: dict[str, list[str]] = {"": []}
    current = ""
    for line in lines[1:-1]:
        if line.endswith("{"):
            current = line.removesuffix("{").strip()
            blocks[current] = []
            blocks[""].append(current)
        elif line == "}":
            current = ""
        else:
            blocks[current].append(line)
    return blocks


def test_corefile_serves_the_cluster_zone_with_ttl_zero_and_never_caches_it() -> None:
    blocks = corefile_blocks(zero_ttl_corefile())
    kubernetes = blocks["kubernetes cluster.local in-addr.arpa ip6.arpa"]
    # ttl first, as Materialize's module has it.
    assert kubernetes[0] == "ttl 0"
    assert "pods insecure" in kubernetes
    cache = blocks["cache 30"]
    assert sorted(cache) == ["disable denial cluster.local", "disable success cluster.local"]
    # Every plugin the stock configurations have that health, readiness and loops need.
    for plugin in ("errors", "ready", "loop", "reload", "loadbalance", "prometheus :9153"):
        assert plugin in blocks[""], plugin


def test_corefile_follows_a_custom_cluster_domain() -> None:
    blocks = corefile_blocks(zero_ttl_corefile("example.internal"))
    assert blocks["kubernetes example.internal in-addr.arpa ip6.arpa"][0] == "ttl 0"
    assert "disable success example.internal" in blocks["cache 30"]


def test_eks_add_on_configuration_is_the_corefile_and_nothing_else() -> None:
    assert json.loads(eks_coredns_configuration()) == {"corefile": zero_ttl_corefile()}
    # Deterministic: the same text on every run, so the add-on never shows a diff.
    assert eks_coredns_configuration() == eks_coredns_configuration()


def test_every_plain_object_is_valid_and_parented_with_the_given_provider(gke: list[Registered]) -> None:
    component = next(r for r in gke if r.type == "materialize:targets:ClusterDns")
    provider = next(r for r in gke if r.type == "pulumi:providers:kubernetes")
    children = [r for r in gke if r.parent == component.urn]
    assert len(children) == 7
    for child in children:
        assert child.provider.startswith(provider.urn + "::"), child.name
        if is_plain_object(child):
            validate_strict(child)


def test_config_map_holds_the_zero_ttl_corefile_and_the_deployment_mounts_it(gke: list[Registered]) -> None:
    [config] = of_type(gke, CONFIG_MAP)
    assert config.inputs["data"] == {"Corefile": zero_ttl_corefile()}
    [deployment] = of_type(gke, DEPLOYMENT)
    pod = deployment.inputs["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["image"] == COREDNS_IMAGE
    assert container["args"] == ["-conf", "/etc/coredns/Corefile"]
    [volume] = pod["volumes"]
    assert volume["configMap"]["name"] == config.inputs["metadata"]["name"]
    assert config.urn in deployment.dependencies


def test_pods_sit_behind_the_stock_kube_dns_service_on_system_nodes(gke: list[Registered]) -> None:
    [deployment] = of_type(gke, DEPLOYMENT)
    spec = deployment.inputs["spec"]
    # The stock kube-dns Service selects k8s-app=kube-dns on EKS, GKE and AKS.
    assert spec["template"]["metadata"]["labels"]["k8s-app"] == "kube-dns"
    assert spec["selector"]["matchLabels"] == spec["template"]["metadata"]["labels"]
    assert spec["replicas"] == 2
    pod: dict[str, Any] = spec["template"]["spec"]
    assert pod["nodeSelector"] == {"workload": "system"}
    assert {"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"} in pod["tolerations"]
    assert pod["dnsPolicy"] == "Default"
    assert pod["priorityClassName"] == "system-cluster-critical"


def test_stock_dns_is_scaled_down_only_after_the_new_dns_and_autoscaler_first(gke: list[Registered]) -> None:
    [deployment] = of_type(gke, DEPLOYMENT)
    patches = of_type(gke, PATCH)
    assert [p.inputs["metadata"]["name"] for p in patches] == ["kube-dns-autoscaler", "kube-dns"]
    autoscaler, dns = patches
    for patch in patches:
        assert patch.inputs["metadata"]["namespace"] == "kube-system"
        assert patch.inputs["spec"] == {"replicas": 0}
        assert patch.inputs["metadata"]["annotations"] == {"pulumi.com/patchForce": "true"}
    assert deployment.urn in autoscaler.dependencies
    assert autoscaler.urn in dns.dependencies


def test_aks_scales_down_its_coredns_and_autoscaler() -> None:
    patches = of_type(register(AKS_STOCK_DNS), PATCH)
    assert [p.inputs["metadata"]["name"] for p in patches] == ["coredns-autoscaler", "coredns"]


# The targets, evaluated whole under mocks.


@pytest.fixture(scope="module")
def gcp_stack_evaluation() -> Evaluation:
    return evaluate(gcp_stack())


def test_gke_turns_node_local_dns_cache_on_at_creation_and_ignores_later_toggles(
    gcp_stack_evaluation: Evaluation,
) -> None:
    cluster = gcp_stack_evaluation.one("gcp:container/cluster:Cluster")
    assert cluster.inputs["addonsConfig"]["dnsCacheConfig"] == {"enabled": True}
    assert "addonsConfig.dnsCacheConfig" in cluster.options["ignoreChanges"]
    off = evaluate(with_gcp(nodeLocalDnsCache=False)).one("gcp:container/cluster:Cluster")
    assert off.inputs["addonsConfig"]["dnsCacheConfig"] == {"enabled": False}


def test_gke_stands_kube_dns_down_after_the_zero_ttl_dns_on_the_system_pool(gcp_stack_evaluation: Evaluation) -> None:
    deployment = next(r for r in gcp_stack_evaluation.of_type(DEPLOYMENT) if r.name.endswith("cluster-dns-deployment"))
    patches = [p for p in gcp_stack_evaluation.of_type(PATCH) if p.name.startswith("gcp-cluster-dns-")]
    assert [p.inputs["metadata"]["name"] for p in patches] == list(GKE_STOCK_DNS)
    system_pool = next(
        r
        for r in gcp_stack_evaluation.of_type("gcp:container/nodePool:NodePool")
        if r.inputs["name"].endswith("system")
    )
    assert system_pool.urn in deployment.dependencies
    pod = deployment.inputs["spec"]["template"]["spec"]
    assert pod["nodeSelector"].items() <= system_pool.inputs["nodeConfig"]["labels"].items()
    validate_strict(deployment)


def test_aks_stands_its_coredns_down_after_the_zero_ttl_dns() -> None:
    evaluation = evaluate(azure_stack())
    patches = [p for p in evaluation.of_type(PATCH) if "cluster-dns" in p.name]
    assert [p.inputs["metadata"]["name"] for p in patches] == list(AKS_STOCK_DNS)
    [config] = [c for c in evaluation.of_type(CONFIG_MAP) if "cluster-dns" in c.name]
    assert config.inputs["data"] == {"Corefile": zero_ttl_corefile()}


def test_eks_configures_its_managed_coredns_add_on_instead_of_replacing_it() -> None:
    evaluation = evaluate(aws_stack())
    [coredns] = [a for a in evaluation.of_type("aws:eks/addon:Addon") if a.inputs["addonName"] == "coredns"]
    assert json.loads(coredns.inputs["configurationValues"]) == {"corefile": zero_ttl_corefile()}
    # No second DNS next to the add-on's.
    assert not [r for r in evaluation.registered if r.type == "materialize:targets:ClusterDns"]
