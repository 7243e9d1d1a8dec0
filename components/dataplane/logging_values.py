"""Log collection: the Grafana Alloy pipeline and the Helm values of Alloy and Loki.

Why these charts (docs/monitoring.md says more):

- Grafana Alloy, not Promtail: Promtail is end of life since March 2, 2026 and Grafana
  moved its development to Alloy (grafana/loki docs/sources/send-data/promtail/_index.md,
  tag helm-loki-7.3.0, commit 50c738b4d5b28db6e26723c3828da13bb46f0f06). Materialize's own
  monitoring stack collects pod logs the same way: an Alloy DaemonSet tailing
  /var/log/pods on its node (MaterializeInc/materialize-monitoring
  charts/materialize-monitoring/pre-rendered/pipelines/agent.alloy, commit
  a28395ebb15b865afd310e49c73478215bd70fb5).
- Loki in its single-binary mode on one filesystem volume: Materialize's stack keeps Loki in
  a bucket per backend, which no target here provisions; one volume of the target's class
  needs nothing new, at the price of one replica. So logs stay off by default.

Alloy components and arguments used below are those of Alloy v1.18.1 (chart alloy-1.11.1,
grafana/alloy tag helm-chart/1.11.1, commit 233907cff225ce253f812bdfc14138dac1fa0cd2,
docs/sources/reference/components/): discovery.kubernetes (`selectors`, `namespaces`),
discovery.relabel, loki.source.file (its `file_match` block expands the glob in `__path__`),
loki.process (`stage.cri`), loki.write (`endpoint` > `basic_auth`, `bearer_token`),
otelcol.receiver.loki, otelcol.exporter.otlphttp (`client` > `endpoint`, `auth`),
otelcol.auth.basic (`client_auth`) and otelcol.auth.bearer (`token`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from components.contract import Platform
from components.dataplane.monitoring_values import CLUSTERD_LABEL_PREFIX, MONITORING_NAMESPACE
from components.settings.monitoring import LogsSettings, MonitoringSettings, retention_hours

# grafana/alloy, tag helm-chart/1.11.1 (commit 233907cff225ce253f812bdfc14138dac1fa0cd2): Alloy v1.18.1.
ALLOY_CHART = "alloy"
ALLOY_VERSION = "1.11.1"
# grafana/loki, tag helm-loki-7.3.0 (commit 50c738b4d5b28db6e26723c3828da13bb46f0f06): Loki 3.6.
LOKI_CHART = "loki"
LOKI_VERSION = "7.3.0"
# Both charts' README: `helm repo add grafana https://grafana.github.io/helm-charts`.
GRAFANA_REPO = "https://grafana.github.io/helm-charts"

# Each release is named after its chart (logging.py), so the charts' fullname, and Loki's
# Service, is just "loki".
LOKI_HTTP_PORT = 3100
LOKI_GRPC_PORT = 9095
LOKI_MEMBERLIST_PORT = 7946
LOKI_PUSH_URL = f"http://loki.{MONITORING_NAMESPACE}.svc:{LOKI_HTTP_PORT}/loki/api/v1/push"
LOKI_QUERY_URL = f"http://loki.{MONITORING_NAMESPACE}.svc:{LOKI_HTTP_PORT}"
# The Loki chart's pod labels (its selectorLabels: name and instance = release).
LOKI_POD_LABELS = {"app.kubernetes.io/name": "loki", "app.kubernetes.io/instance": LOKI_CHART}
# Put on the collector's pods (controller.podLabels) so network policies can name them.
COLLECTOR_LABELS = {"app.kubernetes.io/part-of": "materialize-monitoring", "materialize.cloud/log-collector": "alloy"}
# The label kube-prometheus-stack's Grafana datasource sidecar watches
# (values `grafana.sidecar.datasources.label` / `labelValue`, kube-prometheus-stack-88.5.3).
DATASOURCE_LABEL = ("grafana_datasource", "1")
LOKI_DATASOURCE_UID = "loki"

# Where Alloy keeps its read positions: on the node, so a restarted collector resumes
# where it stopped instead of sending every file again (the chart's default, /tmp/alloy,
# is in the container and lost with it).
ALLOY_STATE_HOST_PATH = "/var/lib/alloy-materialize"
ALLOY_STATE_MOUNT = "/var/lib/alloy"

# Requests that fit a small system node; memory limits only (a CPU limit throttles a
# burst of logs into lag, while a memory leak must not take the node down).
ALLOY_RESOURCES = {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}}
LOKI_RESOURCES = {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}}
# Go's soft memory limit a little under the container's, as the chart's single-binary example does.
LOKI_GOMEMLIMIT = "1800MiB"


@dataclass(frozen=True)
class ExportSecret:
    """Where one export endpoint's credentials live: a Secret in the monitoring namespace,
    handed to Alloy as environment variables (never in its configuration or Helm values)."""

    index: int
    name: str
    basic_auth: bool
    bearer_token: bool

    def env(self, key: str) -> str:
        return f"LOG_EXPORT_{self.index}_{key.upper()}"

    @property
    def keys(self) -> tuple[str, ...]:
        return ("username", "password") if self.basic_auth else ("token",)


def export_secrets(logs: LogsSettings) -> list[ExportSecret | None]:
    return [
        ExportSecret(
            index=index,
            name=f"log-export-{index}",
            basic_auth=endpoint.password is not None,
            bearer_token=endpoint.bearer_token is not None,
        )
        if endpoint.has_credentials
        else None
        for index, endpoint in enumerate(logs.export)
    ]


def _string(value: str) -> str:
    """An Alloy string literal (its escapes are JSON's for these ASCII values)."""
    return json.dumps(value)


def _list(values: Sequence[str]) -> str:
    return "[" + ", ".join(values) + "]"


def _block(header: str, lines: Sequence[str], indent: int = 0) -> list[str]:
    pad = "\t" * indent
    return [f"{pad}{header} {{", *(f"{pad}\t{line}" for line in lines), f"{pad}}}"]


def _relabel(sources: Sequence[str], target: str, **extra: str) -> list[str]:
    lines = [f"source_labels = {_list([_string(s) for s in sources])}", f"target_label  = {_string(target)}"]
    lines += [f"{key} = {_string(value)}" for key, value in extra.items()]
    return _block("rule", lines)


def _meta(label: str) -> str:
    return "__meta_kubernetes_pod_label_" + "".join(c if c.isalnum() else "_" for c in label)


def alloy_config(logs: LogsSettings, namespaces: Sequence[str], secrets: Sequence[ExportSecret | None]) -> str:
    """The collector's pipeline: the logs of this node's pods in `namespaces`, to Loki and/or the exports."""
    out: list[str] = ["// Written by components/dataplane/logging_values.py; edits are overwritten."]
    # Only this node's pods (the chart sets HOSTNAME to spec.nodeName), only Materialize's namespaces.
    out += _block(
        'discovery.kubernetes "pods"',
        [
            'role = "pod"',
            *_block("selectors", ['role  = "pod"', 'field = "spec.nodeName=" + sys.env("HOSTNAME")']),
            *_block("namespaces", [f"names = {_list([_string(n) for n in sorted(namespaces)])}"]),
        ],
    )
    rules = [
        *_relabel(["__meta_kubernetes_namespace"], "namespace"),
        *_relabel(["__meta_kubernetes_pod_name"], "pod"),
        *_relabel(["__meta_kubernetes_pod_container_name"], "container"),
        *_relabel(["__meta_kubernetes_pod_node_name"], "node"),
        # The operator (its chart's name label), then environmentd, balancerd and console (their
        # `app` label) over it; `(.+)` leaves the label alone when a pod lacks the source label.
        *_relabel([_meta("app.kubernetes.io/name")], "app", regex="(.+)"),
        *_relabel([_meta("app")], "app", regex="(.+)"),
        # clusterd: which cluster and replica (the orchestrator's prefixed labels).
        *_relabel([_meta(f"{CLUSTERD_LABEL_PREFIX}cluster-id")], "cluster_id", regex="(.+)"),
        *_relabel([_meta(f"{CLUSTERD_LABEL_PREFIX}replica-id")], "replica_id", regex="(.+)"),
        # The kubelet's layout: /var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log.
        *_relabel(
            ["__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"],
            "__path__",
            separator="/",
            replacement="/var/log/pods/*$1/*.log",
        ),
    ]
    out += _block('discovery.relabel "pods"', ["targets = discovery.kubernetes.pods.targets", *rules])

    receivers: list[str] = []
    writers: list[str] = []
    if logs.loki:
        writers += _block('loki.write "loki"', _block("endpoint", [f"url = {_string(LOKI_PUSH_URL)}"]))
        receivers.append("loki.write.loki.receiver")
    for index, (endpoint, secret) in enumerate(zip(logs.export, secrets, strict=True)):
        label = f"export_{index}"
        if endpoint.protocol == "loki":
            lines = [f"url = {_string(endpoint.url)}"]
            if secret is not None and secret.basic_auth:
                lines += _block(
                    "basic_auth",
                    [
                        f"username = sys.env({_string(secret.env('username'))})",
                        f"password = sys.env({_string(secret.env('password'))})",
                    ],
                )
            if secret is not None and secret.bearer_token:
                lines.append(f"bearer_token = sys.env({_string(secret.env('token'))})")
            writers += _block(f'loki.write "{label}"', _block("endpoint", lines))
            receivers.append(f"loki.write.{label}.receiver")
            continue
        client = [f"endpoint = {_string(endpoint.url)}"]
        if secret is not None and secret.basic_auth:
            client.append(f"auth     = otelcol.auth.basic.{label}.handler")
            credentials = [
                f"username = sys.env({_string(secret.env('username'))})",
                f"password = sys.env({_string(secret.env('password'))})",
            ]
            writers += _block(f'otelcol.auth.basic "{label}"', _block("client_auth", credentials))
        if secret is not None and secret.bearer_token:
            client.append(f"auth     = otelcol.auth.bearer.{label}.handler")
            writers += _block(f'otelcol.auth.bearer "{label}"', [f"token = sys.env({_string(secret.env('token'))})"])
        writers += _block(f'otelcol.exporter.otlphttp "{label}"', _block("client", client))
        writers += _block(
            f'otelcol.receiver.loki "{label}"',
            _block("output", [f"logs = [otelcol.exporter.otlphttp.{label}.input]"]),
        )
        receivers.append(f"otelcol.receiver.loki.{label}.receiver")

    out += _block(
        'loki.source.file "pods"',
        [
            "targets    = discovery.relabel.pods.output",
            "forward_to = [loki.process.pods.receiver]",
            *_block("file_match", ["enabled = true"]),
        ],
    )
    # The container runtime's (CRI) line format: timestamp, stream, flags, message.
    out += _block('loki.process "pods"', [f"forward_to = {_list(receivers)}", *_block("stage.cri", [])])
    out += writers
    return "\n".join(out) + "\n"


def collector_tolerations(platform: Platform) -> list[dict[str, str]]:
    """Every node that runs a Materialize or system pod: the collector tolerates both groups'
    taints (the contract's tolerations), so clusterd's logs are collected on Materialize nodes."""
    found: list[dict[str, str]] = []
    for placement in (platform.materialize_nodes, platform.system_nodes):
        for toleration in placement.helm_values().get("tolerations", []):
            if toleration not in found:
                found.append(toleration)
    return found


def alloy_values(
    logs: LogsSettings,
    platform: Platform,
    namespaces: Sequence[str],
    secrets: Sequence[ExportSecret | None],
) -> dict[str, Any]:
    """Helm values of the alloy chart; credentials only as Secret references."""
    env: list[dict[str, Any]] = [
        {"name": secret.env(key), "valueFrom": {"secretKeyRef": {"name": secret.name, "key": key}}}
        for secret in secrets
        if secret is not None
        for key in secret.keys
    ]
    controller: dict[str, Any] = {
        "type": "daemonset",
        "podLabels": dict(COLLECTOR_LABELS),
        "volumes": {
            "extra": [{"name": "alloy-state", "hostPath": {"path": ALLOY_STATE_HOST_PATH, "type": "DirectoryOrCreate"}}]
        },
    }
    tolerations = collector_tolerations(platform)
    if tolerations:
        controller["tolerations"] = tolerations
    return {
        # The PodLogs CRD is for the Alloy operator's pipeline, which this one does not use.
        "crds": {"create": False},
        "alloy": {
            "configMap": {"create": True, "content": alloy_config(logs, namespaces, secrets)},
            "mounts": {
                "varlog": True,
                "extra": [{"name": "alloy-state", "mountPath": ALLOY_STATE_MOUNT}],
            },
            "storagePath": ALLOY_STATE_MOUNT,
            # No anonymous usage reports to Grafana Labs from a customer's cluster.
            "enableReporting": False,
            "resources": ALLOY_RESOURCES,
            **({"extraEnv": env} if env else {}),
        },
        # Nothing connects to the collector: it only sends.
        "service": {"enabled": False},
        "controller": controller,
    }


def loki_values(monitoring: MonitoringSettings, platform: Platform) -> dict[str, Any]:
    """Helm values of the loki chart: one single-binary pod on a filesystem volume, on system nodes."""
    logs = monitoring.logs
    storage_class = logs.storage_class or monitoring.storage_class or platform.monitoring.storage_class
    persistence: dict[str, Any] = {
        "enabled": True,
        "size": logs.storage,
        # The logs outlive the StatefulSet: its claim is kept when it is deleted or scaled
        # down (the chart's default deletes it with the StatefulSet).
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    if storage_class is not None:
        persistence["storageClass"] = storage_class
    zero = {"replicas": 0}
    return {
        "deploymentMode": "SingleBinary",
        "loki": {
            # One tenant: the cluster's own logs.
            "auth_enabled": False,
            "commonConfig": {"replication_factor": 1},
            "storage": {"type": "filesystem"},
            "schemaConfig": {
                "configs": [
                    {
                        "from": "2024-04-01",
                        "store": "tsdb",
                        "object_store": "filesystem",
                        "schema": "v13",
                        # Retention works only with a 24h index period (retention.md).
                        "index": {"prefix": "loki_index_", "period": "24h"},
                    }
                ]
            },
            # The compactor deletes what is older than the retention (retention.md: it needs
            # retention_enabled and a delete_request_store).
            "compactor": {"retention_enabled": True, "delete_request_store": "filesystem"},
            "limits_config": {"retention_period": f"{retention_hours(logs.retention)}h"},
            "analytics": {"reporting_enabled": False},
        },
        "singleBinary": {
            "replicas": 1,
            "persistence": persistence,
            "resources": LOKI_RESOURCES,
            "extraEnv": [{"name": "GOMEMLIMIT", "value": LOKI_GOMEMLIMIT}],
            **platform.system_nodes.helm_values(),
        },
        # The other deployment modes' components, the caches, the gateway and the chart's
        # self-tests are not part of a single-binary install.
        **{component: dict(zero) for component in ("backend", "read", "write")},
        "chunksCache": {"enabled": False},
        "resultsCache": {"enabled": False},
        "gateway": {"enabled": False},
        "lokiCanary": {"enabled": False},
        "test": {"enabled": False},
        "minio": {"enabled": False},
        # Alerting rules from ConfigMaps are not used: no rules sidecar watching the cluster.
        "sidecar": {"rules": {"enabled": False}},
    }


def loki_datasource() -> dict[str, Any]:
    """Grafana's datasource provisioning file for the in-cluster Loki."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Loki",
                "type": "loki",
                "uid": LOKI_DATASOURCE_UID,
                "access": "proxy",
                "url": LOKI_QUERY_URL,
                "isDefault": False,
            }
        ],
    }
