"""The observability stack under mocks: releases, values, scrapes, dashboards, secrets, off switch."""

from __future__ import annotations

import json
import re
from typing import Any

import pulumi
import pytest

from components.dataplane.monitoring_values import (
    BALANCERD_METRICS_PORT,
    CADVISOR_METRIC_RELABELINGS,
    ENVIRONMENTD_METRICS_PORT,
    MONITORING_NAMESPACE,
    OPERATOR_METRICS_PORT,
    SCRAPER_LABELS,
    STACK_CHART,
    STACK_REPO,
    STACK_VERSION,
)
from components.dataplane.operator import OPERATOR_NAMESPACE
from components.settings import load_settings
from policy.materialize_policies import POLICIES
from tests.harness.kubernetes_objects import is_plain_object, validate_strict
from tests.harness.stack import LICENSE_KEY, Evaluation, byo_config, evaluate, example_stack, operator_values
from tests.policy.harness import Analyzer
from tests.support.chart_values import CHARTS, chart_defaults, unknown_keys
from tests.support.reference_data import reference_text
from tools.offline.mocks import Registered

RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
MONITORING = "materialize:dataplane:Monitoring"
WRITE_PASSWORD = "remote-write-password-not-real"
WRITE_TOKEN = "remote-write-token-not-real"
INSTANCES = [{"name": "prod"}, {"name": "dev", "namespace": "mz-dev"}]


@pytest.fixture(scope="module")
def local() -> Evaluation:
    return evaluate(example_stack("local"))


@pytest.fixture(scope="module")
def byo() -> Evaluation:
    """Two instances, system-node placement, and two remote-write endpoints with credentials."""
    monitoring = {
        "retention": "30d",
        "storage": "100Gi",
        "remoteWrite": [
            {"url": "https://metrics.example.com/api/v1/write", "username": "mz", "password": WRITE_PASSWORD},
            {"url": "https://otel.example.com:8443/v1/write", "bearerToken": WRITE_TOKEN},
        ],
    }
    config = byo_config(
        instances=INSTANCES,
        metadataBackendUrl="postgres://materialize@db.example.internal:5432/{instance}?sslmode=require",
        persistBackendUrl="s3://materialize-persist/{instance}?region=us-east-1",
        nodePlacement={"system": {"nodeSelector": {"workload": "system"}}},
        monitoring=monitoring,
    )
    return evaluate(config, secret_keys=("licenseKey", "monitoring"))


def release(evaluation: Evaluation, chart: str) -> Registered:
    found = [r for r in evaluation.of_type(RELEASE) if r.inputs["chart"] == chart]
    assert len(found) == 1, f"expected one {chart} release, found {len(found)}"
    return found[0]


def stack(evaluation: Evaluation) -> dict[str, Any]:
    return release(evaluation, STACK_CHART).inputs["values"]


def jobs(evaluation: Evaluation) -> dict[str, dict[str, Any]]:
    scrape = stack(evaluation)["prometheus"]["prometheusSpec"]["additionalScrapeConfigs"]
    return {job["job_name"]: job for job in scrape}


def kept(job: dict[str, Any], source: str) -> str:
    """The regex a job keeps `source` to (every job keeps its pods' label and port)."""
    rules = [r for r in job["relabel_configs"] if r.get("action") == "keep" and r["source_labels"] == [source]]
    assert len(rules) == 1, f"{job['job_name']} keeps {source} {len(rules)} times"
    return rules[0]["regex"]


def test_releases_are_pinned_from_the_official_repositories(local: Evaluation, byo: Evaluation) -> None:
    for evaluation in (local, byo):
        stack_release = release(evaluation, STACK_CHART)
        assert stack_release.inputs["version"] == STACK_VERSION == "88.5.3"
        assert stack_release.inputs["repositoryOpts"]["repo"] == STACK_REPO
        assert stack_release.inputs["namespace"] == MONITORING_NAMESPACE
        assert stack_release.inputs["atomic"] is True
    # kind has no metrics-server: the local target says so through the contract; byo clusters have one.
    metrics_server = release(local, "metrics-server")
    assert metrics_server.inputs["version"] == "3.13.0"
    assert metrics_server.inputs["repositoryOpts"]["repo"] == "https://kubernetes-sigs.github.io/metrics-server/"
    assert metrics_server.inputs["values"]["args"] == ["--kubelet-insecure-tls"]
    assert not [r for r in byo.of_type(RELEASE) if r.inputs["chart"] == "metrics-server"]
    assert stack(local)["crds"]["enabled"] is True


