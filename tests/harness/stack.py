"""Test fixtures around the offline evaluator (tools/offline), and readers of its graph."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from components.versions import OPERATOR_CHART_NAME
from tools.offline.evaluate import Evaluation, evaluate
from tools.offline.mocks import Registered
from tools.stack_files import read_stack_config

__all__ = [
    "LICENSE_KEY",
    "Evaluation",
    "backend",
    "byo_config",
    "evaluate",
    "example_stack",
    "named",
    "operator_values",
    "paths_holding",
    "strings",
]

LICENSE_KEY = "test-license-key-not-real"
RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"


def byo_config(**overrides: Any) -> dict[str, Any]:
    """A minimal valid byo stack (credential-less URLs, so plain config is fine)."""
    config: dict[str, Any] = {
        "target": "byo",
        "licenseKey": LICENSE_KEY,
        "kubeconfig": "/etc/kubeconfig/cluster.yaml",
        "kubeContext": "prod",
        "metadataBackendUrl": "postgres://materialize@db.example.internal:5432/materialize?sslmode=require",
        "persistBackendUrl": "s3://materialize-persist/main?region=us-east-1",
    }
    config.update(overrides)
    return config


def example_stack(stack: str, **overrides: Any) -> dict[str, Any]:
    """stacks/Pulumi.<stack>.yaml as the CLI hands it over, plus the license key."""
    return {**read_stack_config(stack).values, "licenseKey": LICENSE_KEY, **overrides}


def named(evaluation: Evaluation, token: str, name: str) -> Registered:
    """The object of a type whose Kubernetes metadata.name is `name`."""
    found = [r for r in evaluation.of_type(token) if r.inputs["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {token} named {name}, found {[r.name for r in found]}"
    return found[0]


def operator_values(evaluation: Evaluation) -> dict[str, Any]:
    release = next(r for r in evaluation.of_type(RELEASE) if r.inputs["chart"] == OPERATOR_CHART_NAME)
    return release.inputs["values"]


def backend(evaluation: Evaluation, instance: str) -> dict[str, str]:
    """The instance's backend Secret's data, every value of which must be a secret."""
    secret = named(evaluation, SECRET, f"{instance}-materialize-backend")
    for key in secret.inputs["stringData"]:
        assert secret.is_secret(f"stringData.{key}"), key
    return secret.inputs["stringData"]


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


def paths_holding(evaluation: Evaluation, values: Iterable[str]) -> list[tuple[Registered, str]]:
    """Every (resource, input path) whose string contains one of `values`."""
    wanted = list(values)
    return [
        (resource, path)
        for resource in evaluation.registered
        for path, text in strings(resource.inputs)
        if any(value in text for value in wanted)
    ]
