"""With network policies on, Prometheus reaches every metrics port and nothing else of Materialize.

A small NetworkPolicy evaluator (Kubernetes semantics: a pod selected by a policy
of a direction admits only what one of those policies' rules allows) over the
policies the program registers. The operator's own `allow-all-within-environment`
isolates every Materialize pod (src/orchestratord/src/controller/materialize/global.rs,
commit 6ec833a9373ce70a413bae729d35186815d011f4), so instance pods count as isolated
for ingress even though that policy is created at run time, not by this program.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from components.dataplane.monitoring_values import MONITORING_NAMESPACE, SCRAPER_LABELS
from components.dataplane.network_policies import NAMESPACE_NAME_LABEL
from components.dataplane.operator import OPERATOR_NAMESPACE, OPERATOR_POD_LABELS
from tests.harness.stack import Evaluation, byo_config, evaluate

NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
# Named ports the policies may use, as the pods declare them.
NAMED_PORTS = {"metrics": 3100}


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str]


RESOURCE_ID = {"materialize.cloud/mz-resource-id": "u1"}
ENVIRONMENTD = Pod("materialize-prod", {"app": "environmentd", **RESOURCE_ID})
CLUSTERD = Pod("materialize-prod", {"cluster.environmentd.materialize.cloud/type": "cluster", **RESOURCE_ID})
BALANCERD = Pod("materialize-prod", {"app": "balancerd", **RESOURCE_ID})
CONSOLE = Pod("materialize-prod", {"app": "console", **RESOURCE_ID})
OPERATOR = Pod(OPERATOR_NAMESPACE, dict(OPERATOR_POD_LABELS))
PROMETHEUS = Pod(MONITORING_NAMESPACE, {"app.kubernetes.io/name": "prometheus", **SCRAPER_LABELS})
OTHER = Pod("default", {"app": "curious"})


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        present = key in labels
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
    return True


def peer_matches(peer: dict[str, Any], pod: Pod, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        return False  # pods are reached by pod address; ipBlocks name outside addresses here
    namespace_ok = (
        selects(peer["namespaceSelector"], {NAMESPACE_NAME_LABEL: pod.namespace})
        if "namespaceSelector" in peer
        else pod.namespace == policy_namespace
    )
    return namespace_ok and selects(peer.get("podSelector", {}), pod.labels)


def port_matches(rule: dict[str, Any], port: int) -> bool:
    if "ports" not in rule:
        return True
    return any(
        NAMED_PORTS.get(p["port"], p["port"]) == port for p in rule["ports"] if p.get("protocol", "TCP") == "TCP"
    )


def allowed(policies: list[dict[str, Any]], source: Pod, target: Pod, port: int, isolated: bool = False) -> bool:
    """Ingress at `target` and egress at `source` both admit the connection."""
    ingress = [p for p in policies if _applies(p, target, "Ingress")]
    egress = [p for p in policies if _applies(p, source, "Egress")]
    ingress_ok = (not ingress and not isolated) or any(
        port_matches(rule, port) and any(peer_matches(peer, source, p["namespace"]) for peer in rule.get("from", []))
        for p in ingress
        for rule in p["spec"].get("ingress", [])
    )
    egress_ok = not egress or any(
        port_matches(rule, port)
        and ("to" not in rule or any(peer_matches(peer, target, p["namespace"]) for peer in rule["to"]))
        for p in egress
        for rule in p["spec"].get("egress", [])
    )
    return ingress_ok and egress_ok


def _applies(policy: dict[str, Any], pod: Pod, direction: str) -> bool:
    return (
        policy["namespace"] == pod.namespace
        and direction in policy["spec"]["policyTypes"]
        and selects(policy["spec"]["podSelector"], pod.labels)
    )


def policies(evaluation: Evaluation) -> list[dict[str, Any]]:
    return [
        {"name": r.inputs["metadata"]["name"], "namespace": r.inputs["metadata"]["namespace"], "spec": r.inputs["spec"]}
        for r in evaluation.of_type(NETWORK_POLICY)
    ]


@pytest.fixture(scope="module")
def registered() -> list[dict[str, Any]]:
    return policies(evaluate(byo_config(instances=[{"name": "prod"}])))


@pytest.mark.parametrize(
    ("target", "port"), [(ENVIRONMENTD, 6878), (CLUSTERD, 6878), (BALANCERD, 8080), (OPERATOR, 3100)]
)
def test_prometheus_reaches_every_metrics_port(registered: list[dict[str, Any]], target: Pod, port: int) -> None:
    assert allowed(registered, PROMETHEUS, target, port, isolated=target is not OPERATOR)


@pytest.mark.parametrize(
    ("target", "port"),
    [
        (ENVIRONMENTD, 6875),  # SQL
        (ENVIRONMENTD, 6877),  # internal SQL (mz_system without a password)
        (ENVIRONMENTD, 6876),
        (BALANCERD, 6875),
        (CONSOLE, 8080),
        (OPERATOR, 8001),
    ],
)
def test_prometheus_reaches_nothing_else_of_materialize(
    registered: list[dict[str, Any]], target: Pod, port: int
) -> None:
    assert not allowed(registered, PROMETHEUS, target, port, isolated=True)


def test_other_pods_do_not_gain_the_metrics_ports(registered: list[dict[str, Any]]) -> None:
    for target, port in ((ENVIRONMENTD, 6878), (CLUSTERD, 6878), (BALANCERD, 8080)):
        assert not allowed(registered, OTHER, target, port, isolated=True)


def test_the_scrape_policies_are_in_every_instance_namespace_and_gone_when_off() -> None:
    two = [{"name": "prod"}, {"name": "dev", "namespace": "mz-dev"}]
    urls = {
        "metadataBackendUrl": "postgres://materialize@db.example.internal:5432/{instance}?sslmode=require",
        "persistBackendUrl": "s3://materialize-persist/{instance}?region=us-east-1",
    }
    found = policies(evaluate(byo_config(instances=two, **urls)))
    scrape = {(p["namespace"], p["name"]) for p in found if p["name"].startswith("metrics-")}
    assert scrape == {
        (namespace, name)
        for namespace in ("materialize-prod", "mz-dev")
        for name in ("metrics-environmentd-clusterd", "metrics-balancerd")
    }
    for pod in (ENVIRONMENTD, CLUSTERD, BALANCERD):
        assert allowed(found, PROMETHEUS, Pod("mz-dev", pod.labels), 6878 if pod is not BALANCERD else 8080, True)
    off = policies(evaluate(byo_config(instances=two, networkPolicies=False, **urls)))
    assert off == []
    disabled = policies(evaluate(byo_config(instances=two, monitoring={"enabled": False}, **urls)))
    assert not [p for p in disabled if p["name"].startswith("metrics-") or p["namespace"] == MONITORING_NAMESPACE]


def test_remote_write_ports_are_opened_for_prometheus_only_when_configured() -> None:
    def egress_ports(evaluation: Evaluation) -> set[int]:
        (policy,) = [p for p in policies(evaluation) if p["name"] == "prometheus-egress"]
        return {port["port"] for rule in policy["spec"]["egress"] for port in rule.get("ports", [])}

    plain = egress_ports(evaluate(byo_config()))
    assert 8443 not in plain
    writing = evaluate(
        byo_config(monitoring={"remoteWrite": [{"url": "https://metrics.example.com:8443/api/v1/write"}]})
    )
    assert egress_ports(writing) - plain == {8443}
