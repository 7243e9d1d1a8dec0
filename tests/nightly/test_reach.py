"""Reaching a stack's cluster and its instances' SQL port: direct when public, else a port-forward."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.nightly.fakes import CONNECTION, KUBECONFIG, PASSWORD, cloud_outputs
from tools.nightly.reach import Instance, KubeAccess, connection_password, instances, kube_access, sql_conninfo
from tools.nightly.targets import target_named


def instance(exposure: str | None) -> Instance:
    return Instance("main", "materialize-main", CONNECTION, exposure, "v1")


def test_an_internal_instance_is_reached_through_a_port_forward_to_its_balancerd_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forwarded: list[tuple[object, ...]] = []

    @contextmanager
    def port_forward(
        kubeconfig: str, namespace: str, service: str, port: int, context: str | None = None
    ) -> Iterator[tuple[str, int]]:
        forwarded.append((kubeconfig, namespace, service, port, context))
        yield ("127.0.0.1", 45123)

    # Stands in for components/port_forward.py: no cluster here.
    monkeypatch.setitem(sys.modules, "components.port_forward", SimpleNamespace(port_forward=port_forward))
    with sql_conninfo(instance("internal"), KubeAccess(KUBECONFIG, "ctx")) as conninfo:
        params = conninfo_to_dict(conninfo)

    assert forwarded == [(KUBECONFIG, "materialize-main", "main-balancerd-lb", 6875, "ctx")]
    assert (params["host"], params["port"]) == ("127.0.0.1", "45123")
    assert (params["user"], params["password"], params["dbname"], params["sslmode"]) == (
        "mz_system",
        PASSWORD,
        "materialize",
        "require",
    )


def test_a_public_instance_is_reached_through_its_load_balancer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "components.port_forward", None)  # importing it would fail
    with sql_conninfo(instance("public"), KubeAccess(KUBECONFIG)) as conninfo:
        assert conninfo == CONNECTION


def test_the_port_forward_helper_takes_the_arguments_the_probe_passes() -> None:
    from components.port_forward import port_forward

    inspect.signature(port_forward).bind(KUBECONFIG, "materialize-main", "main-balancerd-lb", 6875, context="c")


def test_instances_come_from_the_outputs_with_their_configured_exposure() -> None:
    config = {"instances": [{"name": "main", "exposure": {"type": "public"}}], "crdVersion": "v1alpha1"}
    (found,) = instances(cloud_outputs(), config)
    assert (found.name, found.namespace, found.exposure, found.crd_version) == (
        "main",
        "materialize-main",
        "public",
        "v1alpha1",
    )
    assert found.balancerd_service == "main-balancerd-lb"
    assert PASSWORD not in repr(found)
    assert connection_password(found.connection_string) == PASSWORD
    with pytest.raises(ValueError, match="no connection string"):
        instances({**cloud_outputs(), "connectionStrings": {}}, config)
    with pytest.raises(ValueError, match="no instances"):
        instances({}, config)


def test_cluster_access_comes_from_the_output_on_clouds_and_the_config_locally(tmp_path: Path) -> None:
    assert kube_access(target_named("gcp"), cloud_outputs(), {}, tmp_path) == KubeAccess(KUBECONFIG)
    with pytest.raises(ValueError, match="no kubeconfig"):
        kube_access(target_named("gcp"), {}, {}, tmp_path)
    local = target_named("local")
    assert kube_access(local, {}, {"kubeContext": "kind-materialize"}, tmp_path) == KubeAccess(
        str(tmp_path / ".kube" / "config"), "kind-materialize"
    )
    assert kube_access(local, {}, {"kubeconfig": "/etc/k.yaml"}, tmp_path) == KubeAccess("/etc/k.yaml")
