"""The observability stack: metrics-server where missing, Prometheus, Grafana, dashboards.

kube-prometheus-stack rather than VictoriaMetrics' k8s stack (docs/monitoring.md says more):
Materialize publishes its scrapers as Prometheus Operator PodMonitors and builds its own
monitoring chart on the same sub-charts (kube-state-metrics 8.4.0, node-exporter 4.56.1,
Grafana 12.11.x: MaterializeInc/materialize-monitoring charts/materialize-monitoring/charts,
commit a28395ebb15b865afd310e49c73478215bd70fb5), and the Prometheus Operator's remoteWrite
takes credentials as Secret references, so none reaches Helm values.

It reads only the contract: placement on system nodes, the StorageClass and whether the
cluster has metrics-server (Platform.monitoring), and the cluster's network for policies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.contract import Platform
from components.dataplane.endpoint_secrets import credentials_secret
from components.dataplane.logging import Logging, LoggingArgs
from components.dataplane.monitoring_dashboards import DASHBOARDS
from components.dataplane.monitoring_network_policies import MonitoringNetworkPolicies, MonitoringNetworkPoliciesArgs
from components.dataplane.monitoring_values import (
    DASHBOARD_LABEL,
    GRAFANA_ADMIN_SECRET,
    METRICS_SERVER_CHART,
    METRICS_SERVER_REPO,
    METRICS_SERVER_VERSION,
    MONITORING_LABELS,
    MONITORING_NAMESPACE,
    STACK_CHART,
    STACK_RELEASE,
    STACK_REPO,
    STACK_VERSION,
    RemoteWriteSecret,
    metrics_server_values,
    remote_write_values,
    scrape_config,
    scrape_targets,
    stack_values,
)
from components.helm_releases import RELEASE_POLICY
from components.settings.monitoring import MonitoringSettings


@dataclass(frozen=True)
class MonitoringArgs:
    platform: Platform
    settings: MonitoringSettings
    instance_namespaces: Sequence[str]
    operator_namespace: str
    operator_pod_labels: dict[str, str]
    network_policies: bool
    # The instances' Namespace objects by name: they must exist before the scrape policies in them.
    instance_namespace_objects: Mapping[str, pulumi.Resource] = field(default_factory=dict)


class Monitoring(pulumi.ComponentResource):
    stack: k8s.helm.v3.Release
    metrics_server: k8s.helm.v3.Release | None
    logging: Logging | None

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:dataplane:Monitoring", name, None, opts)
        platform = args.platform
        settings = args.settings
        on_cluster = pulumi.ResourceOptions(parent=self, provider=platform.provider)

        self.metrics_server = None
        install_metrics_server = (
            settings.metrics_server
            if settings.metrics_server is not None
            else not platform.monitoring.has_metrics_server
        )
        if install_metrics_server:
            self.metrics_server = k8s.helm.v3.Release(
                f"{name}-metrics-server",
                name="metrics-server",
                chart=METRICS_SERVER_CHART,
                version=METRICS_SERVER_VERSION,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=METRICS_SERVER_REPO),
                namespace="kube-system",
                values=metrics_server_values(platform),
                **RELEASE_POLICY,
                opts=pulumi.ResourceOptions.merge(
                    on_cluster, pulumi.ResourceOptions(depends_on=list(platform.system_ready))
                ),
            )

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": MONITORING_NAMESPACE, "labels": dict(MONITORING_LABELS)},
            opts=pulumi.ResourceOptions.merge(
                on_cluster,
                pulumi.ResourceOptions(depends_on=[*platform.system_ready, *platform.monitoring.ready]),
            ),
        )
        in_namespace = pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[namespace]))
        before_release: list[pulumi.Resource] = [namespace]

        if settings.grafana:
            password = random.RandomPassword(
                f"{name}-grafana-admin-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
            ).result
            before_release.append(
                k8s.core.v1.Secret(
                    f"{name}-grafana-admin",
                    metadata={
                        "name": GRAFANA_ADMIN_SECRET,
                        "namespace": MONITORING_NAMESPACE,
                        "labels": dict(MONITORING_LABELS),
                    },
                    string_data={"admin-user": "admin", "admin-password": pulumi.Output.secret(password)},
                    type="Opaque",
                    opts=pulumi.ResourceOptions.merge(
                        in_namespace, pulumi.ResourceOptions(additional_secret_outputs=["stringData", "data"])
                    ),
                )
            )
            self.grafana_admin_password: pulumi.Output[str] | None = pulumi.Output.secret(password)
            for dashboard in DASHBOARDS:
                before_release.append(
                    k8s.core.v1.ConfigMap(
                        f"{name}-dashboard-{dashboard.uid}",
                        metadata={
                            "name": f"dashboard-{dashboard.uid}",
                            "namespace": MONITORING_NAMESPACE,
                            "labels": {**MONITORING_LABELS, DASHBOARD_LABEL[0]: DASHBOARD_LABEL[1]},
                        },
                        data={dashboard.file_name: dashboard.json()},
                        opts=in_namespace,
                    )
                )
        else:
            self.grafana_admin_password = None

        secrets: list[RemoteWriteSecret | None] = []
        for index, endpoint in enumerate(settings.remote_write):
            if not endpoint.has_credentials:
                secrets.append(None)
                continue
            secret = RemoteWriteSecret(
                name=f"remote-write-{index}",
                basic_auth=endpoint.password is not None,
                bearer_token=endpoint.bearer_token is not None,
            )
            before_release.append(
                credentials_secret(
                    f"{name}-remote-write-{index}",
                    secret_name=secret.name,
                    namespace=MONITORING_NAMESPACE,
                    endpoint=endpoint,
                    labels=MONITORING_LABELS,
                    opts=in_namespace,
                )
            )
            secrets.append(secret)

        if args.network_policies:
            before_release += MonitoringNetworkPolicies(
                f"{name}-network-policies",
                MonitoringNetworkPoliciesArgs(
                    provider=platform.provider,
                    network=platform.network,
                    instance_namespaces=tuple(args.instance_namespaces),
                    operator_namespace=args.operator_namespace,
                    operator_pod_labels=args.operator_pod_labels,
                    remote_write_ports=tuple(_port(endpoint.url) for endpoint in settings.remote_write),
                    namespace_objects={**args.instance_namespace_objects, MONITORING_NAMESPACE: namespace},
                ),
                opts=pulumi.ResourceOptions(parent=self),
            ).policies

        targets = scrape_targets(
            args.instance_namespaces, args.operator_namespace, args.operator_pod_labels["app.kubernetes.io/name"]
        )
        self.stack = k8s.helm.v3.Release(
            f"{name}-stack",
            name=STACK_RELEASE,
            chart=STACK_CHART,
            version=STACK_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=STACK_REPO),
            namespace=MONITORING_NAMESPACE,
            values=stack_values(
                settings,
                platform,
                [scrape_config(target) for target in targets],
                remote_write_values(settings, secrets),
            ),
            **RELEASE_POLICY,
            opts=pulumi.ResourceOptions.merge(
                on_cluster,
                pulumi.ResourceOptions(
                    depends_on=[*before_release, *([self.metrics_server] if self.metrics_server else [])]
                ),
            ),
        )
        # Logs (off by default) share the namespace and Grafana, not the metrics release.
        self.logging = (
            Logging(
                f"{name}-logging",
                LoggingArgs(
                    platform=platform,
                    settings=settings,
                    namespaces=(*args.instance_namespaces, args.operator_namespace),
                    network_policies=args.network_policies,
                    namespace=namespace,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            if settings.logs.enabled
            else None
        )
        self.register_outputs({"namespace": MONITORING_NAMESPACE, "release": self.stack.name})


def _port(url: str) -> int:
    return urlsplit(url).port or 443
