"""Log collection under mocks, and both charts rendered with the real Helm engine offline.

Off by default; on, an Alloy DaemonSet on every node (Materialize's included) sends the
logs of the instances' and the operator's pods to an in-cluster Loki and/or external
Loki or OTLP endpoints, whose credentials travel only in Secrets.
"""

from __future__ import annotations

import json
import re
from typing import Any

import kubernetes_validate
import pulumi
import pytest
import yaml

from components.dataplane.logging_values import (
    ALLOY_STATE_HOST_PATH,
    COLLECTOR_LABELS,
    DATASOURCE_LABEL,
    GRAFANA_REPO,
    LOKI_HTTP_PORT,
    LOKI_POD_LABELS,
    LOKI_PUSH_URL,
    LOKI_QUERY_URL,
    alloy_config,
    export_secrets,
)
from components.dataplane.monitoring_values import MONITORING_NAMESPACE
from components.dataplane.operator import OPERATOR_NAMESPACE
from components.settings import load_settings
from components.targets.aws.target import MATERIALIZE_TAINT
from policy.materialize_policies import POLICIES
from tests.dataplane_monitoring.test_monitoring import _under  # pyright: ignore[reportPrivateUsage]
from tests.harness.kubernetes_objects import KUBERNETES_VERSIONS, is_plain_object, validate_strict
from tests.harness.network_policy import NETWORK_POLICY, Address, Pod, Policy, allowed, registered_policies
from tests.harness.stack import LICENSE_KEY, Evaluation, byo_config, evaluate, example_stack
from tests.policy.harness import Analyzer
from tests.support.chart_sources import CHART_SOURCES, chart_dir, render
from tests.support.chart_values import CHARTS, chart_defaults, unknown_keys
from tools.offline.mocks import Registered

RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
LOGGING = "materialize:dataplane:Logging"
MONITORING = "materialize:dataplane:Monitoring"
LOG_PASSWORD = "log-export-password-not-real"
LOG_TOKEN = "log-export-token-not-real"
EXPORTS = [
    {"url": "https://logs.example.com/loki/api/v1/push", "username": "mz", "password": LOG_PASSWORD},
    {"url": "https://otel.example.com:4318", "protocol": "otlp", "bearerToken": LOG_TOKEN},
]
URLS = {
    "metadataBackendUrl": "postgres://materialize@db.example.internal:5432/{instance}?sslmode=require",
    "persistBackendUrl": "s3://materialize-persist/{instance}?region=us-east-1",
}


@pytest.fixture(scope="module")
def byo() -> Evaluation:
    """Two instances, system-node placement, Loki and two exports with credentials."""
    config = byo_config(
        instances=[{"name": "prod"}, {"name": "dev", "namespace": "mz-dev"}],
        nodePlacement={"system": {"nodeSelector": {"workload": "system"}}},
        monitoring={"logs": {"enabled": True, "retention": "2w", "storage": "40Gi", "export": EXPORTS}},
        **URLS,
    )
    return evaluate(config, secret_keys=("licenseKey", "monitoring"))


@pytest.fixture(scope="module")
def aws() -> Evaluation:
    return evaluate(example_stack("aws", monitoring={"logs": {"enabled": True}}))


def release(evaluation: Evaluation, chart: str) -> Registered:
    found = [r for r in evaluation.of_type(RELEASE) if r.inputs["chart"] == chart]
    assert len(found) == 1, f"expected one {chart} release, found {len(found)}"
    return found[0]


def values(evaluation: Evaluation, chart: str) -> dict[str, Any]:
    return release(evaluation, chart).inputs["values"]


