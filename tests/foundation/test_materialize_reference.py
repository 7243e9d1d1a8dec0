"""Every operator chart value and every CR spec field the program sets exists in
Materialize's published reference data (pinned in tests/support/reference_data.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from components.versions import OPERATOR_CHART_NAME
from tests.harness.stack import LICENSE_KEY, Evaluation, evaluate
from tests.support.reference_data import reference_text
from tools.stack_files import read_stack_config

# Keys of charts newer than the stored v26.12.0 values, listed in the reference README.
NEWER_CHART_KEYS = {
    "operator.args.installV1CRD",
    "operator.certificate.source",
    "operator.certificate.secretName",
    "operator.replicas",
    "operator.podDisruptionBudget.enabled",
    "operator.podDisruptionBudget.minAvailable",
    "operator.api.enabled",
    "serviceAccount.annotations",
}


def chart_keys() -> tuple[set[str], set[str]]:
    """(every key path in values.yaml, keys whose value is a free-form map or list)."""
    values = yaml.safe_load(reference_text("operator-values.v26.12.0.yaml"))
    parameters = yaml.safe_load(reference_text("operator-chart-parameters.yml"))
    paths: set[str] = set()

    def walk(node: Any, prefix: str) -> None:
        paths.add(prefix)
        if isinstance(node, dict) and node:
            for key, value in node.items():
                walk(value, f"{prefix}.{key}" if prefix else key)

    walk(values, "")
    free_form = {p["key"] for p in parameters if p["type"] in ("object", "list") or p["type"].startswith("k8s/")}
    free_form |= {p["key"] for p in parameters if str(p.get("autodefault", "")).startswith("``{}``")}
    return paths | {p["key"] for p in parameters}, free_form


def leaf_paths(node: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from leaf_paths(value, f"{prefix}.{key}" if prefix else key)
    else:
        yield prefix


# Maps keyed by a name the user chooses: an entry may use any name, but only the
# fields the chart's own entries use.
NAMED_ENTRY_MAPS = {"operator.clusters.sizes"}


def _as_chart_entry(path: str, known: set[str]) -> str:
    """`path` with a user-chosen entry name replaced by one the chart itself uses."""
    for prefix in NAMED_ENTRY_MAPS:
        rest = path.removeprefix(prefix + ".")
        if rest != path and "." in rest:
            field = rest.split(".", 1)[1]
            entry = min(k.removeprefix(prefix + ".").split(".", 1)[0] for k in known if k.startswith(prefix + "."))
            return f"{prefix}.{entry}.{field}"
    return path


def unknown_chart_keys(values: dict[str, Any]) -> list[str]:
    known, free_form = chart_keys()
    unknown = []
    for path in leaf_paths(values):
        ancestors = {".".join(path.split(".")[:i]) for i in range(1, path.count(".") + 2)}
        if path in known or path in NEWER_CHART_KEYS or ancestors & free_form or _as_chart_entry(path, known) in known:
            continue
        unknown.append(path)
    return unknown


def crd_fields(version: str) -> dict[str, dict[str, Any]]:
    document = json.loads(reference_text(f"crd-fields-{version}.json"))
    return {type_name: {field["name"]: field for field in fields} for type_name, fields in document}


def unknown_spec_fields(spec: dict[str, Any], version: str) -> list[str]:
    types = crd_fields(version)
    problems = []

    def check(node: dict[str, Any], type_name: str, path: str) -> None:
        fields = types[type_name]
        for key, value in node.items():
            field = fields.get(key)
            if field is None:
                problems.append(f"{path}{key}")
                continue
            if field["deprecated"]:
                problems.append(f"{path}{key} (deprecated)")
            if isinstance(value, dict) and field["type"] in types:
                check(value, field["type"], f"{path}{key}.")

    check(spec, "MaterializeSpec", "")
    required = [name for name, field in types["MaterializeSpec"].items() if field["required"]]
    problems += [f"missing required {name}" for name in required if name not in spec]
    return problems


def evaluated(**overrides: Any) -> Evaluation:
    return evaluate({**read_stack_config("byo").values, "licenseKey": LICENSE_KEY, **overrides})


def operator_values(evaluation: Evaluation) -> dict[str, Any]:
    release = next(
        r for r in evaluation.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == OPERATOR_CHART_NAME
    )
    return release.inputs["values"]


PLACEMENT = {
    "materialize": {"nodeSelector": {"a": "b"}, "tolerations": [{"key": "k", "operator": "Exists"}]},
    "system": {"nodeSelector": {"c": "d"}},
}


ZERO_CREDIT_SIZE = {
    "support-free": {
        "workers": 1,
        "cpuLimit": 0.5,
        "memoryLimit": "3881MiB",
        "diskLimit": "7762MiB",
        "creditsPerHour": "0",
    }
}


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"nodePlacement": PLACEMENT, "podMetrics": True, "networkPolicies": False},
        {"cloudProvider": "gcp"},
        {"clusterSizes": ZERO_CREDIT_SIZE},
    ],
    ids=["example", "placement", "gcp", "cluster-sizes"],
)
def test_every_operator_value_exists_in_the_chart(overrides: dict[str, Any]) -> None:
    assert unknown_chart_keys(operator_values(evaluated(**overrides))) == []


def test_the_chart_key_check_catches_a_misspelt_key() -> None:
    assert unknown_chart_keys({"operator": {"cloudProvider": {"regoin": "x"}}, "clusterd": {"nodeSelector": {}}}) == [
        "operator.cloudProvider.regoin"
    ]
    sizes = {"operator": {"clusters": {"sizes": {"support-free": {"workers": 1, "cpu_request": 1}}}}}
    assert unknown_chart_keys(sizes) == ["operator.clusters.sizes.support-free.cpu_request"]


def test_extra_cluster_sizes_reach_the_chart_as_its_entries_are_written() -> None:
    sizes = operator_values(evaluated(clusterSizes=ZERO_CREDIT_SIZE))["operator"]["clusters"]["sizes"]
    chart = yaml.safe_load(reference_text("operator-values.v26.12.0.yaml"))["operator"]["clusters"]["sizes"]
    assert set(sizes) == {"support-free"}
    assert set(sizes["support-free"]) == set(chart["25cc"])
    assert sizes["support-free"]["credits_per_hour"] == "0"
    assert sizes["support-free"]["memory_limit"] == "3881MiB"
    assert "sizes" not in operator_values(evaluated())["operator"]["clusters"]


def test_the_chart_default_size_names_are_the_ones_the_program_knows() -> None:
    from components.cluster_sizes import CHART_SIZE_NAMES

    chart = yaml.safe_load(reference_text("operator-values.v26.12.0.yaml"))["operator"]["clusters"]["sizes"]
    assert tuple(chart) == CHART_SIZE_NAMES


INSTANCE = {
    "name": "full",
    "environmentdResources": {"requests": {"cpu": "1", "memory": "4Gi"}},
    "balancerdReplicas": 2,
    "consoleReplicas": 1,
    "serviceAccountAnnotations": {"a/b": "c"},
    "podLabels": {"x": "y"},
    "rolloutStrategy": "ManuallyPromote",
    "exposure": {"type": "internal"},
}


@pytest.mark.parametrize("crd_version", ["v1", "v1alpha1"])
def test_every_cr_spec_field_exists_in_the_crd(crd_version: str) -> None:
    evaluation = evaluated(crdVersion=crd_version, instances=[INSTANCE])
    cr = evaluation.one(f"kubernetes:materialize.cloud/{crd_version}:Materialize")
    assert unknown_spec_fields(cr.inputs["spec"], crd_version) == []
    assert cr.inputs["apiVersion"] == f"materialize.cloud/{crd_version}"


def test_the_crd_field_check_catches_an_unknown_field() -> None:
    spec = {"backendSecretName": "s", "environmentdImageRef": "i", "environmentIdd": "x", "inPlaceRollout": True}
    assert unknown_spec_fields(spec, "v1alpha1") == ["environmentIdd", "inPlaceRollout (deprecated)"]


def test_backend_secret_keys_are_the_ones_the_crd_names() -> None:
    description = crd_fields("v1")["MaterializeSpec"]["backendSecretName"]["description"]
    secret = next(r for r in evaluated().of_type("kubernetes:core/v1:Secret") if r.name.endswith("-backend"))
    for key in ("metadata_backend_url", "persist_backend_url", "external_login_password_mz_system"):
        assert key in description and key in secret.inputs["stringData"]


def test_service_ports_are_materializes_default_ports() -> None:
    ports = yaml.safe_load(reference_text("default-ports.yml"))
    documented = {int(row["Port"]) for row in ports["rows"]}
    evaluation = evaluated()
    exposed = {p["port"] for s in evaluation.of_type("kubernetes:core/v1:Service") for p in s.inputs["spec"]["ports"]}
    assert exposed == documented == {6875, 6876, 8080}
