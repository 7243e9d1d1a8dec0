"""Grafana dashboards for Materialize, as code (our own; see docs/monitoring.md for why).

Materialize publishes dashboards in MaterializeInc/materialize-monitoring
(docs/assets/dashboards/grafana/env-top.json), but in Grafana's v2 resource schema for the
grafana-operator its own chart installs, and under the BSL: they are not copied here. These
are a small set in Grafana's classic JSON model, loaded by the chart's dashboard sidecar.

Metric names are those Materialize lists as stable (materialize-monitoring
docs/assets/metrics/metrics.yaml, commit a28395ebb15b865afd310e49c73478215bd70fb5):
`mz_dataflow_wallclock_lag_seconds` (labels instance_id = cluster id, replica_id, quantile),
`mz_query_total`, `mz_time_to_first_row_seconds_bucket`, `mz_persist_blob_failures`,
`mz_persist_consensus_failures`, `mz_persist_external_failed_count`, and cAdvisor's
`container_cpu_usage_seconds_total`, `container_memory_working_set_bytes`,
`container_memory_swap`, `container_spec_memory_limit_bytes` (clusterd's container is named
after its image, `clusterd`: src/orchestrator-kubernetes/src/lib.rs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

DATASOURCE = {"type": "prometheus", "uid": "prometheus"}  # kube-prometheus-stack's default datasource uid
NAMESPACE_FILTER = 'namespace=~"$namespace"'
CLUSTERD = f'container="clusterd", {NAMESPACE_FILTER}'


@dataclass(frozen=True)
class Panel:
    title: str
    expr: str
    legend: str
    unit: str = "short"
    description: str = ""


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...]

    @property
    def file_name(self) -> str:
        return f"{self.uid}.json"

    def model(self) -> dict[str, Any]:
        """The dashboard in Grafana's JSON model (schemaVersion 39)."""
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": ["materialize"],
            "schemaVersion": 39,
            "version": 1,
            "editable": True,
            "time": {"from": "now-6h", "to": "now"},
            "refresh": "1m",
            "templating": {"list": [_namespace_variable()]},
            "panels": [_panel(index, panel) for index, panel in enumerate(self.panels)],
        }

    def json(self) -> str:
        return json.dumps(self.model(), indent=2, sort_keys=True)


def _namespace_variable() -> dict[str, Any]:
    query = 'label_values(up{job="materialize-environmentd"}, namespace)'
    return {
        "name": "namespace",
        "label": "Instance namespace",
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": query, "refId": "namespace"},
        "definition": query,
        "includeAll": True,
        "multi": True,
        "allValue": ".*",
        "current": {"text": "All", "value": "$__all"},
        "refresh": 2,
    }


def _panel(index: int, panel: Panel) -> dict[str, Any]:
    width = 12
    return {
        "id": index + 1,
        "type": "timeseries",
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": width, "x": (index % 2) * width, "y": (index // 2) * 8},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
        "targets": [{"refId": "A", "datasource": DATASOURCE, "expr": panel.expr, "legendFormat": panel.legend}],
    }


def _lag(quantile: str) -> str:
    selector = f'quantile="{quantile}", {NAMESPACE_FILTER}'
    return f"max by (namespace, instance_id) (mz_dataflow_wallclock_lag_seconds{{{selector}}})"


DASHBOARDS = (
    Dashboard(
        uid="materialize-replicas",
        title="Materialize / Replicas",
        description="CPU, memory and swap of every cluster replica (clusterd pod).",
        panels=(
            Panel(
                "Replica CPU",
                f"sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{{{CLUSTERD}}}[5m]))",
                "{{namespace}}/{{pod}}",
                unit="cores",
            ),
            Panel(
                "Replica memory (working set)",
                f"sum by (namespace, pod) (container_memory_working_set_bytes{{{CLUSTERD}}})",
                "{{namespace}}/{{pod}}",
                unit="bytes",
            ),
            Panel(
                "Replica swap in use",
                f"sum by (namespace, pod) (container_memory_swap{{{CLUSTERD}}})",
                "{{namespace}}/{{pod}}",
                unit="bytes",
                description="Swap is how replicas hold more state than memory; steady growth means a larger size.",
            ),
            Panel(
                "Replica memory vs limit",
                f"sum by (namespace, pod) (container_memory_working_set_bytes{{{CLUSTERD}}})"
                f" / sum by (namespace, pod) (container_spec_memory_limit_bytes{{{CLUSTERD}}} > 0)",
                "{{namespace}}/{{pod}}",
                unit="percentunit",
            ),
        ),
    ),
    Dashboard(
        uid="materialize-freshness",
        title="Materialize / Freshness",
        description="How far behind wall-clock time the dataflows of each cluster (materialized views, indexes) are.",
        panels=(
            Panel(
                "Maximum lag by cluster",
                _lag("1"),
                "{{namespace}} {{instance_id}}",
                unit="s",
            ),
            Panel(
                "Median lag by cluster",
                _lag("0.5"),
                "{{namespace}} {{instance_id}}",
                unit="s",
            ),
        ),
    ),
    Dashboard(
        uid="materialize-queries",
        title="Materialize / Queries",
        description="Query rate and latency as environmentd sees them.",
        panels=(
            Panel(
                "Query rate",
                f"sum by (namespace) (rate(mz_query_total{{{NAMESPACE_FILTER}}}[5m]))",
                "{{namespace}}",
                unit="reqps",
            ),
            Panel(
                "Time to first row (p99)",
                "histogram_quantile(0.99, sum by (le, namespace) "
                f"(rate(mz_time_to_first_row_seconds_bucket{{{NAMESPACE_FILTER}}}[5m])))",
                "p99 {{namespace}}",
                unit="s",
            ),
        ),
    ),
    Dashboard(
        uid="materialize-health",
        title="Materialize / Persist and metadata store",
        description="Failures talking to the blob store (persist) and the metadata Postgres (consensus), and scrapes.",
        panels=(
            Panel(
                "Blob store (persist) failures",
                f"sum by (namespace) (rate(mz_persist_blob_failures{{{NAMESPACE_FILTER}}}[5m]))",
                "{{namespace}}",
                unit="ops",
            ),
            Panel(
                "Metadata store (consensus) failures",
                f"sum by (namespace) (rate(mz_persist_consensus_failures{{{NAMESPACE_FILTER}}}[5m]))",
                "{{namespace}}",
                unit="ops",
            ),
            Panel(
                "External call failures",
                f"sum by (namespace) (rate(mz_persist_external_failed_count{{{NAMESPACE_FILTER}}}[5m]))",
                "{{namespace}}",
                unit="ops",
            ),
            Panel(
                "Components up",
                'sum by (job) (up{job=~"materialize-.*"})',
                "{{job}}",
                description="Scrape targets that answer, per Materialize component.",
            ),
        ),
    ),
)
