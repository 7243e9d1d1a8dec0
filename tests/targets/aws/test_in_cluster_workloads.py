"""The pods the aws target itself runs in the cluster (issue 15 item 10): no API token, bounded
resources, credentials as files, and strict Kubernetes validation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness.kubernetes_objects import validate_strict
from tests.harness.stack import Evaluation, evaluate
from tests.targets.aws.stack import aws_stack

# The pod-bearing kinds a target may create on its own (charts' workloads are the charts').
WORKLOADS = (
    "kubernetes:batch/v1:Job",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
)


@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    return evaluate(aws_stack(instances=[{"name": "main"}, {"name": "analytics"}]))


def _pods(evaluation: Evaluation) -> list[tuple[str, dict[str, Any]]]:
    return [(r.name, r.inputs["spec"]["template"]["spec"]) for t in WORKLOADS for r in evaluation.of_type(t)]


def test_the_target_runs_one_setup_job_per_instance(evaluation: Evaluation) -> None:
    assert sorted(name for name, _ in _pods(evaluation)) == [
        "aws-analytics-metadata-job",
        "aws-main-metadata-job",
    ]


def test_no_pod_of_ours_gets_a_service_account_token(evaluation: Evaluation) -> None:
    for name, pod in _pods(evaluation):
        # None of them calls the Kubernetes API.
        assert pod["automountServiceAccountToken"] is False, name


def test_every_container_requests_and_limits_cpu_and_memory(evaluation: Evaluation) -> None:
    for name, pod in _pods(evaluation):
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) == {"cpu", "memory"}, (name, bound)


def test_credentials_arrive_as_files_never_as_environment_variables(evaluation: Evaluation) -> None:
    for name, pod in _pods(evaluation):
        for container in pod["containers"]:
            assert all("valueFrom" not in variable for variable in container["env"]), name
            assert not container.get("envFrom"), name
        secrets = [v for v in pod["volumes"] if "secret" in v]
        assert secrets and all(v["secret"]["defaultMode"] == 0o440 for v in secrets), name
        mounts = {m["name"]: m for c in pod["containers"] for m in c["volumeMounts"]}
        assert all(mounts[v["name"]]["readOnly"] is True for v in secrets), name


def test_containers_run_unprivileged_on_a_read_only_root(evaluation: Evaluation) -> None:
    for name, pod in _pods(evaluation):
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["runAsNonRoot"] is True and context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name


def test_the_workloads_pass_strict_validation(evaluation: Evaluation) -> None:
    for workload in WORKLOADS:
        for resource in evaluation.of_type(workload):
            validate_strict(resource)
