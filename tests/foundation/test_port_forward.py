"""components/port_forward.py: the loopback relay carries real PostgreSQL traffic
(TLS included), and the Service -> ready pod -> pod port resolution follows the
Service's endpoint slices."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
import yaml
from kubernetes import client as k8s

from components import port_forward as pf
from components.kubeconfig import api_client
from tests.support.postgres_server import PostgresServer
from tests.support.pytest_services import throwaway_postgres


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    yield from throwaway_postgres()


def _tcp_upstream(server: PostgresServer) -> pf.Connection:
    return socket.create_connection((server.host, server.port), timeout=10)


def _query_through(host: str, port: int, server: PostgresServer, sql: str) -> Any:
    with psycopg.connect(
        host=host,
        port=port,
        user=server.app_user,
        password=server.app_password,
        dbname=server.app_database,
        sslmode="require",
        connect_timeout=10,
    ) as connection:
        row = connection.execute(sql).fetchone()
        assert row is not None
        return row[0]


def test_relay_carries_tls_postgres_sessions_concurrently(postgres: PostgresServer) -> None:
    opened: list[int] = []

    def upstream() -> pf.Connection:
        opened.append(1)
        return _tcp_upstream(postgres)

    with pf.relay(upstream) as (host, port):
        assert host == "127.0.0.1"
        assert port != postgres.port
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda n: _query_through(host, port, postgres, f"SELECT {n} * 2"), range(4)))
        # A long reply crosses many relay chunks unchanged.
        big = _query_through(
            host, port, postgres, "SELECT string_agg(md5(i::text), '') FROM generate_series(1, 20000) i"
        )
    assert results == [0, 2, 4, 6]
    assert len(big) == 20000 * 32
    assert len(opened) == 5, "every client connection gets its own upstream stream"


def test_relay_stops_listening_when_the_block_ends(postgres: PostgresServer) -> None:
    with pf.relay(lambda: _tcp_upstream(postgres)) as (host, port):
        pass
    with pytest.raises(OSError):
        socket.create_connection((host, port), timeout=2)


def test_an_upstream_that_cannot_open_closes_the_client_connection() -> None:
    def broken() -> pf.Connection:
        raise ConnectionRefusedError("no stream")

    with pf.relay(broken) as (host, port), socket.create_connection((host, port), timeout=5) as conn:
        conn.settimeout(5)
        assert conn.recv(1) == b""


def _service(ports: list[tuple[str | None, int]]) -> k8s.V1Service:
    return k8s.V1Service(spec=k8s.V1ServiceSpec(ports=[k8s.V1ServicePort(name=n, port=p) for n, p in ports]))


def _slice(name: str, ports: list[tuple[str | None, int]], pods: list[tuple[str, bool | None]]) -> Any:
    return k8s.V1EndpointSlice(
        address_type="IPv4",
        metadata=k8s.V1ObjectMeta(name=name),
        ports=[k8s.DiscoveryV1EndpointPort(name=n, port=p) for n, p in ports],
        endpoints=[
            k8s.V1Endpoint(
                addresses=["10.0.0.1"],
                conditions=k8s.V1EndpointConditions(ready=ready),
                target_ref=k8s.V1ObjectReference(kind="Pod", name=pod),
            )
            for pod, ready in pods
        ],
    )


class _FakeApis:
    """Stand-ins for CoreV1Api / DiscoveryV1Api returning real client model objects."""

    def __init__(self, service: k8s.V1Service, slices: list[Any]) -> None:
        self.service, self.slices = service, slices
        self.calls: list[tuple[str, ...]] = []

    def read_namespaced_service(self, name: str, namespace: str) -> k8s.V1Service:
        self.calls.append(("service", namespace, name))
        return self.service

    def list_namespaced_endpoint_slice(self, namespace: str, label_selector: str) -> Any:
        self.calls.append(("slices", namespace, label_selector))
        return SimpleNamespace(items=self.slices)


def test_a_named_service_port_leads_to_the_ready_pods_target_port() -> None:
    apis = _FakeApis(
        _service([("sql", 6875), ("http", 6876)]),
        [
            _slice("b", [("sql", 16875), ("http", 16876)], [("balancerd-2", True)]),
            _slice("a", [("http", 16876), ("sql", 16875)], [("balancerd-1", False), ("balancerd-0", True)]),
        ],
    )
    assert pf.ready_pod_port(apis, apis, "materialize-main", "main-balancerd-lb", 6875) == ("balancerd-0", 16875)
    assert ("slices", "materialize-main", "kubernetes.io/service-name=main-balancerd-lb") in apis.calls


def test_an_unnamed_single_port_service_resolves() -> None:
    apis = _FakeApis(_service([(None, 5432)]), [_slice("s", [(None, 5433)], [("postgres-0", None)])])
    assert pf.ready_pod_port(apis, apis, "ns", "db", 5432) == ("postgres-0", 5433)


def test_a_port_the_service_does_not_offer_is_refused_with_what_it_offers() -> None:
    apis = _FakeApis(_service([("sql", 6875), ("http", 6876)]), [])
    with pytest.raises(pf.PortForwardError, match=r"no port 6877 \(it offers: 6875, 6876\)"):
        pf.ready_pod_port(apis, apis, "ns", "svc", 6877)


def test_no_ready_pod_is_an_error_not_a_hang() -> None:
    apis = _FakeApis(_service([("sql", 6875)]), [_slice("s", [("sql", 6875)], [("balancerd-0", False)])])
    with pytest.raises(pf.PortForwardError, match="no ready pod"):
        pf.ready_pod_port(apis, apis, "ns", "svc", 6875)


KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "current-context": "first",
    "clusters": [
        {"name": "one", "cluster": {"server": "https://one.example:6443"}},
        {"name": "two", "cluster": {"server": "https://two.example:6443"}},
    ],
    "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
    "contexts": [
        {"name": "first", "context": {"cluster": "one", "user": "u"}},
        {"name": "second", "context": {"cluster": "two", "user": "u"}},
    ],
}


def test_kubeconfig_contents_and_paths_pick_the_named_context(tmp_path: Any) -> None:
    contents = yaml.safe_dump(KUBECONFIG)
    path = tmp_path / "config"
    path.write_text(contents)
    assert api_client(contents, None).configuration.host == "https://one.example:6443"
    assert api_client(contents, "second").configuration.host == "https://two.example:6443"
    assert api_client(str(path), "second").configuration.host == "https://two.example:6443"


def test_port_forward_end_to_end_with_the_cluster_api_stood_in(
    postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    apis = _FakeApis(_service([("sql", 6875)]), [_slice("s", [("sql", 6875)], [("balancerd-0", True)])])
    monkeypatch.setattr(k8s.CoreV1Api, "read_namespaced_service", lambda self, *a: apis.read_namespaced_service(*a))
    monkeypatch.setattr(
        k8s.DiscoveryV1Api,
        "list_namespaced_endpoint_slice",
        lambda self, ns, label_selector: apis.list_namespaced_endpoint_slice(ns, label_selector),
    )
    streams: list[tuple[str, str, int]] = []
    lock = threading.Lock()

    def open_stream(core: Any, namespace: str, pod: str, pod_port: int) -> pf.Connection:
        with lock:
            streams.append((namespace, pod, pod_port))
        return _tcp_upstream(postgres)

    monkeypatch.setattr(pf, "_open_stream", open_stream)
    with pf.port_forward(yaml.safe_dump(KUBECONFIG), "materialize-main", "main-balancerd-lb", 6875) as (host, port):
        assert _query_through(host, port, postgres, "SELECT 'through the forward'") == "through the forward"
    assert streams == [("materialize-main", "balancerd-0", 6875)]
