"""What the observability stack scrapes, and the Helm values of its charts.

Where Materialize's pods expose metrics (read in MaterializeInc/materialize):

- environmentd: container port `internal-http`, 6878 (`environmentd_internal_http_port`,
  src/orchestratord/src/controller/materialize.rs, commit 01c706b74d723371c4f32f075505fe2ac210bfb5),
  `/metrics`, and the SQL-derived `/metrics/mz_compute|mz_frontier|mz_storage|mz_usage`
  (annotations `materialize.prometheus.io/mz_*_path`), pod label `app: environmentd`
  (src/orchestratord/src/controller/materialize/environmentd.rs, commit
  034b6cf231b926bfcb78147de6dba385d7556c9e). The SQL-derived endpoints take the internal
  role `mz_support` with no password (MaterializeInc/materialize-monitoring
  charts/materialize-monitoring/values.yaml, `materialize.environmentdSQL.secret`, commit
  a28395ebb15b865afd310e49c73478215bd70fb5).
- clusterd: port `internal-http`, 6878 (its port hint, which the Kubernetes orchestrator uses
  as the container port: src/controller/src/clusters.rs, commit
  01a5b91b3e2c93863514073b878cd5681c9c8086), `/metrics`, pod label
  `cluster.environmentd.materialize.cloud/type: cluster` (src/orchestrator-kubernetes/src/lib.rs,
  commit 3df90aa633f268e45d594a8eb7da97dacd2079eb, prefixes the orchestrator's labels).
- balancerd: port `internal-http`, 8080 (`balancerd_internal_http_port`), `/metrics`, pod label
  `app: balancerd` (src/orchestratord/src/controller/materialize/balancer.rs, commit
  1c9c16cd19ab52517b4d5a20ab19e89ce3a38973).
- the operator: container port `metrics`, 3100 (misc/helm-charts/operator/templates/deployment.yaml,
  commit 0064e08b58f5d586b1e2d3d0765c32474321619f), pods labelled with the chart's selectorLabels.

With the operator chart's `observability.prometheus.scrapeAnnotations.enabled` (its default)
environmentd, clusterd and balancerd pods also carry `prometheus.io/scrape: "true"` and
`prometheus.io/port`; each job keeps only annotated pods on the exact port, so a pod the
chart stops annotating is no longer scraped rather than scraped on a guessed port.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.contract import Platform
from components.settings.monitoring import MonitoringSettings

# kube-prometheus-stack (prometheus-community/helm-charts, tag kube-prometheus-stack-88.5.3,
# commit ea930baeebeba39f56d6b44e351f23b2a072a600): Prometheus Operator v0.93.1, Grafana chart
# 12.11.1 (Grafana 13.2.0), kube-state-metrics 8.4.0, prometheus-node-exporter 4.56.1.
STACK_CHART = "kube-prometheus-stack"
STACK_REPO = "https://prometheus-community.github.io/helm-charts"
STACK_VERSION = "88.5.3"
STACK_RELEASE = "monitoring"
# metrics-server (kubernetes-sigs/metrics-server, tag metrics-server-helm-chart-3.13.0, commit
# 1a64100c33acf2d7dfa4439f20c75bc64d86983f: metrics-server v0.8.0), the version the aws target pins.
METRICS_SERVER_CHART = "metrics-server"
METRICS_SERVER_REPO = "https://kubernetes-sigs.github.io/metrics-server/"
METRICS_SERVER_VERSION = "3.13.0"

MONITORING_NAMESPACE = "monitoring"
# On every object of ours in that namespace (metrics and logs alike).
MONITORING_LABELS = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "materialize-monitoring"}
GRAFANA_ADMIN_SECRET = "grafana-admin"
# The label Grafana's dashboard sidecar watches (kube-prometheus-stack values
# `grafana.sidecar.dashboards.label` / `labelValue`).
DASHBOARD_LABEL = ("grafana_dashboard", "1")
# Put on the Prometheus pods (prometheusSpec.podMetadata) so network policies can name them.
SCRAPER_LABELS = {"app.kubernetes.io/part-of": "materialize-monitoring", "materialize.cloud/scraper": "prometheus"}
PROMETHEUS_PORT = 9090
GRAFANA_PORT = 3000

ENVIRONMENTD_METRICS_PORT = 6878
CLUSTERD_METRICS_PORT = 6878
BALANCERD_METRICS_PORT = 8080
OPERATOR_METRICS_PORT = 3100
SQL_EXPORTER_USER = "mz_support"
SQL_EXPORTER_SUBSYSTEMS = ("mz_compute", "mz_frontier", "mz_storage", "mz_usage")
# The SQL-derived endpoints run queries inside environmentd: scraped less often.
SQL_EXPORTER_INTERVAL = "1m"
CLUSTERD_LABEL_PREFIX = "cluster.environmentd.materialize.cloud/"


@dataclass(frozen=True)
class ScrapeTarget:
    """One Materialize component: whose pods, which port, which path."""

    component: str
    namespaces: tuple[str, ...]
    pod_label: tuple[str, str]
    port: int
    path: str = "/metrics"
    # The pods carry prometheus.io/scrape (the operator chart's scrape annotations).
    annotated: bool = True
    copied_labels: tuple[str, ...] = ()
    basic_auth_user: str | None = None
    interval: str | None = None


def scrape_targets(
    instance_namespaces: Sequence[str], operator_namespace: str, operator_app: str
) -> list[ScrapeTarget]:
    instances = tuple(sorted(instance_namespaces))
    cluster_labels = tuple(f"{CLUSTERD_LABEL_PREFIX}{label}" for label in ("cluster-id", "replica-id"))
    targets = [
        ScrapeTarget("environmentd", instances, ("app", "environmentd"), ENVIRONMENTD_METRICS_PORT),
        *(
            ScrapeTarget(
                f"environmentd-{subsystem.replace('_', '-')}",
                instances,
                ("app", "environmentd"),
                ENVIRONMENTD_METRICS_PORT,
                path=f"/metrics/{subsystem}",
                basic_auth_user=SQL_EXPORTER_USER,
                interval=SQL_EXPORTER_INTERVAL,
            )
            for subsystem in SQL_EXPORTER_SUBSYSTEMS
        ),
        ScrapeTarget(
            "clusterd",
            instances,
            (f"{CLUSTERD_LABEL_PREFIX}type", "cluster"),
            CLUSTERD_METRICS_PORT,
            copied_labels=cluster_labels,
        ),
        ScrapeTarget("balancerd", instances, ("app", "balancerd"), BALANCERD_METRICS_PORT),
        ScrapeTarget(
            "operator",
            (operator_namespace,),
            ("app.kubernetes.io/name", operator_app),
            OPERATOR_METRICS_PORT,
            annotated=False,
        ),
    ]
    return targets


def _meta_label(label: str) -> str:
    """A pod label as Prometheus' Kubernetes discovery names it."""
    return "__meta_kubernetes_pod_label_" + "".join(c if c.isalnum() else "_" for c in label)


