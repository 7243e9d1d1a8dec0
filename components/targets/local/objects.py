"""Shared shapes for the local target's Kubernetes objects.

Every object lives in one namespace of its own and is reached through the
target's explicit provider; `Home` carries both so no child can miss either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.settings import Placement

PART_OF = "materialize-local"


@dataclass(frozen=True)
class Home:
    """The cluster and namespace the local target's objects are created in."""

    provider: k8s.Provider
    namespace: k8s.core.v1.Namespace
    # Known before the namespace exists, so it can go into URLs.
    namespace_name: str
    # The stores are cluster plumbing: they go where the operator goes.
    placement: Placement

    def options(
        self,
        parent: pulumi.Resource,
        *,
        depends_on: list[pulumi.Resource] | None = None,
        protect: bool = False,
        delete_before_replace: bool = False,
        additional_secret_outputs: list[str] | None = None,
        replace_with: list[pulumi.Resource] | None = None,
    ) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=parent,
            provider=self.provider,
            depends_on=[self.namespace, *(depends_on or [])],
            protect=protect,
            delete_before_replace=delete_before_replace,
            additional_secret_outputs=additional_secret_outputs,
            replace_with=replace_with,
        )

    def service_host(self, service: str) -> str:
        return f"{service}.{self.namespace_name}.svc.cluster.local"

    def pod_spec(self, spec: dict[str, Any]) -> k8s.core.v1.PodSpecArgs:
        """`spec` with the hardened pod security context and the system node placement."""
        return k8s.core.v1.PodSpecArgs(**{"security_context": POD_SECURITY, **spec, **self.placement.pod_spec_fields()})


def labels(app: str) -> dict[str, str]:
    return {**selector(app), "app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/managed-by": "pulumi"}


def selector(app: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": app}


# Nothing here needs to gain privileges; the images that start as root only
# drop them (gosu / su-exec), which works without escalation.
NO_ESCALATION: dict[str, Any] = {"allow_privilege_escalation": False}
POD_SECURITY: dict[str, Any] = {"seccomp_profile": {"type": "RuntimeDefault"}}


def volume_claim(name: str, storage: str, storage_class: str | None) -> k8s.core.v1.PersistentVolumeClaimArgs:
    """A ReadWriteOnce claim template; no class means the cluster's default one."""
    return k8s.core.v1.PersistentVolumeClaimArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name),
        spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
            access_modes=["ReadWriteOnce"],
            resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": storage}),
            storage_class_name=storage_class,
        ),
    )