def test_metrics_server_can_be_forced_either_way() -> None:
    forced = evaluate(byo_config(monitoring={"metricsServer": True}))
    assert [r.inputs["namespace"] for r in forced.of_type(RELEASE) if r.inputs["chart"] == "metrics-server"] == [
        "kube-system"
    ]
    skipped = evaluate(example_stack("local", monitoring={"metricsServer": False}))
    assert not [r for r in skipped.of_type(RELEASE) if r.inputs["chart"] == "metrics-server"]


def test_console_pod_metrics_follow_monitoring(local: Evaluation) -> None:
    assert operator_values(local)["observability"]["podMetrics"]["enabled"] is True


def test_values_are_keys_the_pinned_charts_define(local: Evaluation, byo: Evaluation) -> None:
    # kube-prometheus-stack-88.5.3 (commit ea930bae...), grafana-12.11.1 (864f7794...),
    # kube-state-metrics-8.4.0 (1982f1c5...), metrics-server-helm-chart-3.13.0 (1a64100c...):
    # tests/support/chart_values.py pins each values.yaml by SHA-256.
    stack_defaults = chart_defaults("kube-prometheus-stack")
    grafana_defaults = {**chart_defaults("grafana"), **stack_defaults["grafana"]}
    state_defaults = chart_defaults("kube-state-metrics")
    for evaluation in (local, byo):
        values = stack(evaluation)
        own = {k: v for k, v in values.items() if k not in ("grafana", "kube-state-metrics")}
        assert unknown_keys(own, stack_defaults, set()) == []
        assert unknown_keys(values["grafana"], grafana_defaults, set()) == []
        assert unknown_keys(values["kube-state-metrics"], state_defaults, set()) == []
    server = release(local, "metrics-server").inputs["values"]
    assert unknown_keys(server, chart_defaults("metrics-server"), set()) == []
    monitoring_charts = {"kube-prometheus-stack", "grafana", "kube-state-metrics", "metrics-server"}
    assert monitoring_charts <= set(CHARTS)


def test_the_key_check_catches_a_misspelt_key() -> None:
    defaults = chart_defaults("kube-prometheus-stack")
    misspelt = {"prometheus": {"prometheusSpec": {"retension": "15d"}}, "alertmanager": {"enabled": False}}
    assert unknown_keys(misspelt, defaults, set()) == ["prometheus.prometheusSpec.retension"]


def test_prometheus_keeps_its_data_on_a_volume_with_retention(local: Evaluation, byo: Evaluation) -> None:
    spec = stack(byo)["prometheus"]["prometheusSpec"]
    assert spec["retention"] == "30d"
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    # byo: the cluster's default StorageClass (no storageClassName at all).
    assert claim == {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "100Gi"}}}
    assert spec["nodeSelector"] == {"workload": "system"}
    assert stack(byo)["grafana"]["nodeSelector"] == {"workload": "system"}
    assert stack(byo)["prometheusOperator"]["nodeSelector"] == {"workload": "system"}
    local_spec = stack(local)["prometheus"]["prometheusSpec"]
    assert local_spec["retention"] == "15d"
    assert local_spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"] == "50Gi"


