"""The Materialize operator, installed from the chart Materialize publishes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.contract import Platform
from components.helm_releases import RELEASE_POLICY
from components.versions import OPERATOR_CHART_NAME, OPERATOR_CHART_REPO

OPERATOR_NAMESPACE = "materialize"
OPERATOR_RELEASE = "materialize-operator"


@dataclass(frozen=True)
class OperatorArgs:
    platform: Platform
    version: str
    values: dict[str, Any]
    requires: tuple[pulumi.Resource, ...] = ()


class MaterializeOperator(pulumi.ComponentResource):
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: OperatorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:dataplane:Operator", name, None, opts)
        platform = args.platform
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": OPERATOR_NAMESPACE, "labels": {"app.kubernetes.io/managed-by": "pulumi"}},
            opts=pulumi.ResourceOptions(parent=self, provider=platform.provider, depends_on=list(platform.ready)),
        )
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
                parent=self, provider=platform.provider, depends_on=[namespace, *args.requires]
            ),
        )
        self.register_outputs({"release": self.release.name, "version": args.version})
