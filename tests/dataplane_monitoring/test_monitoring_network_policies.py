"""With network policies on, Prometheus reaches every metrics port and nothing else of Materialize.

The shared evaluator (tests/harness/network_policy.py) over the policies the program
registers plus the operator's run-time `allow-all-within-environment` in each instance
namespace (transcribed there from Materialize's orchestratord source), which isolates
every Materialize pod even though this program does not create it.
"""

from __future__ import annotations

import pytest

from components.dataplane.monitoring_values import MONITORING_NAMESPACE, SCRAPER_LABELS
from components.dataplane.operator import OPERATOR_NAMESPACE, OPERATOR_POD_LABELS
from tests.harness.network_policy import (
    NETWORK_POLICY,
    Pod,
    Policy,
    allowed,
    registered_policies,
    within_environment,
)
from tests.harness.stack import Evaluation, byo_config, evaluate

# The operator chart's container declares its metrics port by name (operator_network_policies uses "metrics").
OPERATOR_PORTS = {"metrics": (3100, "TCP")}
RESOURCE_ID = {"materialize.cloud/mz-resource-id": "u1"}
ENVIRONMENTD = Pod("materialize-prod", {"app": "environmentd", **RESOURCE_ID})
CLUSTERD = Pod("materialize-prod", {"cluster.environmentd.materialize.cloud/type": "cluster", **RESOURCE_ID})
BALANCERD = Pod("materialize-prod", {"app": "balancerd", **RESOURCE_ID})
CONSOLE = Pod("materialize-prod", {"app": "console", **RESOURCE_ID})
OPERATOR = Pod(OPERATOR_NAMESPACE, dict(OPERATOR_POD_LABELS), named_ports=OPERATOR_PORTS)
PROMETHEUS = Pod(MONITORING_NAMESPACE, {"app.kubernetes.io/name": "prometheus", **SCRAPER_LABELS})
OTHER = Pod("default", {"app": "curious"})


def policies(evaluation: Evaluation, namespaces: tuple[str, ...] = ("materialize-prod",)) -> list[Policy]:
    """The program's policies plus the operator's run-time one in each instance namespace."""
    return registered_policies(evaluation.of_type(NETWORK_POLICY)) + [
        within_environment(namespace, "u1") for namespace in namespaces
    ]


def program_policies(evaluation: Evaluation) -> list[Policy]:
    return registered_policies(evaluation.of_type(NETWORK_POLICY))


@pytest.fixture(scope="module")
def registered() -> list[Policy]:
    return policies(evaluate(byo_config(instances=[{"name": "prod"}])))


@pytest.mark.parametrize(
    ("target", "port"), [(ENVIRONMENTD, 6878), (CLUSTERD, 6878), (BALANCERD, 8080), (OPERATOR, 3100)]
)
def test_prometheus_reaches_every_metrics_port(registered: list[Policy], target: Pod, port: int) -> None:
    assert allowed(registered, PROMETHEUS, target, port)


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
def test_prometheus_reaches_nothing_else_of_materialize(registered: list[Policy], target: Pod, port: int) -> None:
    assert not allowed(registered, PROMETHEUS, target, port)


def test_other_pods_do_not_gain_the_metrics_ports(registered: list[Policy]) -> None:
    for target, port in ((ENVIRONMENTD, 6878), (CLUSTERD, 6878), (BALANCERD, 8080)):
        assert not allowed(registered, OTHER, target, port)


def test_the_scrape_policies_are_in_every_instance_namespace_and_gone_when_off() -> None:
    two = [{"name": "prod"}, {"name": "dev", "namespace": "mz-dev"}]
    urls = {
        "metadataBackendUrl": "postgres://materialize@db.example.internal:5432/{instance}?sslmode=require",
        "persistBackendUrl": "s3://materialize-persist/{instance}?region=us-east-1",
    }
    found = policies(evaluate(byo_config(instances=two, **urls)), ("materialize-prod", "mz-dev"))
    scrape = {(p["namespace"], p["name"]) for p in found if p["name"].startswith("metrics-")}
    assert scrape == {
        (namespace, name)
        for namespace in ("materialize-prod", "mz-dev")
        for name in ("metrics-environmentd-clusterd", "metrics-balancerd")
    }
    for pod in (ENVIRONMENTD, CLUSTERD, BALANCERD):
        assert allowed(found, PROMETHEUS, Pod("mz-dev", pod.labels), 6878 if pod is not BALANCERD else 8080)
    off = program_policies(evaluate(byo_config(instances=two, networkPolicies=False, **urls)))
    assert off == []
    disabled = program_policies(evaluate(byo_config(instances=two, monitoring={"enabled": False}, **urls)))
    assert not [p for p in disabled if p["name"].startswith("metrics-") or p["namespace"] == MONITORING_NAMESPACE]


def test_remote_write_ports_are_opened_for_prometheus_only_when_configured() -> None:
    def egress_ports(evaluation: Evaluation) -> set[int]:
        (policy,) = [p for p in program_policies(evaluation) if p["name"] == "prometheus-egress"]
        return {port["port"] for rule in policy["spec"]["egress"] for port in rule.get("ports", [])}

    plain = egress_ports(evaluate(byo_config()))
    assert 8443 not in plain
    writing = evaluate(
        byo_config(monitoring={"remoteWrite": [{"url": "https://metrics.example.com:8443/api/v1/write"}]})
    )
    assert egress_ports(writing) - plain == {8443}
