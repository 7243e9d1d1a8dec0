"""A support stack's configuration is refused cleanly: each key named, its value shown unless secret."""

from __future__ import annotations

import copy
import json
from typing import Any

import pulumi
import pytest

from components.controlplane.settings import load_support_settings
from tools.stack_files import read_stack_config

PORT_FORWARD = {
    "kubeconfig": "~/.kube/config",
    "namespace": "materialize-main",
    "service": "mz1a2b3c-environmentd",
}
URL = "postgres://mz_system:S3cret-Pw@environmentd.example.internal:6875/materialize?sslmode=require"


def support(**overrides: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "connection": {"portForward": dict(PORT_FORWARD)},
        "extraSizes": ["support-free"],
        "replicas": [
            {
                "cluster": "quickstart",
                "name": "boost",
                "size": "100cc",
                "billedAs": "support-free",
                "expiresAt": "2026-10-01T00:00:00Z",
            }
        ],
    }
    value.update(overrides)
    return value


def refused(config: dict[str, Any], secret_keys: frozenset[str] = frozenset()) -> str:
    with pytest.raises(pulumi.RunError) as raised:
        load_support_settings(config, secret_keys)
    text = str(raised.value)
    assert text.startswith("invalid stack configuration:\n  - ")
    return text


def with_replica(**fields: Any) -> dict[str, Any]:
    replica = {**support()["replicas"][0], **fields}
    return {"support": support(replicas=[{k: v for k, v in replica.items() if v is not None}])}


def test_the_example_support_stack_loads() -> None:
    settings = load_support_settings(read_stack_config("support").values)
    assert [r.name for r in settings.replicas] == ["support_boost"]
    assert settings.replica_sets[0].members == ["support_burst-1", "support_burst-2"]
    assert "support-free" in settings.sizes and "25cc" in settings.sizes


def test_the_cli_hands_the_value_over_as_json_text() -> None:
    settings = load_support_settings({"support": json.dumps(support()), "version": "v26.37.0", "protectData": "true"})
    assert settings.replicas[0].expires == "2026-10-01T00:00:00Z"
    assert settings.connection.to_input()["portForward"]["port"] == 6877


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            with_replica(name="r3"),
            ["materialize:support.replicas[0].name: 'r3' is not allowed", "reserved", "managed clusters"],
        ),
        (
            with_replica(internal=False),
            ["materialize:support.replicas[0].billedAs: needs internal: true", "BILLED AS only together with INTERNAL"],
        ),
        (
            with_replica(size="huge"),
            ["materialize:support.replicas[0].size: 'huge' is not a size the install defines", "6400cc, 800cc"],
        ),
        (
            with_replica(billedAs="free"),
            ["materialize:support.replicas[0].billedAs: 'free' is not a size", "extraSizes"],
        ),
        (
            with_replica(expiresAt="2026-10-01T00:00:00"),
            ["materialize:support.replicas[0].expiresAt: '2026-10-01T00:00:00' is not allowed", "timezone"],
        ),
        (
            with_replica(expiresAt="next friday"),
            ["materialize:support.replicas[0].expiresAt: 'next friday' is not allowed"],
        ),
        (
            with_replica(billed_as="support-free"),
            ["materialize:support.replicas[0].billed_as: unknown key (did you mean 'billedAs'?)"],
        ),
        (
            with_replica(name=""),
            ["materialize:support.replicas[0].name: '' is not allowed", "at least 1 character"],
        ),
        (
            {"support": support(replicaSets=[{"cluster": "quickstart", "name": "boost", "size": "25cc",
                                              "expiresAt": "2026-10-01T00:00:00Z"}])},
            ["materialize:support.replicaSets[0].name: quickstart.boost collides with support.replicas[0].name"],
        ),
        (
            {"support": support(replicaSets=[{"cluster": "quickstart", "name": "boo", "size": "25cc",
                                              "replicationFactor": 2, "expiresAt": "2026-10-01T00:00:00Z"},
                                             {"cluster": "quickstart", "name": "boo-2", "size": "25cc",
                                              "expiresAt": "2026-10-01T00:00:00Z"}])},
            ["materialize:support.replicaSets[1].name: quickstart.boo-2 collides with support.replicaSets[0].name"],
        ),
        (
            {"support": support(replicaSets=[{"cluster": "c", "name": "s", "size": "25cc", "replicationFactor": 0,
                                              "expiresAt": "2026-10-01T00:00:00Z"}])},
            ["materialize:support.replicaSets[0].replicationFactor: 0 is not allowed", "greater than or equal to 1"],
        ),
        (
            {"support": support(extraSizes=["Support Free"])},
            ["materialize:support.extraSizes[0]: 'Support Free' is not a replica size name"],
        ),
        (
            {"support": support(ticket="SUP 1 'x'")},
            ["materialize:support.ticket: \"SUP 1 'x'\" is not allowed", "should match pattern"],
        ),
        (
            {"support": support(connection={"portForward": {**PORT_FORWARD, "port": 70000}})},
            ["materialize:support.connection.portForward.port: 70000 is not allowed", "less than or equal to 65535"],
        ),
        ({"support": support(connection={})}, ["support.connection: set exactly one of url and portForward"]),
        ({"support": support(connection={"url": URL, "portForward": PORT_FORWARD})}, ["set exactly one"]),
        ({"support": support(connection={"portForward": {**PORT_FORWARD, "user": "x"}})}, ["user: unknown key"]),
        ({"support": support(connection={"portForward": PORT_FORWARD, "user": "materialize"})}, ["connection.user"]),
        ({"support": {"replicas": []}}, ["materialize:support.connection: required but not set"]),
        ({"support": support(), "target": "byo"}, ["materialize:target: an install setting", "materialize:support"]),
        ({"support": support(), "version": "v26.30.0"}, ["materialize:version: an install setting"]),
        ({"support": support(replica=[])}, ["materialize:support.replica: unknown key (did you mean 'replicas'?)"]),
    ],
)  # fmt: skip
def test_bad_support_configuration_is_refused_with_the_key_and_the_reason(
    config: dict[str, Any], expected: list[str]
) -> None:
    text = refused(config)
    for fragment in expected:
        assert fragment in text


