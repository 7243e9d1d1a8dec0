"""Issue 12: with network policies on, every example stack's pods reach what they need and no more.

The evaluator (tests/harness/network_policy.py) gets every policy an install has: the program's
(the registered mock graph), the operator chart's (reference data operator-chart-networkpolicy.v26.37-era.yaml,
rendered with Helm; see its header for the commits), and the operator's run-time
`allow-all-within-environment` in the instance namespace (transcribed in the harness from
Materialize's orchestratord source). Addresses below are concrete points inside what each target's
cluster network says (the VPC range on aws, the Cloud SQL / flexible server addresses of the example
stacks, private ranges for local); UNRELATED is a documentation address (RFC 5737) nothing admits.

NOT YET MODELLED: the operator's run-time `sources-and-sinks-egress` (global.rs, same commit), which the
program turns on with networkPolicies.egress.cidrs ["0.0.0.0/0"]. It opens egress to any address for the
pods carrying the Materialize CR's default labels, which would make the instance egress policies above
redundant for outside addresses; so this file asserts nothing about instance egress being closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pytest
import yaml

from components.dataplane.operator import OPERATOR_NAMESPACE, OPERATOR_POD_LABELS
from tests.harness.network_policy import (
    NETWORK_POLICY,
    Address,
    Endpoint,
    Pod,
    Policy,
    allowed,
    registered_policies,
    within_environment,
)
from tests.harness.stack import evaluate, example_stack
from tests.support.reference_data import reference_text

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

RESOURCE_ID = "u1"  # the operator assigns it; any value, the same for every pod of the instance
UNRELATED = Address("203.0.113.9")
DNS = Pod("kube-system", {"k8s-app": "kube-dns"}, ip="10.96.0.10")
# The operator chart's container ports (header of the reference file): 3100 metrics, 8001 webhook.
OPERATOR = Pod(
    OPERATOR_NAMESPACE,
    dict(OPERATOR_POD_LABELS),
    ip="10.244.0.20",
    named_ports={"metrics": (3100, "TCP"), "webhook": (8001, "TCP")},
)
STRANGER = Pod("default", {"app": "curious"}, ip="10.244.9.9")

LOCAL_POSTGRES = Pod("materialize-local", {"app.kubernetes.io/name": "postgres"}, ip="10.244.3.3")
LOCAL_SEAWEEDFS = Pod("materialize-local", {"app.kubernetes.io/name": "seaweedfs"}, ip="10.244.3.4")


@dataclass(frozen=True)
class Site:
    namespace: str
    api_server: Address
    api_port: int
    webhook_caller: Address  # where the API server's webhook calls come from
    metadata: Endpoint
    metadata_port: int
    blob: Endpoint
    blob_port: int
    client: Endpoint  # a source the exposure serves
    # What else the operator calls on this platform (ClusterNetwork.operator_egress).
    operator_calls: tuple[tuple[Address, int], ...] = ()
    # Ports of the target's own stores that nothing may reach (local: SeaweedFS' credential-less side ports).
    closed: tuple[tuple[Pod, int], ...] = ()


SITES = {
    "byo": Site(
        "materialize-analytics", Address("10.96.0.1"), 6443, Address("10.0.0.2"),
        Address("10.20.0.5"), 5432, Address("52.216.0.1"), 443, Address("10.1.2.3"),
    ),
    "local": Site(
        "materialize-main", Address("172.18.0.2"), 6443, Address("172.18.0.2"),
        LOCAL_POSTGRES, 5432, LOCAL_SEAWEEDFS, 8333,
        Pod("default", {"app": "psql"}, ip="10.244.5.5"),  # local exposure is in-cluster (port-forward)
        closed=((LOCAL_POSTGRES, 5433), (LOCAL_SEAWEEDFS, 8888), (LOCAL_SEAWEEDFS, 9333)),
    ),
    "aws": Site(
        "materialize-main", Address("10.0.1.10"), 443, Address("10.0.1.10"),
        Address("10.0.2.20"), 5432, Address("52.216.0.1"), 443, Address("10.0.3.4"),
    ),
    "gcp": Site(
        "materialize-main", Address("34.1.2.3"), 443, Address("172.16.0.2"),
        Address("10.60.0.99"), 5432, Address("142.250.0.1"), 443, Address("10.1.2.3"),
        ((Address("169.254.169.254"), 80), (Address("169.254.169.252"), 988)),  # GKE metadata server
    ),
    "azure": Site(
        "materialize-main", Address("20.1.2.3"), 443, Address("20.1.2.3"),
        Address("10.1.16.4"), 5432, Address("20.60.0.1"), 443, Address("10.1.2.3"),
    ),
}  # fmt: skip


def instance_pods(namespace: str) -> dict[str, Pod]:
    resource = {"materialize.cloud/mz-resource-id": RESOURCE_ID}
    return {
        name: Pod(namespace, {"app": name, "materialize.cloud/app": name, **resource}, ip=ip)
        for name, ip in (("environmentd", "10.244.1.1"), ("balancerd", "10.244.1.2"), ("console", "10.244.1.3"))
    }


@cache
def program(stack: str) -> tuple[Policy, ...]:
    return tuple(registered_policies(evaluate(example_stack(stack)).of_type(NETWORK_POLICY)))


def chart_policies() -> list[Policy]:
    document = yaml.safe_load(reference_text("operator-chart-networkpolicy.v26.37-era.yaml"))
    metadata = document["metadata"]
    return [{"name": metadata["name"], "namespace": metadata["namespace"], "spec": document["spec"]}]


def install(stack: str, program_policies: tuple[Policy, ...]) -> list[Policy]:
    return [*program_policies, *chart_policies(), within_environment(SITES[stack].namespace, RESOURCE_ID)]


def failures(stack: str, policies: list[Policy]) -> list[str]:
    """Every reachability expectation of issue 12 that `policies` break."""
    site = SITES[stack]
    pods = instance_pods(site.namespace)
    environmentd = pods["environmentd"]
    expectations: list[tuple[str, Endpoint, Endpoint, int, str, bool]] = [
        ("operator -> API server", OPERATOR, site.api_server, site.api_port, "TCP", True),
        ("operator -> DNS udp", OPERATOR, DNS, 53, "UDP", True),
        ("operator -> DNS tcp", OPERATOR, DNS, 53, "TCP", True),
        ("API server -> operator webhook", site.webhook_caller, OPERATOR, 8001, "TCP", True),
        ("environmentd -> API server", environmentd, site.api_server, site.api_port, "TCP", True),
        ("environmentd -> DNS udp", environmentd, DNS, 53, "UDP", True),
        ("environmentd -> DNS tcp", environmentd, DNS, 53, "TCP", True),
        ("environmentd -> metadata", environmentd, site.metadata, site.metadata_port, "TCP", True),
        ("environmentd -> blob", environmentd, site.blob, site.blob_port, "TCP", True),
        ("client -> balancerd sql", site.client, pods["balancerd"], 6875, "TCP", True),
        ("client -> balancerd http", site.client, pods["balancerd"], 6876, "TCP", True),
        ("client -> console", site.client, pods["console"], 8080, "TCP", True),
        ("unrelated -> balancerd sql", UNRELATED, pods["balancerd"], 6875, "TCP", False),
        ("unrelated -> balancerd http", UNRELATED, pods["balancerd"], 6876, "TCP", False),
        ("unrelated -> console", UNRELATED, pods["console"], 8080, "TCP", False),
        ("unrelated -> environmentd sql", UNRELATED, environmentd, 6875, "TCP", False),
        ("stranger pod -> environmentd sql", STRANGER, environmentd, 6875, "TCP", False),
        ("any pod -> operator metrics", STRANGER, OPERATOR, 3100, "TCP", True),
        ("any pod -> operator webhook port is not metrics", STRANGER, OPERATOR, 8002, "TCP", False),
    ]
    expectations += [
        (f"operator -> {address.ip}:{port}", OPERATOR, address, port, "TCP", True)
        for address, port in site.operator_calls
    ]
    expectations += [
        (f"any pod -> {store.labels} side port {port}", STRANGER, store, port, "TCP", False)
        for store, port in site.closed
    ]
    return [
        name
        for name, source, destination, port, protocol, expected in expectations
        if allowed(policies, source, destination, port, protocol) is not expected
    ]


@pytest.mark.parametrize("stack", sorted(SITES))
def test_every_expected_connection_is_admitted_and_no_other(stack: str) -> None:
    assert failures(stack, install(stack, program(stack))) == []


@pytest.mark.parametrize("stack", sorted(SITES))
def test_dropping_any_of_the_programs_policies_breaks_an_expectation(stack: str) -> None:
    # The scrape policies (metrics-*, monitoring namespace) are the monitoring test's expectations.
    droppable = [p for p in program(stack) if p["namespace"] != "monitoring" and not p["name"].startswith("metrics")]
    assert droppable
    harmless = sorted(
        (p["namespace"], p["name"])
        for p in droppable
        if not failures(stack, install(stack, tuple(q for q in program(stack) if q is not p)))
    )
    assert harmless == sorted(REDUNDANT.get(stack, ()))


# Policies another one of the program's already covers: where the API server and the blob store are both
# "any address on 443" (or the VPC, inside "any"), the instance's api-server and blob policies each admit
# the other's connections, so dropping one alone changes nothing. Listed so a new overlap shows up.
REDUNDANT = {
    "aws": [("materialize-main", "main-api-server")],
    "byo": [("materialize-analytics", "analytics-blob")],
    "azure": [("materialize-main", "main-api-server"), ("materialize-main", "main-blob")],
    "gcp": [("materialize-main", "main-api-server"), ("materialize-main", "main-blob")],
}
