"""The local example stack and helpers to read its graph."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.harness.mocks import Registered
from tests.harness.stack import LICENSE_KEY, Evaluation
from tools.stack_files import read_stack_config

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
    """stacks/Pulumi.local.yaml as the CLI hands it over, plus the license key."""
    return {**read_stack_config("local").values, "licenseKey": LICENSE_KEY, **overrides}


def named(evaluation: Evaluation, token: str, name: str) -> Registered:
    """The object of a type whose Kubernetes metadata.name is `name`."""
    found = [r for r in evaluation.of_type(token) if r.inputs["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {token} named {name}, found {[r.name for r in found]}"
    return found[0]


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


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a nested input, with its dotted path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}.{index}")
