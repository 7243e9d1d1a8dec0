"""Services that expose an instance's balancerd and console.

The operator creates no load balancer. These Services select the pods the
operator labels `materialize.cloud/name: mz<resourceId>-<app>`, where the
resource id comes from the Materialize resource's status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from components.contract import Platform

SQL_PORT = 6875
HTTP_PORT = 6876
CONSOLE_PORT = 8080

ExposureType = Literal["internal", "public", "clusterIP"]


@dataclass(frozen=True)
class ServicePort:
    name: str
    port: int


BALANCERD_PORTS = (ServicePort("sql", SQL_PORT), ServicePort("http", HTTP_PORT))
CONSOLE_PORTS = (ServicePort("console", CONSOLE_PORT),)


def service_spec(
    app: str,
    resource_id: pulumi.Input[str],
    ports: tuple[ServicePort, ...],
    exposure: ExposureType,
    allowed_cidrs: list[str],
) -> pulumi.Input[dict[str, object]]:
    selector = pulumi.Output.from_input(resource_id).apply(lambda rid: {"materialize.cloud/name": f"mz{rid}-{app}"})
    spec: dict[str, object] = {
        "selector": selector,
        "ports": [{"name": p.name, "port": p.port, "targetPort": p.port, "protocol": "TCP"} for p in ports],
    }
    if exposure == "clusterIP":
        spec["type"] = "ClusterIP"
    else:
        spec["type"] = "LoadBalancer"
        # Keep the client's address so source ranges and network policies see it.
        spec["externalTrafficPolicy"] = "Local"
        if allowed_cidrs:
            spec["loadBalancerSourceRanges"] = list(allowed_cidrs)
    return spec


def exposure_annotations(platform: Platform, app: str, exposure: ExposureType) -> dict[str, str]:
    """The Service annotations that give `app` the load balancer `exposure` asks for."""
    if exposure == "clusterIP":
        return {}
    specific = platform.app_load_balancer_annotations.get(app, {}).get(exposure)
    if specific is not None:
        return dict(specific)
    defaults = (
        platform.internal_load_balancer_annotations
        if exposure == "internal"
        else platform.public_load_balancer_annotations
    )
    return dict(defaults)


def endpoint(service: k8s.core.v1.Service, namespace: str, exposure: ExposureType) -> pulumi.Output[str]:
    """Where clients connect: the load balancer's address, or the in-cluster name."""
    if exposure == "clusterIP":
        return service.metadata.apply(lambda m: f"{m['name']}.{namespace}.svc.cluster.local")

    return service.status.apply(_load_balancer_address)


def _load_balancer_address(status: k8s.core.v1.outputs.ServiceStatus | None) -> str:
    balancer = status.load_balancer if status else None
    ingress = (balancer.ingress if balancer else None) or []
    return next((point.hostname or point.ip for point in ingress if point.hostname or point.ip), "")