def test_storage_class_comes_from_the_target_or_the_setting() -> None:
    local = evaluate(example_stack("local", local={"storageClass": "standard"}))
    claim = stack(local)["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "standard"
    chosen = evaluate(byo_config(monitoring={"storageClass": "fast-ssd"}))
    claim = stack(chosen)["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "fast-ssd"


def test_scrape_configuration_names_every_component_with_a_real_port(byo: Evaluation) -> None:
    found = jobs(byo)
    # The operator chart's own NetworkPolicy lets the operator reach environmentd on its
    # internal HTTP port, and its Deployment names port 3100 `metrics` (reference data
    # operator-chart-networkpolicy.v26.37-era.yaml, rendered from commit 942b3d35 / 7aa0d202).
    chart_policy = reference_text("operator-chart-networkpolicy.v26.37-era.yaml")
    assert f"- port: {ENVIRONMENTD_METRICS_PORT}" in chart_policy
    assert f"{OPERATOR_METRICS_PORT} (metrics)" in chart_policy
    # balancerd's internal HTTP port (readiness, liveness and /metrics): `balancerd_internal_http_port`
    # defaults to 8080 (src/orchestratord/src/controller/materialize.rs, commit 01c706b7).
    expected = {
        "materialize-environmentd": (ENVIRONMENTD_METRICS_PORT, "/metrics", "app", "environmentd"),
        "materialize-environmentd-mz-compute": (
            ENVIRONMENTD_METRICS_PORT,
            "/metrics/mz_compute",
            "app",
            "environmentd",
        ),
        "materialize-environmentd-mz-frontier": (6878, "/metrics/mz_frontier", "app", "environmentd"),
        "materialize-environmentd-mz-storage": (6878, "/metrics/mz_storage", "app", "environmentd"),
        "materialize-environmentd-mz-usage": (6878, "/metrics/mz_usage", "app", "environmentd"),
        # clusterd's port hint `internal-http` is 6878 (src/controller/src/clusters.rs, commit 01a5b91b).
        "materialize-clusterd": (6878, "/metrics", "cluster_environmentd_materialize_cloud_type", "cluster"),
        "materialize-balancerd": (BALANCERD_METRICS_PORT, "/metrics", "app", "balancerd"),
        "materialize-operator": (3100, "/metrics", "app_kubernetes_io_name", "materialize-operator"),
    }
    assert set(found) == set(expected)
    for name, (port, path, label, value) in expected.items():
        job = found[name]
        assert kept(job, "__meta_kubernetes_pod_container_port_number") == str(port), name
        assert kept(job, f"__meta_kubernetes_pod_label_{label}") == value, name
        assert job["metrics_path"] == path
        namespaces = job["kubernetes_sd_configs"][0]["namespaces"]["names"]
        if name == "materialize-operator":
            assert namespaces == [OPERATOR_NAMESPACE]
            continue
        assert namespaces == ["materialize-prod", "mz-dev"]
        # The operator chart's scrape annotations (observability.prometheus.scrapeAnnotations) mark these pods.
        assert kept(job, "__meta_kubernetes_pod_annotation_prometheus_io_scrape") == "true"
    # The SQL-derived endpoints answer the internal mz_support role, which has no password.
    assert found["materialize-environmentd-mz-usage"]["basic_auth"] == {"username": "mz_support"}
    assert BALANCERD_METRICS_PORT == 8080 and OPERATOR_METRICS_PORT == 3100


def test_the_operator_chart_annotates_pods_for_scraping_by_default() -> None:
    # The scrape jobs keep only annotated pods: the chart's default must annotate them.
    text = reference_text("operator-values.7aa0d202.yaml")
    block = text.split("observability:", 1)[1].split("telemetry:", 1)[0]
    assert re.search(r"scrapeAnnotations:\n(\s+#.*\n)*\s+enabled: true", block), block


def test_cadvisor_keeps_swap_which_the_chart_drops_by_default(local: Evaluation) -> None:
    defaults = chart_defaults("kube-prometheus-stack")["kubelet"]["serviceMonitor"]["cAdvisorMetricRelabelings"]

    def dropped(rules: list[dict[str, Any]], metric: str) -> bool:
        return any(
            r.get("action") == "drop" and r["sourceLabels"] == ["__name__"] and re.fullmatch(r["regex"], metric)
            for r in rules
        )

    assert dropped(defaults, "container_memory_swap"), "the chart's default no longer drops swap: drop the override"
    ours = stack(local)["kubelet"]["serviceMonitor"]["cAdvisorMetricRelabelings"]
    assert ours == CADVISOR_METRIC_RELABELINGS
    for metric in ("container_memory_swap", "container_memory_working_set_bytes", "container_cpu_usage_seconds_total"):
        assert not dropped(ours, metric)


def dashboards(evaluation: Evaluation) -> dict[str, dict[str, Any]]:
    found = {}
    for config_map in evaluation.of_type(CONFIG_MAP):
        if config_map.inputs["metadata"].get("labels", {}).get("grafana_dashboard") == "1":
            assert config_map.inputs["metadata"]["namespace"] == MONITORING_NAMESPACE
            ((file_name, text),) = config_map.inputs["data"].items()
            found[file_name] = json.loads(text)
    return found


def test_dashboards_are_valid_json_with_a_query_per_panel(local: Evaluation) -> None:
    found = dashboards(local)
    assert set(found) == {f"materialize-{n}.json" for n in ("replicas", "freshness", "queries", "health")}
    values = stack(local)
    defaults = chart_defaults("kube-prometheus-stack")["grafana"]["sidecar"]
    # The sidecar loads ConfigMaps with exactly this label; the datasource uid is the chart's default one.
    assert values["grafana"]["sidecar"]["dashboards"]["label"] == defaults["dashboards"]["label"]
    assert values["grafana"]["sidecar"]["dashboards"]["labelValue"] == "1"
    uid = defaults["datasources"]["uid"]
    exprs = []
    for name, model in found.items():
        assert model["uid"] == name.removesuffix(".json") and model["panels"], name
        for panel in model["panels"]:
            assert panel["datasource"]["uid"] == uid
            assert panel["targets"], f"{name}: panel {panel['title']} has no query"
            for target in panel["targets"]:
                expr = target["expr"]
                assert expr.strip() and expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}")
                exprs.append(expr)
    text = "\n".join(exprs)
    for metric in (
        "container_memory_swap",
        "container_cpu_usage_seconds_total",
        "mz_dataflow_wallclock_lag_seconds",
        "mz_query_total",
        "mz_time_to_first_row_seconds_bucket",
        "mz_persist_blob_failures",
        "mz_persist_consensus_failures",
    ):
        assert metric in text


def secret_strings(evaluation: Evaluation) -> list[str]:
    return [LICENSE_KEY, WRITE_PASSWORD, WRITE_TOKEN] + [
        r.state["result"] for r in evaluation.of_type("random:index/randomPassword:RandomPassword")
    ]


def test_credentials_go_through_secrets_never_helm_values(byo: Evaluation) -> None:
    for chart_release in byo.of_type(RELEASE):
        text = json.dumps(chart_release.inputs["values"])
        for secret in secret_strings(byo):
            assert secret not in text
        assert not chart_release.secret_paths
    values = stack(byo)
    remote_write = values["prometheus"]["prometheusSpec"]["remoteWrite"]
    assert remote_write == [
        {
            "url": "https://metrics.example.com/api/v1/write",
            "basicAuth": {
                "username": {"name": "remote-write-0", "key": "username"},
                "password": {"name": "remote-write-0", "key": "password"},
            },
        },
        {
            "url": "https://otel.example.com:8443/v1/write",
            "authorization": {"type": "Bearer", "credentials": {"name": "remote-write-1", "key": "token"}},
        },
    ]
    by_name = {s.inputs["metadata"]["name"]: s for s in byo.of_type(SECRET)}
    basic, bearer, admin = by_name["remote-write-0"], by_name["remote-write-1"], by_name["grafana-admin"]
    assert basic.inputs["stringData"]["password"] == WRITE_PASSWORD and basic.is_secret("stringData.password")
    assert bearer.inputs["stringData"] == {"token": WRITE_TOKEN} and bearer.is_secret("stringData.token")
    assert admin.is_secret("stringData.admin-password")
    for secret in (basic, bearer, admin):
        assert secret.inputs["metadata"]["namespace"] == MONITORING_NAMESPACE
        release_urn = release(byo, STACK_CHART).urn
        assert secret.urn in byo.by_urn(release_urn).dependencies
    assert values["grafana"]["admin"] == {"existingSecret": "grafana-admin"}
    keys = chart_defaults("kube-prometheus-stack")["grafana"]["admin"]
    assert set(admin.inputs["stringData"]) == {keys["userKey"], keys["passwordKey"]}
    assert "adminPassword" not in values["grafana"]


def test_a_remote_write_credential_in_plain_text_is_refused() -> None:
    config = byo_config(
        monitoring={"remoteWrite": [{"url": "https://m.example.com/write", "bearerToken": WRITE_TOKEN}]}
    )
    with pytest.raises(pulumi.RunError) as error:
        load_settings(config, frozenset({"licenseKey"}))
    assert "materialize:monitoring.remoteWrite[0]" in str(error.value) and "--secret" in str(error.value)
    assert WRITE_TOKEN not in str(error.value)


@pytest.mark.parametrize(
    ("monitoring", "expected"),
    [
        ({"retention": "forever"}, ["materialize:monitoring.retention", "'forever'", "Prometheus duration"]),
        ({"storage": "lots"}, ["materialize:monitoring.storage", "'lots'", "Kubernetes quantity"]),
        ({"remoteWrite": [{"url": "http://m.example.com/write"}]}, ["remoteWrite[0].url", "https://"]),
        ({"remoteWrite": [{"url": "https://m.example.com", "username": "u"}]}, ["username and password go together"]),
        ({"grafanna": True}, ["materialize:monitoring.grafanna", "did you mean 'grafana'"]),
    ],
)
def test_bad_monitoring_settings_are_refused_cleanly(monitoring: dict[str, Any], expected: list[str]) -> None:
    with pytest.raises(pulumi.RunError) as error:
        load_settings(byo_config(monitoring=monitoring), frozenset({"licenseKey"}))
    for fragment in expected:
        assert fragment in str(error.value)


def test_monitoring_disabled_removes_all_of_it() -> None:
    on = evaluate(example_stack("local"))
    off = evaluate(example_stack("local", monitoring={"enabled": False}))
    assert not off.of_type(MONITORING)
    assert not [r for r in off.registered if "monitoring" in r.name]
    assert not [r for r in off.of_type(RELEASE) if r.inputs["chart"] in (STACK_CHART, "metrics-server")]
    assert not dashboards(off)
    assert operator_values(off)["observability"]["podMetrics"]["enabled"] is False
    added = {r.urn for r in on.registered} - {r.urn for r in off.registered}
    # Everything monitoring adds sits under its component; nothing else changes.
    monitoring_urn = on.one(MONITORING).urn
    assert len(added) > 10
    for urn in added:
        assert urn == monitoring_urn or _under(on, on.by_urn(urn), monitoring_urn), urn


def test_every_plain_kubernetes_object_passes_strict_validation(local: Evaluation, byo: Evaluation) -> None:
    checked = 0
    for evaluation in (local, byo):
        monitoring = evaluation.one(MONITORING).urn
        for registered in evaluation.registered:
            if is_plain_object(registered) and _under(evaluation, registered, monitoring):
                validate_strict(registered)
                checked += 1
    assert checked >= 2 * (1 + 1 + 4)  # namespace, admin secret, four dashboards per stack


def _under(evaluation: Evaluation, registered: Registered, ancestor: str) -> bool:
    parent = registered.parent
    while parent:
        if parent == ancestor:
            return True
        found = [r for r in evaluation.registered if r.urn == parent]
        if not found:
            return False
        parent = found[0].parent
    return False


def test_scraper_pods_carry_the_labels_the_policies_select(byo: Evaluation) -> None:
    pod_labels = stack(byo)["prometheus"]["prometheusSpec"]["podMetadata"]["labels"]
    assert pod_labels == SCRAPER_LABELS


def test_the_policy_pack_finds_no_credential_in_the_monitoring_values(byo: Evaluation) -> None:
    releases = [r for r in byo.of_type(RELEASE) if r.inputs["chart"] == STACK_CHART]
    diagnostics = Analyzer(POLICIES, stack_tags=None).run(releases)
    assert [d for d in diagnostics if d.policy == "no-secrets-in-helm-values"] == []


def test_monitoring_waits_for_the_instance_namespaces_not_for_the_instances(byo: Evaluation) -> None:
    namespaces = {
        r.inputs["metadata"]["name"]: r.urn
        for r in byo.of_type("kubernetes:core/v1:Namespace")
        if r.inputs["metadata"]["name"] in ("materialize-prod", "mz-dev")
    }
    assert len(namespaces) == 2
    for policy in byo.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy"):
        if policy.inputs["metadata"]["name"].startswith("metrics-"):
            assert namespaces[policy.inputs["metadata"]["namespace"]] in policy.dependencies
    materialize = {r.urn for r in byo.registered if r.type.endswith(":Materialize")}
    assert materialize
    stack_release = release(byo, STACK_CHART)
    assert not materialize & set(stack_release.dependencies)
