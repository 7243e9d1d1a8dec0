"""The reusable disk-setup DaemonSet, registered on its own under mocks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.runtime import mocks as pulumi_mocks

from components.settings import PROJECT, Placement, Toleration
from components.targets.disk_setup import (
    DEFAULT_STARTUP_TAINT,
    DISK_SETUP_IMAGE,
    NAMESPACE,
    DiskSetup,
    DiskSetupArgs,
    DiskSetupMode,
)
from tests.harness.kubernetes_objects import is_plain_object, validate_strict
from tools.offline.mocks import RealisticMocks, RecordingMonitor, Registered

DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"

MATERIALIZE_POOL = Placement(
    node_selector={"materialize.cloud/swap": "true", "workload": "materialize-instance"},
    tolerations=[
        Toleration(key="materialize.cloud/workload", value="materialize-instance", effect="NoSchedule"),
        Toleration(key="kubernetes.io/arch", value="arm64", effect="NoSchedule"),
    ],
)


def register(build: Callable[[k8s.Provider], Any]) -> list[Registered]:
    """Run `build` as a program under mocks and return what it registered."""
    mocks = RealisticMocks()
    monitor = RecordingMonitor(mocks)
    pulumi_mocks.set_mocks(
        mocks, project=PROJECT, stack="dev", preview=False, monitor=monitor, organization="organization"
    )

    @pulumi.runtime.test
    def program() -> None:
        build(k8s.Provider("cluster", kubeconfig="/dev/null", cluster_identifier="test"))

    program()
    return monitor.registered


def disk_setup(**overrides: Any) -> list[Registered]:
    def build(provider: k8s.Provider) -> DiskSetup:
        fields: dict[str, Any] = {"provider": provider, "mode": "gcp", "placement": MATERIALIZE_POOL}
        fields.update(overrides)
        return DiskSetup("nodes-disk-setup", DiskSetupArgs(**fields))

    return register(build)


def one(registered: list[Registered], token: str) -> Registered:
    found = [r for r in registered if r.type == token]
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def pod(registered: list[Registered]) -> dict[str, Any]:
    return one(registered, DAEMON_SET).inputs["spec"]["template"]["spec"]


@pytest.fixture(scope="module")
def gcp() -> list[Registered]:
    return disk_setup()


def test_component_parents_every_object_and_uses_the_given_provider(gcp: list[Registered]) -> None:
    component = one(gcp, "materialize:targets:DiskSetup")
    provider = one(gcp, "pulumi:providers:kubernetes")
    children = [r for r in gcp if r.parent == component.urn]
    assert {r.type for r in children} == {
        NAMESPACE_TYPE,
        SERVICE_ACCOUNT,
        CLUSTER_ROLE,
        CLUSTER_ROLE_BINDING,
        DAEMON_SET,
    }
    for child in children:
        assert child.name.startswith("nodes-disk-setup-"), child.name
        assert child.provider.startswith(provider.urn + "::"), child.name


def test_daemon_set_runs_only_on_the_materialize_nodes_and_tolerates_their_taints(gcp: list[Registered]) -> None:
    spec = pod(gcp)
    assert spec["nodeSelector"] == {"materialize.cloud/swap": "true", "workload": "materialize-instance"}
    assert spec["tolerations"] == [
        {
            "key": "materialize.cloud/workload",
            "operator": "Equal",
            "value": "materialize-instance",
            "effect": "NoSchedule",
        },
        {"key": "kubernetes.io/arch", "operator": "Equal", "value": "arm64", "effect": "NoSchedule"},
        {"key": DEFAULT_STARTUP_TAINT, "operator": "Exists", "effect": "NoSchedule"},
    ]


def test_init_container_runs_the_pinned_tool_in_gcp_swap_mode_and_removes_the_startup_taint(
    gcp: list[Registered],
) -> None:
    spec = pod(gcp)
    [setup] = spec["initContainers"]
    assert setup["image"] == DISK_SETUP_IMAGE
    assert DISK_SETUP_IMAGE.startswith("docker.io/materialize/ephemeral-storage-setup-image:v")
    assert setup["command"] == ["ephemeral-storage-setup"]
    assert setup["args"] == [
        "swap",
        "--cloud-provider",
        "gcp",
        "--hack-restart-kubelet-enable-swap",
        "--apply-sysctls",
        "--taint-key",
        DEFAULT_STARTUP_TAINT,
        "--remove-taint",
    ]
    # --remove-taint needs the node's name.
    assert setup["env"] == [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]
    assert setup["securityContext"]["privileged"] is True
    mounts = {m["name"]: m["mountPath"] for m in setup["volumeMounts"]}
    assert mounts == {"dev": "/dev", "host-root": "/host"}
    volumes = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"]}
    assert volumes == {"dev": "/dev", "host-root": "/"}
    # systemctl inside `chroot /host` needs the host's PID 1.
    assert spec["hostPID"] is True


def test_the_long_running_container_is_unprivileged(gcp: list[Registered]) -> None:
    [pause] = pod(gcp)["containers"]
    assert pause["image"] == DISK_SETUP_IMAGE
    assert pause["args"] == ["sleep"]
    context = pause["securityContext"]
    assert context["runAsNonRoot"] is True and context["runAsUser"] != 0
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert "privileged" not in context


def test_rbac_lets_the_tool_rewrite_nodes_and_nothing_else(gcp: list[Registered]) -> None:
    role = one(gcp, CLUSTER_ROLE)
    # The tool reads its Node and replaces it without the taint (GET, then PUT).
    assert role.inputs["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "update"]}]
    binding = one(gcp, CLUSTER_ROLE_BINDING)
    assert binding.inputs["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role.inputs["metadata"]["name"],
    }
    account = one(gcp, SERVICE_ACCOUNT)
    assert binding.inputs["subjects"] == [
        {"kind": "ServiceAccount", "name": account.inputs["metadata"]["name"], "namespace": NAMESPACE}
    ]
    assert pod(gcp)["serviceAccountName"] == account.inputs["metadata"]["name"]
    daemon_set = one(gcp, DAEMON_SET)
    assert {role.urn, binding.urn, account.urn} <= set(daemon_set.dependencies)


def test_its_namespace_admits_privileged_pods(gcp: list[Registered]) -> None:
    namespace = one(gcp, NAMESPACE_TYPE)
    assert namespace.inputs["metadata"]["name"] == NAMESPACE
    assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    for resource in gcp:
        if resource.type in (SERVICE_ACCOUNT, DAEMON_SET):
            assert resource.inputs["metadata"]["namespace"] == NAMESPACE
            assert namespace.urn in resource.dependencies


@pytest.mark.parametrize("mode", ["gcp", "azure"])
def test_every_object_passes_strict_validation(mode: DiskSetupMode) -> None:
    registered = disk_setup(mode=mode)
    plain = [r for r in registered if is_plain_object(r)]
    assert len(plain) == 5
    for resource in plain:
        validate_strict(resource)


def test_azure_mode_without_sysctls() -> None:
    registered = disk_setup(mode="azure", apply_sysctls=False, startup_taint="disk-unconfigured")
    [setup] = pod(registered)["initContainers"]
    assert setup["args"] == [
        "swap",
        "--cloud-provider",
        "azure",
        "--hack-restart-kubelet-enable-swap",
        "--taint-key",
        "disk-unconfigured",
        "--remove-taint",
    ]
    assert {"key": "disk-unconfigured", "operator": "Exists", "effect": "NoSchedule"} in pod(registered)["tolerations"]


def test_without_a_startup_taint_the_tool_gets_no_api_access() -> None:
    registered = disk_setup(startup_taint=None)
    assert not [r for r in registered if r.type in (CLUSTER_ROLE, CLUSTER_ROLE_BINDING)]
    spec = pod(registered)
    assert spec["automountServiceAccountToken"] is False
    assert one(registered, SERVICE_ACCOUNT).inputs["automountServiceAccountToken"] is False
    [setup] = spec["initContainers"]
    assert "--remove-taint" not in setup["args"] and "--taint-key" not in setup["args"]
    assert all(t["key"] != DEFAULT_STARTUP_TAINT for t in spec["tolerations"])


def test_a_tolerated_startup_taint_is_not_listed_twice() -> None:
    startup = Toleration(key=DEFAULT_STARTUP_TAINT, operator="Exists", effect="NoSchedule")
    placement = Placement(node_selector=MATERIALIZE_POOL.node_selector, tolerations=[startup])
    assert pod(disk_setup(placement=placement))["tolerations"] == [startup.to_kubernetes()]


def test_daemon_set_waits_for_the_node_pools() -> None:
    def build(provider: k8s.Provider) -> None:
        pool = k8s.core.v1.Namespace(
            "pool-stand-in", metadata={"name": "pool"}, opts=pulumi.ResourceOptions(provider=provider)
        )
        DiskSetup(
            "nodes-disk-setup",
            DiskSetupArgs(provider=provider, mode="gcp", placement=MATERIALIZE_POOL, depends_on=[pool]),
        )

    registered = register(build)
    pool = next(r for r in registered if r.name == "pool-stand-in")
    assert pool.urn in one(registered, DAEMON_SET).dependencies


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="'aws' is not one of gcp, azure"):
        disk_setup(mode="aws")


def test_registering_twice_gives_identical_inputs() -> None:
    def snapshot() -> dict[str, Any]:
        return {r.urn: (r.inputs, sorted(r.dependencies)) for r in disk_setup()}

    assert snapshot() == snapshot()


def test_every_container_has_cpu_and_memory_requests_and_limits(gcp: list[Registered]) -> None:
    spec = pod(gcp)
    containers = [*spec["initContainers"], *spec["containers"]]
    assert [c["name"] for c in containers] == ["setup", "pause"]
    for container in containers:
        resources = container["resources"]
        for kind in ("requests", "limits"):
            assert set(resources[kind]) == {"cpu", "memory"}, (container["name"], kind)
        # Guaranteed memory: the limit is the request, so the node never over-commits it.
        assert resources["limits"]["memory"] == resources["requests"]["memory"]