def test_every_problem_is_reported_at_once() -> None:
    config = {"support": support(replicas=[{**support()["replicas"][0], "name": "r1", "size": "huge"}])}
    text = refused(config)
    assert "replicas[0].name" in text and "replicas[0].size" in text


def test_a_url_must_be_a_secret_and_an_internal_users_and_is_never_shown() -> None:
    config = {"support": support(connection={"url": URL})}
    text = refused(config)
    assert "materialize:support.connection.url: carries a password in plain text" in text
    assert "--secret --path support.connection.url" in text
    assert "S3cret-Pw" not in text and "environmentd.example.internal" not in text

    settings = load_support_settings(config, frozenset({"support"}))
    assert settings.connection.to_input() == {"url": URL}
    assert "S3cret-Pw" not in repr(settings)

    customer = {"support": support(connection={"url": URL.replace("mz_system", "analyst")})}
    text = refused(customer, frozenset({"support"}))
    assert "connects as 'analyst'; support replicas need mz_system" in text
    assert "S3cret-Pw" not in text

    support_user = {"support": support(connection={"url": URL.replace("mz_system", "mz_support")})}
    text = refused(support_user, frozenset({"support"}))
    assert "materialize:support.connection.url: mz_support cannot do this: it is not a superuser" in text
    assert "needs ownership of its cluster" in text and "S3cret-Pw" not in text

    text = refused({"support": support(connection={"url": URL, "user": "mz_support"})}, frozenset({"support"}))
    assert "user belong in the url" in text


def test_a_port_forward_as_mz_support_is_refused_with_the_reason() -> None:
    forward = {"portForward": dict(PORT_FORWARD), "user": "mz_support"}
    text = refused({"support": support(connection=forward)})
    assert "materialize:support.connection.user: 'mz_support': mz_support cannot do this" in text
    assert "connect as mz_system" in text


def test_a_url_of_the_wrong_type_is_not_echoed() -> None:
    text = refused({"support": support(connection={"url": {"value": URL}})}, frozenset({"support"}))
    assert "materialize:support.connection.url: (secret, not shown)" in text
    assert "S3cret-Pw" not in text


def test_passwords_and_kubeconfig_contents_must_be_secrets() -> None:
    kubeconfig = "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user: {token: tok-123}\n"
    config = {"support": support(connection={"portForward": {**PORT_FORWARD, "kubeconfig": kubeconfig},
                                             "password": "pw-456"})}  # fmt: skip
    text = refused(config)
    assert "connection.password: must be stored as a secret" in text
    assert "portForward.kubeconfig: kubeconfig contents must be stored as a secret" in text
    assert "tok-123" not in text and "pw-456" not in text
    load_support_settings(config, frozenset({"support"}))


def test_the_projects_defaults_are_not_install_settings() -> None:
    config = {
        "support": support(),
        "version": "v26.37.0",
        "networkPolicies": "true",
        "protectData": True,
        "crdVersion": "v1",
        "podMetrics": "false",
        "cloudProvider": "generic",
    }
    assert load_support_settings(copy.deepcopy(config)).replicas[0].name == "boost"
