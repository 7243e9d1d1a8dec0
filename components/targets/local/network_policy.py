"""Admit traffic to a store's pods on its service port alone."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.targets.local.objects import Home, labels, selector


def service_port_only(
    name: str, home: Home, parent: pulumi.Resource, app: str, port: int
) -> k8s.networking.v1.NetworkPolicy:
    # A store's side ports (SeaweedFS's filer, master, volume and admin UI)
    # answer without credentials; only the port that checks them is reachable.
    return k8s.networking.v1.NetworkPolicy(
        name,
        metadata={"name": app, "namespace": home.namespace_name, "labels": labels(app)},
        spec={
            "pod_selector": {"match_labels": selector(app)},
            "policy_types": ["Ingress"],
            "ingress": [{"ports": [{"port": port, "protocol": "TCP"}]}],
        },
        opts=home.options(parent),
    )