def _target_label(label: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in label)


def scrape_config(target: ScrapeTarget) -> dict[str, Any]:
    """A Prometheus scrape job: pod discovery in the target's namespaces, kept to its port."""
    key, value = target.pod_label
    relabel: list[dict[str, Any]] = [
        {"source_labels": [_meta_label(key)], "regex": value, "action": "keep"},
        {"source_labels": ["__meta_kubernetes_pod_container_port_number"], "regex": str(target.port), "action": "keep"},
    ]
    if target.annotated:
        annotation = "__meta_kubernetes_pod_annotation_prometheus_io_scrape"
        relabel.append({"source_labels": [annotation], "regex": "true", "action": "keep"})
    relabel += [
        {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
        {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
        {"source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container"},
        {"target_label": "component", "replacement": target.component},
    ]
    relabel += [
        {"source_labels": [_meta_label(label)], "target_label": _target_label(label)} for label in target.copied_labels
    ]
    job: dict[str, Any] = {
        "job_name": f"materialize-{target.component}",
        "metrics_path": target.path,
        "scheme": "http",
        "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": list(target.namespaces)}}],
        "relabel_configs": relabel,
    }
    if target.interval is not None:
        job["scrape_interval"] = target.interval
    if target.basic_auth_user is not None:
        job["basic_auth"] = {"username": target.basic_auth_user}
    return job


@dataclass(frozen=True)
class RemoteWriteSecret:
    """Where one remote-write endpoint's credentials live (a Secret in the monitoring namespace)."""

    name: str
    basic_auth: bool
    bearer_token: bool


