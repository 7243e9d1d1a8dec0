"""Provider-computed outputs for the GCP target, as the real providers return them.

Per type token, what the engine hands back after a create: the inputs, plus
what Google (or the Kubernetes API server) fills in: ids in the provider's
own format, self links, endpoints, generated keys, status. Values are derived
from resource names (never random), so two evaluations agree.

The Kubernetes kinds of the disk-setup DaemonSet (components/targets/disk_setup.py)
are here too; the Azure target reuses that component and these entries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulumi.runtime import mocks as pulumi_mocks

from tools.offline.mocks import _k8s_object


def _daemon_set(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    # Rolled out on three nodes, each pod past its init container and ready.
    nodes = 3
    return _k8s_object(
        args,
        {
            "status": {
                "observedGeneration": 1,
                "desiredNumberScheduled": nodes,
                "currentNumberScheduled": nodes,
                "updatedNumberScheduled": nodes,
                "numberReady": nodes,
                "numberAvailable": nodes,
                "numberMisscheduled": 0,
            }
        },
    )


OUTPUTS: dict[str, Callable[[pulumi_mocks.MockResourceArgs], dict[str, Any]]] = {
    "kubernetes:apps/v1:DaemonSet": _daemon_set,
    "kubernetes:core/v1:ServiceAccount": _k8s_object,
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole": _k8s_object,
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": _k8s_object,
}

INVOKES: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {}
