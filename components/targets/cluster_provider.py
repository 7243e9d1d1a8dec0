"""The explicit Kubernetes provider for targets that reach an existing cluster."""

from __future__ import annotations

import os

import pulumi
import pulumi_kubernetes as k8s

from components.kubeconfig import is_kubeconfig_content
from components.settings import Settings


def kubeconfig_input(value: str) -> pulumi.Input[str]:
    """A kubeconfig path stays a path (no credentials in state); contents stay secret."""
    if is_kubeconfig_content(value):
        return pulumi.Output.secret(value)
    return os.path.expanduser(value)


def existing_cluster_provider(
    name: str, settings: Settings, default_kubeconfig: str | None, parent: pulumi.Resource
) -> k8s.Provider:
    """A provider for the cluster of `settings.kubeconfig` / `kubeContext`, never the ambient one."""
    kubeconfig = settings.kubeconfig.get_secret_value() if settings.kubeconfig else default_kubeconfig
    if kubeconfig is None:
        raise pulumi.RunError("materialize:kubeconfig: required for this target but not set")
    return k8s.Provider(
        f"{name}-kubernetes",
        kubeconfig=kubeconfig_input(kubeconfig),
        context=settings.kube_context,
        # The cluster is who the context says it is: a refreshed token or a moved
        # kubeconfig file must update the provider, not replace every object.
        cluster_identifier=f"{settings.target}/{settings.kube_context or 'current-context'}",
        enable_server_side_apply=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
