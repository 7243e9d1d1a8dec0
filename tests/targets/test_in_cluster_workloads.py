"""Jobs and DaemonSets the targets run in the cluster (issues 15 item 10, 17 item 8).

On every example stack: each container has CPU and memory requests and limits,
and a pod gets a service-account token only when it calls the Kubernetes API
(the disk setup, when it lifts a startup taint from its node).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness.stack import Evaluation, evaluate, example_stack
from tools.stack_files import stack_names

WORKLOADS = ("kubernetes:batch/v1:Job", "kubernetes:apps/v1:DaemonSet")
# Pods that call the API: the disk setup, to remove its startup taint from the node (disk_setup.py).
CALLS_THE_API = {"disk-setup"}


@pytest.fixture(scope="module", params=[s for s in stack_names() if s != "support"])
def stack(request: pytest.FixtureRequest) -> Evaluation:
    return evaluate(example_stack(request.param))


def pod_specs(evaluation: Evaluation) -> list[tuple[str, dict[str, Any]]]:
    return [(r.name, r.inputs["spec"]["template"]["spec"]) for token in WORKLOADS for r in evaluation.of_type(token)]


def test_every_container_has_cpu_and_memory_requests_and_limits(stack: Evaluation) -> None:
    # byo runs nothing of its own in the cluster; every other target does.
    assert pod_specs(stack) or stack.outputs["target"] == "byo"
    for name, spec in pod_specs(stack):
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                assert set(resources.get(kind, {})) >= {"cpu", "memory"}, (name, container["name"], kind)


def test_only_pods_that_call_the_api_get_a_token(stack: Evaluation) -> None:
    for name, spec in pod_specs(stack):
        if any(app in name for app in CALLS_THE_API):
            continue
        assert spec.get("automountServiceAccountToken") is False, name
