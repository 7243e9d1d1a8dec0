"""Connections through a port-forward, against a real PostgreSQL server.

components.port_forward is replaced by a stand-in that records what it was
asked for and hands back the test server's address, as a real port-forward
hands back a loopback address relaying to the Service.
"""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from components.controlplane.connection import SupportSqlError, open_database
from tests.controlplane.conftest import StandIn
from tests.controlplane.standin import PostgresStandInCatalog

KUBECONFIG_CONTENTS = "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user: {token: secret-token-123}\n"


def forwarded(stand_in: StandIn, monkeypatch: pytest.MonkeyPatch, fail: str | None = None) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    @contextlib.contextmanager
    def port_forward(
        kubeconfig: str, namespace: str, service: str, port: int, context: str | None = None
    ) -> Iterator[tuple[str, int]]:
        calls.append({"kubeconfig": kubeconfig, "namespace": namespace, "service": service, "port": port,
                      "context": context})  # fmt: skip
        if fail:
            raise RuntimeError(fail)
        yield stand_in.server.host, stand_in.server.port

    module = types.ModuleType("components.port_forward")
    module.port_forward = port_forward  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "components.port_forward", module)
    return calls


def connection(stand_in: StandIn, user: str = "mz_system", **overrides: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "portForward": {
            "kubeconfig": "~/.kube/config",
            "kubeContext": "prod",
            "namespace": "materialize-main",
            "service": "mz1a2b3c-environmentd",
            "port": 6875,
        },
        "user": user,
        "password": stand_in.passwords[user],
        "database": stand_in.server.app_database,
        "sslmode": "disable",
    }
    value.update(overrides)
    return value


def test_a_port_forward_connects_as_mz_system(stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = forwarded(stand_in, monkeypatch)
    monkeypatch.setenv("HOME", "/home/support")
    with open_database(connection(stand_in)) as conn:
        assert conn.execute("SELECT session_user").fetchone() == ("mz_system",)
        assert PostgresStandInCatalog().replicas(conn) == []
    assert calls == [
        {
            "kubeconfig": "/home/support/.kube/config",
            "namespace": "materialize-main",
            "service": "mz1a2b3c-environmentd",
            "port": 6875,
            "context": "prod",
        }
    ]


def test_kubeconfig_contents_go_to_the_port_forward_as_they_are(
    stand_in: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = forwarded(stand_in, monkeypatch)
    value = connection(stand_in)
    value["portForward"]["kubeconfig"] = KUBECONFIG_CONTENTS
    with open_database(value):
        pass
    assert calls[0]["kubeconfig"] == KUBECONFIG_CONTENTS


def test_a_failed_port_forward_is_reported_without_secrets(stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    forwarded(stand_in, monkeypatch, fail=f"no ready pod (kubeconfig was {KUBECONFIG_CONTENTS})")
    value = connection(stand_in)
    value["portForward"]["kubeconfig"] = KUBECONFIG_CONTENTS
    with pytest.raises(SupportSqlError) as raised, open_database(value):
        pass
    text = str(raised.value)
    assert text.startswith("could not reach service materialize-main/mz1a2b3c-environmentd port 6875 (port-forward)")
    assert "no ready pod" in text and "secret-token-123" not in text


def test_a_wrong_password_through_the_port_forward_is_not_echoed(
    stand_in: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    forwarded(stand_in, monkeypatch)
    with pytest.raises(SupportSqlError) as raised, open_database(connection(stand_in, password="Not-It-77")):
        pass
    text = str(raised.value)
    assert "could not connect to service materialize-main/mz1a2b3c-environmentd" in text and "as mz_system" in text
    assert "Not-It-77" not in text


def test_errors_raised_by_the_caller_pass_through_untouched(stand_in: StandIn) -> None:
    with pytest.raises(KeyError, match="mine"), open_database(stand_in.connection()):
        raise KeyError("mine")


@pytest.mark.parametrize(
    ("user", "reason"),
    [
        ("mz_support", "mz_support cannot do this: it is not a superuser and holds only USAGE on clusters"),
        ("customer", "connects as 'customer'; support replicas need mz_system"),
    ],
)
def test_anyone_but_mz_system_is_refused_with_the_reason_before_connecting(
    stand_in: StandIn, monkeypatch: pytest.MonkeyPatch, user: str, reason: str
) -> None:
    calls = forwarded(stand_in, monkeypatch)
    with pytest.raises(SupportSqlError, match=reason), open_database(connection(stand_in, user)):
        pass
    with pytest.raises(SupportSqlError, match=reason), open_database(stand_in.connection(user)):
        pass
    assert calls == []  # not even a port-forward
