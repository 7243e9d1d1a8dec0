"""Reach a Service's port inside a cluster from this machine, like `kubectl port-forward`.

Used where something must talk to an instance that has no reachable address:
the nightly's SQL probe through an internal load balancer, and the control
plane's SQL on environmentd's internal port, which no load balancer exposes.

    with port_forward(kubeconfig, "materialize-main", "main-balancerd-lb", 6875) as (host, port):
        psycopg.connect(host=host, port=port, ...)

It is done with the Kubernetes client library rather than by running
`kubectl`, so nothing beyond this project's dependencies is needed (the
kubeconfig's own exec auth plugin, such as `aws eks get-token`, still is).
A loopback listener accepts any number of connections; each one gets its own
port-forward stream to a ready pod behind the Service, as kubectl does.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from components.kubeconfig import api_client

_log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
_CHUNK = 64 * 1024


class PortForwardError(RuntimeError):
    """The Service cannot be forwarded to (no such Service or port, no ready pod)."""


class Connection(Protocol):
    """What both ends of a relayed connection offer (a socket, or the client library's socket pair end)."""

    def recv(self, size: int, /) -> bytes: ...
    def sendall(self, data: bytes, /) -> Any: ...
    def shutdown(self, how: int, /) -> None: ...
    def close(self) -> None: ...


@contextlib.contextmanager
def port_forward(
    kubeconfig: str, namespace: str, service: str, port: int, context: str | None = None
) -> Iterator[tuple[str, int]]:
    """Yields a loopback (host, port) relaying to `port` of the Service, for as long as the block runs.

    `kubeconfig` is a file path or the file's contents; `context` picks one of
    its contexts (its current context when None).
    """
    from kubernetes import client

    cluster = api_client(kubeconfig, context)
    try:
        core = client.CoreV1Api(cluster)
        pod, pod_port = ready_pod_port(core, client.DiscoveryV1Api(cluster), namespace, service, port)
        with relay(lambda: _open_stream(core, namespace, pod, pod_port)) as address:
            yield address
    finally:
        cluster.close()


def ready_pod_port(core: Any, discovery: Any, namespace: str, service: str, port: int) -> tuple[str, int]:
    """The name of a ready pod behind the Service and the pod port its `port` leads to.

    The Service's endpoint slices already hold both answers (ready endpoints,
    and the target port resolved from a number or a named container port),
    so they are read instead of re-deriving them from the selector.
    """
    found = core.read_namespaced_service(service, namespace)
    service_port = next((p for p in found.spec.ports or [] if p.port == port), None)
    if service_port is None:
        offered = ", ".join(str(p.port) for p in found.spec.ports or []) or "none"
        raise PortForwardError(f"Service {namespace}/{service} has no port {port} (it offers: {offered})")
    slices = discovery.list_namespaced_endpoint_slice(
        namespace, label_selector=f"kubernetes.io/service-name={service}"
    ).items
    # Sorted so repeated runs pick the same pod when several are ready.
    for endpoint_slice in sorted(slices, key=lambda s: s.metadata.name):
        pod_port = next(
            (p.port for p in endpoint_slice.ports or [] if (p.name or "") == (service_port.name or "")), None
        )
        if pod_port is None:
            continue
        for endpoint in sorted(endpoint_slice.endpoints or [], key=_pod_name):
            ready = endpoint.conditions is None or endpoint.conditions.ready is not False
            if ready and endpoint.target_ref is not None and endpoint.target_ref.kind == "Pod":
                return endpoint.target_ref.name, pod_port
    raise PortForwardError(f"Service {namespace}/{service} has no ready pod behind port {port}")


def _pod_name(endpoint: Any) -> str:
    return endpoint.target_ref.name if endpoint.target_ref is not None else ""


def _open_stream(core: Any, namespace: str, pod: str, pod_port: int) -> Connection:
    from kubernetes.stream import portforward

    forward = portforward(core.connect_get_namespaced_pod_portforward, pod, namespace, ports=str(pod_port))
    return forward.socket(pod_port)


@contextlib.contextmanager
def relay(open_upstream: Callable[[], Connection]) -> Iterator[tuple[str, int]]:
    """A loopback listener that relays each accepted connection to a fresh `open_upstream()`."""
    listener = socket.create_server((LOOPBACK, 0))
    stopping = threading.Event()

    def accept_loop() -> None:
        while not stopping.is_set():
            try:
                client, _ = listener.accept()
            except OSError:  # the listener was closed: the block has ended
                return
            threading.Thread(target=_serve, args=(client, open_upstream), daemon=True).start()

    acceptor = threading.Thread(target=accept_loop, name="port-forward listener", daemon=True)
    acceptor.start()
    try:
        yield LOOPBACK, listener.getsockname()[1]
    finally:
        stopping.set()
        # close() alone leaves a blocked accept() (and so the port) alive on Linux.
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        acceptor.join(timeout=5)


def _serve(client: socket.socket, open_upstream: Callable[[], Connection]) -> None:
    try:
        upstream = open_upstream()
    except Exception as error:
        # The client only sees its connection closed, so the cause is logged
        # (an API error names the pod and status, never a credential).
        _log.warning("port-forward: could not open a stream: %s", error)
        client.close()
        return
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    for end in (client, upstream):
        with contextlib.suppress(OSError):
            end.close()


def _pump(source: Connection, destination: Connection) -> None:
    """Copy bytes one way until the source ends, then pass the end on (half-close)."""
    try:
        while data := source.recv(_CHUNK):
            destination.sendall(data)
    except OSError:
        pass
    with contextlib.suppress(OSError):
        destination.shutdown(socket.SHUT_WR)