def remote_write_values(
    settings: MonitoringSettings, secrets: Sequence[RemoteWriteSecret | None]
) -> list[dict[str, Any]]:
    """prometheusSpec.remoteWrite: URLs, and only references to the Secrets that hold credentials."""
    entries: list[dict[str, Any]] = []
    for endpoint, secret in zip(settings.remote_write, secrets, strict=True):
        entry: dict[str, Any] = {"url": endpoint.url}
        if secret is not None and secret.basic_auth:
            entry["basicAuth"] = {
                "username": {"name": secret.name, "key": "username"},
                "password": {"name": secret.name, "key": "password"},
            }
        if secret is not None and secret.bearer_token:
            entry["authorization"] = {"type": "Bearer", "credentials": {"name": secret.name, "key": "token"}}
        entries.append(entry)
    return entries


# kube-prometheus-stack drops container_memory_swap from cAdvisor by default
# (values.yaml `kubelet.serviceMonitor.cAdvisorMetricRelabelings`); the replica
# swap panels need it, so the list is restated without that one drop.
CADVISOR_METRIC_RELABELINGS: list[dict[str, Any]] = [
    {
        "sourceLabels": ["__name__"],
        "action": "drop",
        "regex": "container_cpu_(cfs_throttled_seconds_total|load_average_10s|system_seconds_total|user_seconds_total)",
    },
    {"sourceLabels": ["__name__"], "action": "drop", "regex": "container_memory_mapped_file"},
    {"sourceLabels": ["__name__"], "action": "drop", "regex": "container_(file_descriptors|tasks_state|threads_max)"},
]


def stack_values(
    settings: MonitoringSettings,
    platform: Platform,
    scrape_jobs: Sequence[Mapping[str, Any]],
    remote_write: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """Helm values of kube-prometheus-stack; never a credential (they are Secret references)."""
    system = platform.system_nodes.helm_values()
    storage_class = settings.storage_class or platform.monitoring.storage_class
    claim: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": settings.storage}}}
    if storage_class is not None:
        claim["storageClassName"] = storage_class
    prometheus_spec: dict[str, Any] = {
        "retention": settings.retention,
        "scrapeInterval": settings.scrape_interval,
        "storageSpec": {"volumeClaimTemplate": {"spec": claim}},
        "podMetadata": {"labels": dict(SCRAPER_LABELS)},
        "additionalScrapeConfigs": [dict(job) for job in scrape_jobs],
        # Monitors a user adds later in any namespace are picked up too, not only this release's.
        "podMonitorSelectorNilUsesHelmValues": False,
        "serviceMonitorSelectorNilUsesHelmValues": False,
        **system,
    }
    if remote_write:
        prometheus_spec["remoteWrite"] = [dict(entry) for entry in remote_write]
    values: dict[str, Any] = {
        # CRDs come with the chart (its crds/ directory); nothing else installs them here.
        "crds": {"enabled": True},
        # No receiver is configured: alerts stay visible in Prometheus and Grafana instead.
        "alertmanager": {"enabled": False},
        # Managed control planes do not expose these; on kind they listen on localhost only.
        "kubeEtcd": {"enabled": False},
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "kubelet": {"serviceMonitor": {"cAdvisorMetricRelabelings": CADVISOR_METRIC_RELABELINGS}},
        "prometheusOperator": {**system, "admissionWebhooks": {"patch": dict(system)}},
        "prometheus": {"prometheusSpec": prometheus_spec},
        "kube-state-metrics": dict(system),
        "grafana": _grafana_values(settings, system),
    }
    return values


def _grafana_values(settings: MonitoringSettings, system: Mapping[str, Any]) -> dict[str, Any]:
    if not settings.grafana:
        return {"enabled": False}
    return {
        "enabled": True,
        # The admin credentials are a Pulumi-managed Secret, never the chart's default password.
        # (its keys are the chart's defaults, `admin.userKey` admin-user and `admin.passwordKey` admin-password).
        "admin": {"existingSecret": GRAFANA_ADMIN_SECRET},
        # Dashboards are ConfigMaps this program owns; Grafana keeps no state worth a volume.
        "persistence": {"enabled": False},
        "sidecar": {
            "dashboards": {
                "enabled": True,
                "label": DASHBOARD_LABEL[0],
                "labelValue": DASHBOARD_LABEL[1],
                "searchNamespace": MONITORING_NAMESPACE,
            }
        },
        **system,
    }


def metrics_server_values(platform: Platform) -> dict[str, Any]:
    values: dict[str, Any] = {**platform.system_nodes.helm_values()}
    if platform.monitoring.metrics_server_args:
        values["args"] = list(platform.monitoring.metrics_server_args)
    return values
