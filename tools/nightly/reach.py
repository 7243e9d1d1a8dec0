"""How a run reaches what its stack created: the cluster's API, and each instance's SQL port.

Cloud targets export a `kubeconfig` (exec-based: it calls aws, gcloud's GKE
plugin or kubelogin, so nothing replayable is stored); the local target's
cluster is the one its own config names. An instance is reached through
its load balancer only when that is public; the examples' internal load
balancers and ClusterIP Services are reached through a port-forward to the
same `<instance>-balancerd-lb` Service.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from components.dataplane.exposure import SQL_PORT
from components.kubeconfig import api_client as kube_api_client
from tools.nightly.targets import Target


@dataclass(frozen=True)
class KubeAccess:
    kubeconfig: str  # a file path, or the file's contents
    context: str | None = None


@dataclass(frozen=True)
class Instance:
    name: str
    namespace: str
    connection_string: str = field(repr=False)
    exposure: str | None
    crd_version: str

    @property
    def balancerd_service(self) -> str:
        # The name the data plane gives the Service (components/dataplane/instance.py).
        return f"{self.name}-balancerd-lb"


def connection_password(connection_string: str) -> str | None:
    """The password in a connection string, so it can be kept out of every report."""
    password = conninfo_to_dict(connection_string).get("password")
    return str(password) if password else None


def kube_access(target: Target, outputs: Mapping[str, Any], config: Mapping[str, Any], home: Path) -> KubeAccess:
    if target.kubeconfig_from == "output":
        kubeconfig = outputs.get("kubeconfig")
        if not kubeconfig:
            raise ValueError("the stack exported no kubeconfig")
        return KubeAccess(kubeconfig=str(kubeconfig))
    # Like the program: the configured kubeconfig, else ~/.kube/config (never $KUBECONFIG).
    path = config.get("kubeconfig") or str(home / ".kube" / "config")
    return KubeAccess(kubeconfig=str(path), context=config.get("kubeContext"))


def instances(outputs: Mapping[str, Any], config: Mapping[str, Any]) -> list[Instance]:
    """Every instance the stack exported, with what the run needs to check it."""
    exported = outputs.get("instances") or {}
    connections = outputs.get("connectionStrings") or {}
    configured = {entry.get("name"): entry for entry in config.get("instances") or []}
    found = []
    for name, values in sorted(exported.items()):
        if name not in connections:
            raise ValueError(f"instance {name}: the stack exported no connection string")
        found.append(
            Instance(
                name=name,
                namespace=values["namespace"],
                connection_string=connections[name],
                exposure=((configured.get(name) or {}).get("exposure") or {}).get("type"),
                crd_version=str(config.get("crdVersion") or "v1"),
            )
        )
    if not found:
        raise ValueError("the stack exported no instances")
    return found


def api_client(access: KubeAccess) -> Any:
    """A Kubernetes API client for the cluster (its exec auth plugin runs as needed)."""
    return kube_api_client(access.kubeconfig, access.context)


@contextmanager
def sql_conninfo(instance: Instance, access: KubeAccess) -> Iterator[str]:
    """A connection string that reaches the instance's balancerd from this machine, for as long as the block runs."""
    if instance.exposure == "public":
        yield instance.connection_string
        return
    # Imported here: only runs that need a port-forward load it.
    from components.port_forward import port_forward

    with port_forward(
        access.kubeconfig, instance.namespace, instance.balancerd_service, SQL_PORT, context=access.context
    ) as (host, port):
        # sslmode=require encrypts without checking the name, so the loopback address is fine.
        yield make_conninfo(instance.connection_string, host=host, port=str(port))
