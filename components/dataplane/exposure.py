"""Services that expose an instance's balancerd and console.

The operator creates no load balancer. These Services select the pods by the
`app: balancerd` / `app: console` labels the operator puts on their pod
templates (MaterializeInc/materialize src/orchestratord/src/controller/
balancer.rs at 6dcb6f3c4e59eb987339279a674c702d8f249392 and console.rs at
cd1a4092c2ea9ad82b13aaa989e7cacfbbf8a1bf; the older controller/materialize/
balancer.rs and console.rs set the same label). Each instance has a namespace
of its own (the settings refuse a shared one), so within it the label picks
exactly that instance's pods, and the Service needs nothing from the
`Materialize` resource: it is created, and its cloud load balancer built,
while the instance is still rolling out.
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
    ports: tuple[ServicePort, ...],
    exposure: ExposureType,
    allowed_cidrs: list[str],
) -> k8s.core.v1.ServiceSpecArgs:
    service_ports = [
        k8s.core.v1.ServicePortArgs(name=p.name, port=p.port, target_port=p.port, protocol="TCP") for p in ports
    ]
    if exposure == "clusterIP":
        return k8s.core.v1.ServiceSpecArgs(type="ClusterIP", selector={"app": app}, ports=service_ports)
    return k8s.core.v1.ServiceSpecArgs(
        type="LoadBalancer",
        selector={"app": app},
        ports=service_ports,
        # Keep the client's address so source ranges and network policies see it.
        external_traffic_policy="Local",
        load_balancer_source_ranges=list(allowed_cidrs) or None,
    )


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
    return next((point.hostname or point.ip or "" for point in ingress if point.hostname or point.ip), "")
