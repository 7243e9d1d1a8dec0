"""The local example stack and helpers to read its graph."""

from __future__ import annotations

from typing import Any

from tests.harness.mocks import Registered
from tests.harness.stack import example_stack

STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
JOB = "kubernetes:batch/v1:Job"
SECRET = "kubernetes:core/v1:Secret"
SERVICE = "kubernetes:core/v1:Service"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
RELEASE = "kubernetes:helm.sh/v3:Release"
MATERIALIZE = "kubernetes:materialize.cloud/v1:Materialize"


def local_stack(**overrides: Any) -> dict[str, Any]:
    return example_stack("local", **overrides)


def pod_spec(workload: Registered) -> dict[str, Any]:
    return workload.inputs["spec"]["template"]["spec"]


def container(workload: Registered) -> dict[str, Any]:
    containers = pod_spec(workload)["containers"]
    assert len(containers) == 1
    return containers[0]


def env(workload: Registered) -> dict[str, Any]:
    """name -> value, or ("secret", name, key) for a secretKeyRef."""
    resolved: dict[str, Any] = {}
    for variable in container(workload)["env"]:
        if "value" in variable:
            resolved[variable["name"]] = variable["value"]
        else:
            ref = variable["valueFrom"]["secretKeyRef"]
            resolved[variable["name"]] = ("secret", ref["name"], ref["key"])
    return resolved
