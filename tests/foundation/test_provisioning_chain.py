"""Issue 14: every resource waits only for what it really needs.

On the registered graph of each example stack: the Services do not wait for
their instance's `Materialize` resource (their load balancer is built while it
rolls out); cert-manager and the operator wait for none of the Materialize
nodes' pieces (their pool, the disk setup, metrics-server, the load-balancer
controller); each instance waits for its database, bucket, identity and pool.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.harness.graph import may_wait_for, upstream, waiting_on, waits_for
from tests.harness.stack import Evaluation, evaluate, example_stack
from tools.offline.mocks import Registered

MATERIALIZE = "kubernetes:materialize.cloud/v1:Materialize"
RELEASE = "kubernetes:helm.sh/v3:Release"
SERVICE = "kubernetes:core/v1:Service"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"

Picker = Callable[[Registered], bool]


def token(type_token: str, name_part: str = "") -> Picker:
    return lambda r: r.type == type_token and name_part in r.name


@dataclass(frozen=True)
class Expected:
    # What only Materialize's own pods need: the system components must not wait for any of it.
    workload_pieces: tuple[Picker, ...]
    # What the instance `main` must wait for: its database, bucket, identity and node pool.
    instance_needs: tuple[Picker, ...]


def release_of(chart: str) -> Picker:
    return lambda r: r.type == RELEASE and r.inputs.get("chart") == chart


EXPECTED = {
    "aws": Expected(
        workload_pieces=(
            token("aws:eks/nodeGroup:NodeGroup", "materialize"),
            release_of("metrics-server"),
            release_of("aws-load-balancer-controller"),
        ),
        instance_needs=(
            token("aws:eks/nodeGroup:NodeGroup", "materialize"),
            token("kubernetes:batch/v1:Job", "main-metadata"),
            token("aws:s3/bucket:Bucket"),
            token("aws:iam/role:Role", "-main-role-role"),
            # Its namespace asks the controller's pod webhook for readiness gates.
            release_of("aws-load-balancer-controller"),
        ),
    ),
    "gcp": Expected(
        workload_pieces=(token("gcp:container/nodePool:NodePool", "materialize"), token(DAEMON_SET)),
        instance_needs=(
            token("gcp:container/nodePool:NodePool", "materialize"),
            token(DAEMON_SET),
            token("gcp:sql/database:Database", "main"),
            token("gcp:sql/user:User", "main"),
            token("gcp:storage/bucket:Bucket"),
            token("gcp:storage/bucketIAMMember:BucketIAMMember"),
        ),
    ),
    "azure": Expected(
        workload_pieces=(token("azure-native:containerservice:AgentPool", "materialize"), token(DAEMON_SET)),
        instance_needs=(
            token("azure-native:containerservice:AgentPool", "materialize"),
            token(DAEMON_SET),
            token("azure-native:dbforpostgresql:Database", "main"),
            token("azure-native:storage:BlobContainer", "main"),
            token("azure-native:managedidentity:FederatedIdentityCredential", "main"),
            token("azure-native:authorization:RoleAssignment", "main-blob"),
        ),
    ),
    "local": Expected(
        workload_pieces=(release_of("metrics-server"),),
        instance_needs=(
            token("kubernetes:batch/v1:Job", "main-metadata"),
            token("kubernetes:batch/v1:Job", "bucket"),
        ),
    ),
    "byo": Expected(workload_pieces=(), instance_needs=()),
}


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def stack(request: pytest.FixtureRequest) -> tuple[str, Evaluation]:
    return request.param, evaluate(example_stack(request.param))


def matching(evaluation: Evaluation, pick: Picker) -> list[Registered]:
    found = [r for r in evaluation.registered if r.custom and pick(r)]
    assert found, "the expected resource is not registered"
    return found


def test_services_do_not_wait_for_their_instance(stack: tuple[str, Evaluation]) -> None:
    _, evaluation = stack
    instances = evaluation.of_type(MATERIALIZE)
    services = [s for s in evaluation.of_type(SERVICE) if s.name.startswith("materialize-")]
    assert instances and len(services) == 2 * len(instances)
    for service in services:
        assert waiting_on(evaluation, service, instances) == [], service.name


def test_system_components_wait_for_no_materialize_node_piece(stack: tuple[str, Evaluation]) -> None:
    name, evaluation = stack
    pieces = [r for pick in EXPECTED[name].workload_pieces for r in matching(evaluation, pick)]
    system = [
        r for r in evaluation.of_type(RELEASE) if r.name in ("materialize-tls-release", "materialize-operator-release")
    ]
    assert len(system) == 2
    for release in system:
        assert waiting_on(evaluation, release, pieces) == [], release.name


def test_each_instance_waits_for_its_database_bucket_identity_and_pool(stack: tuple[str, Evaluation]) -> None:
    name, evaluation = stack
    [instance] = evaluation.of_type(MATERIALIZE)
    operator = next(r for r in evaluation.of_type(RELEASE) if r.name == "materialize-operator-release")
    assert waits_for(evaluation, instance, operator)
    for pick in EXPECTED[name].instance_needs:
        for needed in matching(evaluation, pick):
            assert waits_for(evaluation, instance, needed), needed.name


# --- the graph helper itself ------------------------------------------------------------------------


def _registered(name: str, deps: list[str], parent: str = "", provider: str = "") -> Registered:
    return Registered(
        type="test:index:Thing",
        name=name,
        urn=f"urn:{name}",
        parent=parent,
        custom=True,
        inputs={},
        secret_paths=set(),
        protect=False,
        provider=provider,
        dependencies=deps,
        options={"propertyDependencies": {}},
    )


def test_graph_helper_follows_dependencies_providers_and_optionally_parents() -> None:
    a = _registered("a", ["urn:b"])
    b = _registered("b", [], provider="urn:p::id")
    p = _registered("p", ["urn:c"])
    c = _registered("c", [])
    child = _registered("child", [], parent="urn:a")
    lone = _registered("lone", [])
    evaluation = Evaluation(registered=[a, b, p, c, child, lone], outputs={}, secret_outputs=set(), mocks=None)  # type: ignore[arg-type]
    assert upstream(evaluation, a) == {"urn:b", "urn:p", "urn:c"}
    assert waits_for(evaluation, a, c)
    assert not waits_for(evaluation, c, a)
    assert not waits_for(evaluation, a, lone)
    # The child does not wait for its parent's edges, but may_wait_for counts them.
    assert not waits_for(evaluation, child, c)
    assert may_wait_for(evaluation, child, c)
    assert waiting_on(evaluation, child, [c, lone]) == ["c"]