def test_logs_are_off_by_default_and_the_off_switch_adds_nothing() -> None:
    default = evaluate(byo_config())
    off = evaluate(byo_config(monitoring={"logs": {"enabled": False, "export": [{"url": "https://l.example.com"}]}}))
    on = evaluate(byo_config(monitoring={"logs": {"enabled": True}}))
    assert not default.of_type(LOGGING) and not off.of_type(LOGGING)
    assert {r.urn for r in off.registered} == {r.urn for r in default.registered}
    assert not [r for r in default.of_type(RELEASE) if r.inputs["chart"] in ("alloy", "loki")]
    # Everything logging adds sits under its component, which sits under monitoring's.
    logging = on.one(LOGGING)
    assert logging.parent == on.one(MONITORING).urn
    added = {r.urn for r in on.registered} - {r.urn for r in default.registered}
    assert {logging.urn} < added
    for urn in added:
        assert urn == logging.urn or _under(on, on.by_urn(urn), logging.urn), urn
    # Nothing that existed changes either (the metrics stack's values included).
    before = {r.urn: r.inputs for r in default.registered}
    for registered in on.registered:
        if registered.urn in before:
            assert registered.inputs == before[registered.urn], registered.name
    # And monitoring off takes logs with it (logs cannot be on alone: see the refusals below).
    assert not evaluate(byo_config(monitoring={"enabled": False})).of_type(LOGGING)


def test_releases_are_pinned_from_grafanas_repository(byo: Evaluation) -> None:
    for chart, version in (("alloy", "1.11.1"), ("loki", "7.3.0")):
        found = release(byo, chart)
        assert found.inputs["version"] == version
        assert found.inputs["name"] == chart  # the charts' fullname is then the bare chart name
        assert found.inputs["repositoryOpts"]["repo"] == GRAFANA_REPO == "https://grafana.github.io/helm-charts"
        assert found.inputs["namespace"] == MONITORING_NAMESPACE
        assert found.inputs["atomic"] is True
        # The pinned chart sources are exactly these versions.
        chart_yaml = yaml.safe_load((chart_dir(chart) / "Chart.yaml").read_text())
        assert chart_yaml["version"] == version
        assert CHART_SOURCES[chart].commit == CHARTS[chart].commit


def test_values_are_keys_the_pinned_charts_define(byo: Evaluation, aws: Evaluation) -> None:
    # alloy-1.11.1 (grafana/alloy 233907cf...) and loki-7.3.0 (grafana/loki 50c738b4...),
    # pinned by SHA-256 in tests/support/chart_values.py.
    alloy_defaults, loki_defaults = chart_defaults("alloy"), chart_defaults("loki")
    for evaluation in (byo, aws):
        assert unknown_keys(values(evaluation, "alloy"), alloy_defaults, set()) == []
        # limits_config is Loki's own configuration, passed through by the chart (templates/config.yaml:
        # `limits_config: toYaml`); retention_period is in Loki's configuration reference
        # (docs/sources/shared/configuration.md, same commit).
        assert unknown_keys(values(evaluation, "loki"), loki_defaults, {"loki.limits_config"}) == []
    # The key check is not vacuous: the nested maps it walks are the chart's own.
    assert unknown_keys({"singleBinary": {"persistance": {}}}, loki_defaults, set()) == ["singleBinary.persistance"]
    assert unknown_keys({"alloy": {"mount": {}}}, alloy_defaults, set()) == ["alloy.mount"]


def rendered(evaluation: Evaluation, chart: str) -> list[dict[str, Any]]:
    return render(chart, values(evaluation, chart), release=chart, namespace=MONITORING_NAMESPACE)


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def test_rendered_charts_pass_strict_validation(byo: Evaluation, aws: Evaluation) -> None:
    checked = 0
    for evaluation in (byo, aws):
        for chart in ("alloy", "loki"):
            for document in rendered(evaluation, chart):
                for version in KUBERNETES_VERSIONS:
                    kubernetes_validate.validate(document, version, strict=True)
                checked += 1
    assert checked >= 2 * (5 + 6)


