"""Log collection (`monitoring.logs`, off by default): Grafana Alloy on every node, shipping
the logs of Materialize's pods and the operator to an in-cluster Loki and/or external
Loki or OTLP endpoints. Why these charts and why off: logging_values.py and docs/monitoring.md.

It runs in the monitoring stack's namespace and reads only the contract: both node groups'
tolerations (the collector runs beside clusterd), placement on system nodes and the
StorageClass (Loki), and the cluster's network for policies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.contract import Platform
from components.dataplane.endpoint_secrets import credentials_secret
from components.dataplane.logging_network_policies import LoggingNetworkPolicies, LoggingNetworkPoliciesArgs
from components.dataplane.logging_values import (
    ALLOY_CHART,
    ALLOY_VERSION,
    DATASOURCE_LABEL,
    GRAFANA_REPO,
    LOKI_CHART,
    LOKI_VERSION,
    alloy_values,
    export_secrets,
    loki_datasource,
    loki_values,
)
from components.dataplane.monitoring_values import MONITORING_LABELS, MONITORING_NAMESPACE
from components.helm_releases import RELEASE_POLICY
from components.settings.monitoring import MonitoringSettings


@dataclass(frozen=True)
class LoggingArgs:
    platform: Platform
    settings: MonitoringSettings
    # Whose logs: the instances' namespaces and the operator's.
    namespaces: Sequence[str]
    network_policies: bool
    # The monitoring Namespace object: everything here lives in it.
    namespace: pulumi.Resource


class Logging(pulumi.ComponentResource):
    collector: k8s.helm.v3.Release
    loki: k8s.helm.v3.Release | None

    def __init__(self, name: str, args: LoggingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:dataplane:Logging", name, None, opts)
        platform = args.platform
        logs = args.settings.logs
        self._provider = platform.provider
        on_cluster = pulumi.ResourceOptions(parent=self, provider=platform.provider)
        in_namespace = pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[args.namespace]))
        before_collector: list[pulumi.Resource] = [args.namespace]

        secrets = export_secrets(logs)
        for endpoint, secret in zip(logs.export, secrets, strict=True):
            if secret is None:
                continue
            before_collector.append(
                credentials_secret(
                    f"{name}-{secret.name}",
                    secret_name=secret.name,
                    namespace=MONITORING_NAMESPACE,
                    endpoint=endpoint,
                    labels=MONITORING_LABELS,
                    opts=in_namespace,
                )
            )

        policies: list[pulumi.Resource] = []
        if args.network_policies:
            policies = LoggingNetworkPolicies(
                f"{name}-network-policies",
                LoggingNetworkPoliciesArgs(
                    provider=platform.provider,
                    network=platform.network,
                    loki=logs.loki,
                    export_ports=tuple(urlsplit(endpoint.url).port or 443 for endpoint in logs.export),
                    namespace=args.namespace,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            ).policies
        before_collector += policies

        self.loki = None
        if logs.loki:
            self.loki = self._release(
                f"{name}-loki",
                LOKI_CHART,
                LOKI_VERSION,
                loki_values(args.settings, platform),
                [args.namespace, *policies],
            )
            if args.settings.grafana:
                # Grafana's datasource sidecar loads it from the namespace at any time.
                k8s.core.v1.ConfigMap(
                    f"{name}-loki-datasource",
                    metadata={
                        "name": "datasource-loki",
                        "namespace": MONITORING_NAMESPACE,
                        "labels": {**MONITORING_LABELS, DATASOURCE_LABEL[0]: DATASOURCE_LABEL[1]},
                    },
                    data={"loki.yaml": yaml.safe_dump(loki_datasource(), sort_keys=True)},
                    opts=in_namespace,
                )

        self.collector = self._release(
            f"{name}-collector",
            ALLOY_CHART,
            ALLOY_VERSION,
            alloy_values(logs, platform, args.namespaces, secrets),
            before_collector,
        )
        self.register_outputs(
            {"collector": self.collector.name, "loki": self.loki.name if self.loki is not None else None}
        )

    def _release(
        self, name: str, chart: str, version: str, values: dict[str, Any], after: Sequence[pulumi.Resource]
    ) -> k8s.helm.v3.Release:
        """One of Grafana's charts, pinned, in the monitoring namespace; the release is named after the chart."""
        return k8s.helm.v3.Release(
            name,
            name=chart,
            chart=chart,
            version=version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=GRAFANA_REPO),
            namespace=MONITORING_NAMESPACE,
            values=values,
            **RELEASE_POLICY,
            opts=pulumi.ResourceOptions(parent=self, provider=self._provider, depends_on=list(after)),
        )
