"""The Materialize operator, installed from the chart Materialize publishes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.contract import Platform
from components.dataplane.operator_network_policies import OperatorNetworkPolicies, OperatorNetworkPoliciesArgs
from components.helm_releases import RELEASE_POLICY
from components.versions import OPERATOR_CHART_NAME, OPERATOR_CHART_REPO

OPERATOR_NAMESPACE = "materialize"
OPERATOR_RELEASE = "materialize-operator"
# The chart's selectorLabels: what its Deployment labels the operator pods with.
OPERATOR_POD_LABELS = {"app.kubernetes.io/name": OPERATOR_CHART_NAME, "app.kubernetes.io/instance": OPERATOR_RELEASE}


@dataclass(frozen=True)
class OperatorArgs:
    platform: Platform
    version: str
    values: dict[str, Any]
    requires: tuple[pulumi.Resource, ...] = ()
    # NetworkPolicies the operator needs next to the chart's own (networkPolicies on).
    network_policies: bool = False
    conversion_webhook: bool = False


class MaterializeOperator(pulumi.ComponentResource):
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: OperatorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:dataplane:Operator", name, None, opts)
        platform = args.platform
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": OPERATOR_NAMESPACE, "labels": {"app.kubernetes.io/managed-by": "pulumi"}},
            opts=pulumi.ResourceOptions(
                parent=self, provider=platform.provider, depends_on=list(platform.system_ready)
            ),
        )
        before_release: list[pulumi.Resource] = [namespace]
        if args.network_policies:
            before_release += OperatorNetworkPolicies(
                f"{name}-network-policies",
                OperatorNetworkPoliciesArgs(
                    provider=platform.provider,
                    namespace=namespace.metadata["name"],
                    pod_labels=OPERATOR_POD_LABELS,
                    network=platform.network,
                    conversion_webhook=args.conversion_webhook,
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
            ).policies
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name=OPERATOR_RELEASE,
            chart=OPERATOR_CHART_NAME,
            # Chart version, operator image and environmentd image share one version.
            version=args.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=OPERATOR_CHART_REPO),
            namespace=namespace.metadata["name"],
            values=args.values,
            **RELEASE_POLICY,
            # The operator registers and upgrades its own CRDs.
            skip_crds=True,
            opts=pulumi.ResourceOptions(
                parent=self, provider=platform.provider, depends_on=[*before_release, *args.requires]
            ),
        )
        self.register_outputs({"release": self.release.name, "version": args.version})