def test_the_collector_runs_on_every_node_including_materializes(aws: Evaluation) -> None:
    objects = rendered(aws, "alloy")
    (daemon_set,) = of_kind(objects, "DaemonSet")
    assert not of_kind(objects, "Deployment") and not of_kind(objects, "StatefulSet")
    pod = daemon_set["spec"]["template"]["spec"]
    # The aws target taints its Materialize nodes (node_group.py); clusterd runs there.
    assert MATERIALIZE_TAINT.to_kubernetes() in pod["tolerations"]
    assert "nodeSelector" not in pod and "affinity" not in pod
    assert daemon_set["spec"]["template"]["metadata"]["labels"].items() >= COLLECTOR_LABELS.items()
    (container,) = [c for c in pod["containers"] if c["name"] == "alloy"]
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert mounts["varlog"]["mountPath"] == "/var/log" and mounts["varlog"]["readOnly"] is True
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["alloy-state"]["hostPath"]["path"] == ALLOY_STATE_HOST_PATH
    assert f"--storage.path={mounts['alloy-state']['mountPath']}" in container["args"]
    assert "--disable-reporting" in container["args"]
    # The chart names the node in HOSTNAME, which the pipeline's discovery selects by.
    env = {e["name"]: e for e in container["env"]}
    assert env["HOSTNAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    # Nothing listens for it: no Service.
    assert not of_kind(objects, "Service")


def test_loki_waits_for_the_monitoring_namespace_and_so_for_the_targets_storage_class(aws: Evaluation) -> None:
    (namespace,) = [
        r for r in aws.of_type("kubernetes:core/v1:Namespace") if r.inputs["metadata"]["name"] == MONITORING_NAMESPACE
    ]
    loki = release(aws, "loki")
    assert namespace.urn in loki.dependencies
    # aws: the gp3 class (MonitoringSupport.ready) comes before the namespace, and Loki's claim names it.
    (storage_class,) = aws.of_type("kubernetes:storage.k8s.io/v1:StorageClass")
    assert storage_class.urn in namespace.dependencies
    persistence = loki.inputs["values"]["singleBinary"]["persistence"]
    assert persistence["storageClass"] == storage_class.inputs["metadata"]["name"]


def test_the_system_only_placement_does_not_reach_the_collector(byo: Evaluation) -> None:
    controller = values(byo, "alloy")["controller"]
    assert "nodeSelector" not in controller
    assert values(byo, "loki")["singleBinary"]["nodeSelector"] == {"workload": "system"}


def config_text(evaluation: Evaluation) -> str:
    (config_map,) = [c for c in rendered(evaluation, "alloy") if c["kind"] == "ConfigMap"]
    return config_map["data"]["config.alloy"]


def test_the_pipeline_reads_materializes_and_the_operators_logs(byo: Evaluation) -> None:
    text = config_text(byo)
    assert text.strip() == values(byo, "alloy")["alloy"]["configMap"]["content"].strip()
    names = re.search(r"names = \[(.*)\]", text)
    assert names is not None
    assert json.loads(f"[{names.group(1)}]") == sorted(["materialize-prod", "mz-dev", OPERATOR_NAMESPACE])
    assert 'field = "spec.nodeName=" + sys.env("HOSTNAME")' in text
    assert 'replacement = "/var/log/pods/*$1/*.log"' in text and "stage.cri" in text
    # Balanced braces: every block the generator opens it closes.
    assert text.count("{") == text.count("}")
    forward = re.search(r"forward_to = \[(loki\.write\.loki\.receiver.*)\]", text)
    assert forward is not None
    assert forward.group(1).split(", ") == [
        "loki.write.loki.receiver",
        "loki.write.export_0.receiver",
        "otelcol.receiver.loki.export_1.receiver",
    ]
    assert f'url = "{LOKI_PUSH_URL}"' in text
    assert 'endpoint = "https://otel.example.com:4318"' in text


def test_every_component_the_pipeline_names_is_declared_once(byo: Evaluation) -> None:
    text = config_text(byo)
    declared = re.findall(r'^([a-z][a-z_.]*) "(\w+)" \{$', text, flags=re.MULTILINE)
    assert len(declared) == len(set(declared))
    referenced = set(
        re.findall(
            r"\b((?:discovery|loki|otelcol)\.[a-z_.]+?)\.(\w+)\.(?:receiver|input|targets|output|handler)\b", text
        )
    )
    assert referenced and referenced <= set(declared), referenced - set(declared)
    # Every writer and exporter is fed: nothing declared is left dangling.
    sinks = {d for d in declared if d[0] in ("loki.write", "otelcol.exporter.otlphttp", "otelcol.receiver.loki")}
    assert sinks and sinks <= referenced
    assert {component for component, _ in declared} == {
        "discovery.kubernetes",
        "discovery.relabel",
        "loki.source.file",
        "loki.process",
        "loki.write",
        "otelcol.auth.bearer",
        "otelcol.exporter.otlphttp",
        "otelcol.receiver.loki",
    }


def test_each_protocol_takes_each_kind_of_credential() -> None:
    swapped = [
        {"url": "https://logs.example.com/loki/api/v1/push", "bearerToken": LOG_TOKEN},
        {"url": "https://otel.example.com", "protocol": "otlp", "username": "mz", "password": LOG_PASSWORD},
        {"url": "https://open.example.com/loki/api/v1/push"},
    ]
    config = byo_config(monitoring={"logs": {"enabled": True, "loki": False, "export": swapped}})
    logs = load_settings(config, frozenset({"licenseKey", "monitoring"})).monitoring.logs
    text = alloy_config(logs, ["materialize-prod"], export_secrets(logs))
    assert 'bearer_token = sys.env("LOG_EXPORT_0_TOKEN")' in text
    assert re.search(
        r'otelcol\.auth\.basic "export_1" \{\s*client_auth \{\s*username = sys\.env\("LOG_EXPORT_1_USERNAME"\)\s*'
        r'password = sys\.env\("LOG_EXPORT_1_PASSWORD"\)',
        text,
    )
    assert "auth     = otelcol.auth.basic.export_1.handler" in text
    # An endpoint without credentials gets no Secret and no environment.
    assert export_secrets(logs)[2] is None and "LOG_EXPORT_2" not in text
    assert "loki.write.loki" not in text and LOG_TOKEN not in text and LOG_PASSWORD not in text


def test_loki_is_one_pod_on_one_volume_with_retention(byo: Evaluation) -> None:
    objects = rendered(byo, "loki")
    workloads = [o for o in objects if o["kind"] in ("Deployment", "DaemonSet", "StatefulSet", "Pod", "Job")]
    assert [(o["kind"], o["metadata"]["name"]) for o in workloads] == [("StatefulSet", "loki")]
    (stateful_set,) = workloads
    assert stateful_set["spec"]["replicas"] == 1
    (claim,) = stateful_set["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "40Gi"
    assert "storageClassName" not in claim["spec"]  # byo: the cluster's default class
    # The volume outlives the StatefulSet (the chart's default would delete it with it).
    assert stateful_set["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Retain"
    pod = stateful_set["spec"]["template"]
    assert pod["metadata"]["labels"].items() >= LOKI_POD_LABELS.items()
    containers = {c["name"]: c for c in pod["spec"]["containers"]}
    assert set(containers) == {"loki"}  # no rules sidecar watching the cluster
    assert containers["loki"]["resources"]["requests"] and containers["loki"]["resources"]["limits"]["memory"]
    (config_map,) = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "loki"]
    config = yaml.safe_load(config_map["data"]["config.yaml"])
    assert config["limits_config"]["retention_period"] == "336h"
    assert config["compactor"]["retention_enabled"] is True
    assert config["compactor"]["delete_request_store"] == "filesystem"
    assert config["schema_config"]["configs"][0]["index"]["period"] == "24h"
    assert config["common"]["storage"] == {
        "filesystem": {"chunks_directory": "/var/loki/chunks", "rules_directory": "/var/loki/rules"}
    }
    assert config["auth_enabled"] is False and config["analytics"]["reporting_enabled"] is False
    # The collector's push URL and Grafana's datasource name the Service the chart renders.
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    assert LOKI_HTTP_PORT in [p["port"] for p in services["loki"]["spec"]["ports"]]
    assert LOKI_PUSH_URL.startswith(f"http://loki.{MONITORING_NAMESPACE}.svc:{LOKI_HTTP_PORT}/")
    assert services["loki"]["spec"]["selector"].items() >= LOKI_POD_LABELS.items()


def test_the_chart_dependencies_left_out_are_all_turned_off(byo: Evaluation) -> None:
    chart_yaml = yaml.safe_load((chart_dir("loki") / "Chart.yaml").read_text())
    merged = {**chart_defaults("loki"), **values(byo, "loki")}
    for dependency in chart_yaml["dependencies"]:
        node: Any = merged
        for part in dependency["condition"].split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        assert node is False, dependency["name"]
    assert values(byo, "alloy")["crds"] == {"create": False}


def test_the_storage_class_follows_logs_then_monitoring_then_the_target() -> None:
    def claim_class(monitoring: dict[str, Any], **config: Any) -> str | None:
        found = values(evaluate(byo_config(monitoring=monitoring, **config)), "loki")["singleBinary"]["persistence"]
        return found.get("storageClass")

    assert claim_class({"logs": {"enabled": True}}) is None
    assert claim_class({"storageClass": "fast", "logs": {"enabled": True}}) == "fast"
    assert claim_class({"storageClass": "fast", "logs": {"enabled": True, "storageClass": "cheap"}}) == "cheap"
    local = evaluate(example_stack("local", local={"storageClass": "standard"}, monitoring={"logs": {"enabled": True}}))
    assert values(local, "loki")["singleBinary"]["persistence"]["storageClass"] == "standard"


def test_credentials_go_through_secrets_never_helm_values(byo: Evaluation) -> None:
    for chart_release in byo.of_type(RELEASE):
        text = json.dumps(chart_release.inputs["values"])
        for secret in (LICENSE_KEY, LOG_PASSWORD, LOG_TOKEN):
            assert secret not in text
        assert not chart_release.secret_paths
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in values(byo, "alloy")["alloy"]["extraEnv"]}
    assert env == {
        "LOG_EXPORT_0_USERNAME": {"name": "log-export-0", "key": "username"},
        "LOG_EXPORT_0_PASSWORD": {"name": "log-export-0", "key": "password"},
        "LOG_EXPORT_1_TOKEN": {"name": "log-export-1", "key": "token"},
    }
    text = config_text(byo)
    for name in env:
        assert f'sys.env("{name}")' in text
    by_name = {s.inputs["metadata"]["name"]: s for s in byo.of_type(SECRET)}
    basic, bearer = by_name["log-export-0"], by_name["log-export-1"]
    assert basic.inputs["stringData"] == {"username": "mz", "password": LOG_PASSWORD}
    assert basic.is_secret("stringData.password") and bearer.is_secret("stringData.token")
    assert bearer.inputs["stringData"] == {"token": LOG_TOKEN}
    collector = release(byo, "alloy")
    for secret in (basic, bearer):
        assert secret.inputs["metadata"]["namespace"] == MONITORING_NAMESPACE
        assert secret.urn in collector.dependencies


def test_the_policy_pack_finds_no_credential_in_the_logging_values(byo: Evaluation) -> None:
    releases = [r for r in byo.of_type(RELEASE) if r.inputs["chart"] in ("alloy", "loki")]
    assert len(releases) == 2
    diagnostics = Analyzer(POLICIES, stack_tags=None).run(releases)
    assert [d for d in diagnostics if d.policy == "no-secrets-in-helm-values"] == []


def test_a_log_export_credential_in_plain_text_is_refused() -> None:
    config = byo_config(monitoring={"logs": {"enabled": True, "export": [EXPORTS[1]]}})
    with pytest.raises(pulumi.RunError) as error:
        load_settings(config, frozenset({"licenseKey"}))
    assert "materialize:monitoring.logs.export[0]" in str(error.value) and "--secret" in str(error.value)
    assert LOG_TOKEN not in str(error.value)


@pytest.mark.parametrize(
    ("monitoring", "expected"),
    [
        ({"logs": {"retention": "36h"}}, ["materialize:monitoring.logs.retention", "'36h'", "7d or 2w"]),
        ({"logs": {"retention": "0d"}}, ["materialize:monitoring.logs.retention", "'0d'"]),
        ({"logs": {"storage": "big"}}, ["materialize:monitoring.logs.storage", "'big'", "Kubernetes quantity"]),
        ({"logs": {"storageClass": "Fast_SSD"}}, ["materialize:monitoring.logs.storageClass", "Fast_SSD"]),
        ({"logs": {"enabled": True, "loki": False}}, ["materialize:monitoring.logs", "kept nowhere"]),
        (
            {"enabled": False, "logs": {"enabled": True}},
            ["materialize:monitoring", "logs.enabled needs monitoring.enabled"],
        ),
        ({"logs": {"export": [{"url": "http://l.example.com"}]}}, ["logs.export[0].url", "https://"]),
        (
            {"logs": {"export": [{"url": "https://l.example.com", "protocol": "syslog"}]}},
            ["materialize:monitoring.logs.export[0].protocol", "'syslog'", "'loki' or 'otlp'"],
        ),
        (
            {"logs": {"export": [{"url": "https://l.example.com", "username": "u"}]}},
            ["logs.export[0]", "username and password go together"],
        ),
        ({"logs": {"enabeld": True}}, ["materialize:monitoring.logs.enabeld", "did you mean 'enabled'"]),
    ],
)
def test_bad_log_settings_are_refused_cleanly(monitoring: dict[str, Any], expected: list[str]) -> None:
    with pytest.raises(pulumi.RunError) as error:
        load_settings(byo_config(monitoring=monitoring), frozenset({"licenseKey"}))
    for fragment in expected:
        assert fragment in str(error.value)


def test_grafana_gets_a_loki_datasource_only_with_loki_and_grafana(byo: Evaluation) -> None:
    def datasources(evaluation: Evaluation) -> list[Registered]:
        return [
            c
            for c in evaluation.of_type(CONFIG_MAP)
            if c.inputs["metadata"].get("labels", {}).get(DATASOURCE_LABEL[0]) == DATASOURCE_LABEL[1]
        ]

    (found,) = datasources(byo)
    # kube-prometheus-stack's Grafana sidecar loads ConfigMaps with this label from its namespace.
    sidecar = chart_defaults("kube-prometheus-stack")["grafana"]["sidecar"]["datasources"]
    assert (sidecar["enabled"], sidecar["label"], sidecar["labelValue"]) == (True, *DATASOURCE_LABEL)
    assert found.inputs["metadata"]["namespace"] == MONITORING_NAMESPACE
    ((file_name, text),) = found.inputs["data"].items()
    assert file_name.endswith(".yaml")
    (source,) = yaml.safe_load(text)["datasources"]
    assert (source["type"], source["url"]) == ("loki", LOKI_QUERY_URL)
    assert source["uid"] != sidecar["uid"]  # not the Prometheus datasource's
    no_grafana = evaluate(byo_config(monitoring={"grafana": False, "logs": {"enabled": True}}))
    assert not datasources(no_grafana)
    export_only = byo_config(
        monitoring={"logs": {"enabled": True, "loki": False, "export": [{"url": EXPORTS[0]["url"]}]}}
    )
    exporting = evaluate(export_only)
    assert not datasources(exporting)
    assert not [r for r in exporting.of_type(RELEASE) if r.inputs["chart"] == "loki"]
    assert "loki.write.loki" not in values(exporting, "alloy")["alloy"]["configMap"]["content"]


def test_every_plain_kubernetes_object_passes_strict_validation(byo: Evaluation, aws: Evaluation) -> None:
    checked = 0
    for evaluation in (byo, aws):
        logging = evaluation.one(LOGGING).urn
        for registered in evaluation.registered:
            if is_plain_object(registered) and _under(evaluation, registered, logging):
                validate_strict(registered)
                checked += 1
    # byo: two Secrets, the datasource, two policies; aws: the datasource, two policies.
    assert checked == 5 + 3


COLLECTOR = Pod(MONITORING_NAMESPACE, {"app.kubernetes.io/name": "alloy", **COLLECTOR_LABELS})
LOKI = Pod(MONITORING_NAMESPACE, {**LOKI_POD_LABELS, "app.kubernetes.io/component": "single-binary"})
GRAFANA = Pod(MONITORING_NAMESPACE, {"app.kubernetes.io/name": "grafana"})
DNS = Pod("kube-system", {"k8s-app": "kube-dns"})
ENVIRONMENTD = Pod("materialize-prod", {"app": "environmentd"})
OTHER = Pod("default", {"app": "curious"})
OUTSIDE = Address("203.0.113.7")


def program_policies(evaluation: Evaluation) -> list[Policy]:
    return registered_policies(evaluation.of_type(NETWORK_POLICY))


def test_the_collector_reaches_what_it_must_and_nothing_more(byo: Evaluation) -> None:
    found = program_policies(byo)
    assert allowed(found, COLLECTOR, LOKI, LOKI_HTTP_PORT)
    assert allowed(found, COLLECTOR, DNS, 53, "UDP") and allowed(found, COLLECTOR, DNS, 53)
    assert allowed(found, COLLECTOR, OUTSIDE, 443)  # the API server (byo: any address) and the Loki export
    assert allowed(found, COLLECTOR, OUTSIDE, 4318)  # the OTLP export's port
    for target, port in ((ENVIRONMENTD, 6875), (ENVIRONMENTD, 6878), (LOKI, 9095), (GRAFANA, 3000)):
        assert not allowed(found, COLLECTOR, target, port), (target, port)
    assert not allowed(found, COLLECTOR, OUTSIDE, 22)


def test_loki_admits_the_monitoring_namespace_only(byo: Evaluation) -> None:
    found = program_policies(byo)
    assert allowed(found, GRAFANA, LOKI, LOKI_HTTP_PORT)
    assert allowed(found, LOKI, LOKI, 7946) and allowed(found, LOKI, LOKI, 9095)
    assert not allowed(found, OTHER, LOKI, LOKI_HTTP_PORT)
    assert not allowed(found, ENVIRONMENTD, LOKI, LOKI_HTTP_PORT)


def test_logging_policies_follow_the_switches() -> None:
    def names(evaluation: Evaluation) -> set[str]:
        return {p["name"] for p in program_policies(evaluation) if p["namespace"] == MONITORING_NAMESPACE}

    on = names(evaluate(byo_config(monitoring={"logs": {"enabled": True}})))
    assert {"log-collector-egress", "loki-ingress"} <= on
    export_only = {"enabled": True, "loki": False, "export": [{"url": "https://l.example.com:8443/push"}]}
    exporting = evaluate(byo_config(monitoring={"logs": export_only}))
    assert "loki-ingress" not in names(exporting)

    def egress_ports(evaluation: Evaluation) -> set[int]:
        (egress,) = [p for p in program_policies(evaluation) if p["name"] == "log-collector-egress"]
        return {port["port"] for rule in egress["spec"]["egress"] for port in rule.get("ports", [])}

    # Beside DNS and the API server: Loki's port, or the export's.
    plain = egress_ports(evaluate(byo_config(monitoring={"logs": {"enabled": True}})))
    assert egress_ports(exporting) - plain == {8443}
    assert plain - egress_ports(exporting) == {LOKI_HTTP_PORT}
    assert not names(evaluate(byo_config(networkPolicies=False, monitoring={"logs": {"enabled": True}})))
