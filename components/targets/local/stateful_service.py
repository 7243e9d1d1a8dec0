"""One store inside the cluster: a Service, a one-replica StatefulSet with its
own volume, and (with network policies on) ingress on the service port alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.targets.local.objects import Home, labels, selector, volume_claim


@dataclass(frozen=True)
class StatefulServiceArgs:
    home: Home
    app: str
    port_name: str
    port: int
    # The pod spec (containers, volumes, ...), before the home's placement is added.
    pod: dict[str, Any]
    storage: str
    storage_class: str | None
    network_policy: bool
    protect: bool
    # What the pods read at start (their credentials Secret, say).
    depends_on: Sequence[pulumi.Resource] = ()


def stateful_service(name: str, parent: pulumi.Resource, args: StatefulServiceArgs) -> k8s.apps.v1.StatefulSet:
    home, app = args.home, args.app
    service = k8s.core.v1.Service(
        f"{name}-service",
        metadata={"name": app, "namespace": home.namespace_name, "labels": labels(app)},
        spec={
            "type": "ClusterIP",
            "selector": selector(app),
            "ports": [{"name": args.port_name, "port": args.port, "target_port": args.port, "protocol": "TCP"}],
        },
        opts=home.options(parent),
    )
    if args.network_policy:
        # A store's side ports (SeaweedFS's filer, master, volume and admin UI)
        # answer without credentials; only the port that checks them is reachable.
        k8s.networking.v1.NetworkPolicy(
            f"{name}-network-policy",
            metadata={"name": app, "namespace": home.namespace_name, "labels": labels(app)},
            spec={
                "pod_selector": {"match_labels": selector(app)},
                "policy_types": ["Ingress"],
                "ingress": [{"ports": [{"port": args.port, "protocol": "TCP"}]}],
            },
            opts=home.options(parent),
        )
    return k8s.apps.v1.StatefulSet(
        f"{name}-statefulset",
        metadata={"name": app, "namespace": home.namespace_name, "labels": labels(app)},
        spec=k8s.apps.v1.StatefulSetSpecArgs(
            service_name=app,
            replicas=1,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector(app)),
            # Deleting the StatefulSet must never take the volume with it.
            persistent_volume_claim_retention_policy=k8s.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs(
                when_deleted="Retain", when_scaled="Retain"
            ),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels(app)), spec=home.pod_spec(args.pod)
            ),
            volume_claim_templates=[volume_claim("data", args.storage, args.storage_class)],
        ),
        opts=home.options(parent, depends_on=[*args.depends_on, service], protect=args.protect),
    )
