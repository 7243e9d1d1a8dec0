"""Kubernetes checks: pure functions over the data the client wrapper returns."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.support.net import free_port
from tools.doctor.kube_client import KubeClient, KubeconfigError, NodeInfo, ServerVersion, StorageClassInfo
from tools.doctor.kubernetes import (
    SWAP_LABEL,
    check_cert_manager,
    check_default_storage_class,
    check_kubernetes,
    check_server_version,
    check_swap_nodes,
)
from tools.doctor.report import Status


@pytest.mark.parametrize(
    ("major", "minor", "expected"),
    [
        ("1", "27", Status.FAIL),
        ("1", "28", Status.FAIL),
        ("1", "29", Status.WARN),
        ("1", "30", Status.WARN),
        ("1", "31", Status.OK),
        ("1", "33", Status.OK),
        ("1", "28+", Status.FAIL),
        ("1", "29+", Status.WARN),
        ("1", "31+", Status.OK),
        ("2", "0", Status.OK),
    ],
)
def test_server_version_thresholds(major: str, minor: str, expected: Status) -> None:
    check = check_server_version(ServerVersion.parse(major, minor, f"v{major}.{minor}.0"))
    assert check.status is expected
    if expected is not Status.OK:
        assert check.fix


def test_managed_cluster_minor_is_parsed() -> None:
    assert ServerVersion.parse("1", "30+", "v1.30.4-eks-a737599") == ServerVersion(1, 30, "v1.30.4-eks-a737599")


def test_no_storage_class_at_all() -> None:
    check = check_default_storage_class([])
    assert check.status is Status.FAIL
    assert "is-default-class" in (check.fix or "")


def test_storage_classes_without_a_default() -> None:
    check = check_default_storage_class([StorageClassInfo("gp3", False), StorageClassInfo("standard", False)])
    assert check.status is Status.FAIL
    assert "gp3, standard" in check.message


def test_one_default_storage_class() -> None:
    check = check_default_storage_class([StorageClassInfo("gp3", True), StorageClassInfo("io2", False)])
    assert (check.status, check.message) == (Status.OK, "default StorageClass gp3")


def test_two_default_storage_classes() -> None:
    check = check_default_storage_class([StorageClassInfo("a", True), StorageClassInfo("b", True)])
    assert check.status is Status.WARN


def test_swap_on_without_labelled_nodes_fails_with_both_fixes() -> None:
    nodes = [NodeInfo("n1", {"kubernetes.io/os": "linux"}), NodeInfo("n2", {SWAP_LABEL: "false"})]
    check = check_swap_nodes(nodes, swap_enabled=True)
    assert check.status is Status.FAIL
    assert f"{SWAP_LABEL}=true" in (check.fix or "")
    assert "materialize:swap false" in (check.fix or "")


def test_swap_on_with_a_labelled_node() -> None:
    nodes = [NodeInfo("n1", {}), NodeInfo("n2", {SWAP_LABEL: "true"})]
    check = check_swap_nodes(nodes, swap_enabled=True)
    assert check.status is Status.OK
    assert "n2" in check.message and "n1" not in check.message


def test_swap_off_needs_no_labels() -> None:
    assert check_swap_nodes([NodeInfo("n1", {})], swap_enabled=False).status is Status.OK


@pytest.mark.parametrize(
    ("installed", "stack_installs", "expected"),
    [
        (False, True, Status.WARN),
        (True, False, Status.OK),
        (True, True, Status.WARN),
        (False, False, Status.FAIL),
        (None, True, Status.WARN),
    ],
)
def test_cert_manager(installed: bool | None, stack_installs: bool, expected: Status) -> None:
    assert check_cert_manager(installed, stack_installs).status is expected


def test_no_kubeconfig_never_falls_back_to_the_ambient_one() -> None:
    checks = list(check_kubernetes(None, None, True, True, timeout=1))
    assert [check.status for check in checks] == [Status.FAIL]
    assert "never falls back" in checks[0].message


def test_missing_kubeconfig_file(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match="does not exist"):
        KubeClient.from_kubeconfig(str(tmp_path / "nope"), None, 1)


def test_invalid_kubeconfig_contents_are_not_echoed() -> None:
    contents = "apiVersion: v1\nusers:\n- name: x\n  user: {token: Zq9token\n"
    with pytest.raises(KubeconfigError) as error:
        KubeClient.from_kubeconfig(contents, None, 1)
    assert "Zq9" not in str(error.value)


def _kubeconfig(server: str, context: str = "test") -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": "Zq9token"}}],
        "contexts": [{"name": context, "context": {"cluster": "c", "user": "u"}}],
        "current-context": context,
    }


def test_unknown_context_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(_kubeconfig("https://127.0.0.1:1")))
    checks = list(check_kubernetes(str(path), "other", True, True, timeout=1))
    assert [check.status for check in checks] == [Status.FAIL]
    assert "Zq9" not in checks[0].message


@pytest.mark.parametrize("as_contents", [False, True])
def test_unreachable_api_server(tmp_path: Path, as_contents: bool) -> None:
    # A real client against a loopback port nobody listens on.
    document = yaml.safe_dump(_kubeconfig(f"https://127.0.0.1:{free_port()}"))
    path = tmp_path / "config"
    path.write_text(document)
    kubeconfig = document if as_contents else str(path)
    checks = list(check_kubernetes(kubeconfig, "test", True, True, timeout=2))
    assert [check.status for check in checks] == [Status.FAIL]
    assert "cannot reach the API server" in checks[0].message
