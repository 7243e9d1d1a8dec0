"""Local NVMe disks turned into swap on Materialize's nodes, by a DaemonSet.

Materialize's clusterd pods run with swap and are scheduled only on nodes
labelled `materialize.cloud/swap=true`. On GKE and AKS nothing sets such disks
up, so a DaemonSet pinned to the Materialize nodes runs Materialize's own
`ephemeral-storage-setup` tool once per node, in a privileged init container:
it formats the node's local NVMe disks as swap, switches the kubelet to
`LimitedSwap` (by editing its config and restarting it: neither cloud offers a
supported switch), optionally applies the kernel settings swap wants, and
finally removes the node's startup taint so Materialize's pods may land. A
tiny container then keeps the pod alive, so the DaemonSet reports ready and
runs again only on new nodes.

Both clouds share this component; they differ in the `mode` (where the tool
looks for disks and the kubelet config) and in the taints they use. The
component is only about a node's disks: it knows nothing of Materialize's
operator, which is why it lives with the targets, not the data plane.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from components.settings import PROJECT, Placement, Settings, Toleration

# Materialize's Terraform modules pin this release (multi-arch: amd64, arm64).
DISK_SETUP_IMAGE = "docker.io/materialize/ephemeral-storage-setup-image:v0.4.1"
NAMESPACE = "disk-setup"
APP = "disk-setup"


def namespace_problems(settings: Settings) -> list[str]:
    """Instances placed in the disk setup's namespace, which the targets that run it own."""
    return [
        f"{PROJECT}:instances[{index}]: namespace {NAMESPACE} belongs to the nodes' disk setup; "
        "give the instance another namespace"
        for index, instance in enumerate(settings.instances)
        if instance.resolved_namespace == NAMESPACE
    ]


# The cluster autoscaler treats taints with this prefix as temporary: it still
# scales a pool up for pods that do not tolerate them, knowing they will go.
STARTUP_TAINT_PREFIX = "startup-taint.cluster-autoscaler.kubernetes.io/"
DEFAULT_STARTUP_TAINT = STARTUP_TAINT_PREFIX + "disk-unconfigured"
# The tool's ClusterRole: it reads its Node and writes it back without the taint.
NODE_VERBS = ("get", "update")

DiskSetupMode = Literal["gcp", "azure"]
# The label Materialize's operator schedules swap-using pods by: give it to
# exactly the nodes this component sets up.
SWAP_NODE_LABELS: Mapping[str, str] = {"materialize.cloud/swap": "true"}
# What swap wants from the kernel (the values the tool sets with
# --apply-sysctls): swap as readily as page cache, keep 1 GiB truly free so
# the OOM killer does not strike while swap is left, wake kswapd early.
# Targets whose nodes set kernel settings themselves (a GKE node pool, a
# Bottlerocket node) give them these.
SWAP_SYSCTLS: Mapping[str, str] = {
    "vm.swappiness": "100",
    "vm.min_free_kbytes": "1048576",
    "vm.watermark_scale_factor": "100",
}

_LABELS = {
    "app.kubernetes.io/name": APP,
    "app.kubernetes.io/part-of": "materialize",
    "app.kubernetes.io/managed-by": "pulumi",
}
_SELECTOR = {"app.kubernetes.io/name": APP}
# The init container is privileged and mounts the host's root: a namespace
# under the "restricted" or "baseline" Pod Security level would refuse it.
_POD_SECURITY = {
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/audit": "privileged",
    "pod-security.kubernetes.io/warn": "privileged",
}


@dataclass(frozen=True)
class DiskSetupArgs:
    provider: k8s.Provider
    # Which cloud's disk names and kubelet layout the tool expects.
    mode: DiskSetupMode
    # The Materialize nodes: the DaemonSet's nodeSelector and the tolerations
    # of their taints (the workload taint, GKE's arm64 taint, ...).
    placement: Placement
    # A NoSchedule taint the nodes start with, removed once swap is on, so no
    # Materialize pod lands on a node before its disks are ready. None: the
    # nodes have no such taint (and the tool needs no Kubernetes API access).
    startup_taint: str | None = DEFAULT_STARTUP_TAINT
    # Let the tool set vm.swappiness, vm.min_free_kbytes and
    # vm.watermark_scale_factor itself; off where the node pool's own kernel
    # configuration sets them.
    apply_sysctls: bool = True
    # The node pools the DaemonSet's nodes come from.
    depends_on: Sequence[pulumi.Resource] = ()
    image: str = DISK_SETUP_IMAGE


class DiskSetup(pulumi.ComponentResource):
    daemon_set: k8s.apps.v1.DaemonSet
    # What workloads wait for: the DaemonSet rolled out on every current node.
    ready: tuple[pulumi.Resource, ...]

    def __init__(self, name: str, args: DiskSetupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        if args.mode not in typing.get_args(DiskSetupMode):
            raise ValueError(f"disk setup mode {args.mode!r} is not one of {', '.join(typing.get_args(DiskSetupMode))}")
        super().__init__("materialize:targets:DiskSetup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": NAMESPACE, "labels": {**_LABELS, **_POD_SECURITY}},
            opts=child,
        )
        in_namespace = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[namespace]))
        service_account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata={"name": APP, "namespace": NAMESPACE, "labels": _LABELS},
            # Only the taint removal talks to the API server.
            automount_service_account_token=args.startup_taint is not None,
            opts=in_namespace,
        )
        access: list[pulumi.Resource] = []
        if args.startup_taint is not None:
            access = _node_access(name, child, service_account)

        self.daemon_set = k8s.apps.v1.DaemonSet(
            f"{name}-daemon-set",
            metadata={"name": APP, "namespace": NAMESPACE, "labels": _LABELS},
            spec=k8s.apps.v1.DaemonSetSpecArgs(
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=_SELECTOR),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=_LABELS), spec=_pod_spec(args)
                ),
            ),
            opts=pulumi.ResourceOptions.merge(
                in_namespace,
                pulumi.ResourceOptions(depends_on=[service_account, *access, *args.depends_on]),
            ),
        )
        self.ready = (self.daemon_set,)
        self.register_outputs({"namespace": NAMESPACE, "daemonSet": self.daemon_set.metadata["name"]})


def tool_args(mode: DiskSetupMode, startup_taint: str | None, apply_sysctls: bool) -> list[str]:
    """The `ephemeral-storage-setup` command line for one mode."""
    args = ["swap", "--cloud-provider", mode, "--hack-restart-kubelet-enable-swap"]
    if apply_sysctls:
        args.append("--apply-sysctls")
    if startup_taint is not None:
        # Explicit: the tool's default key changed between its releases.
        args += ["--taint-key", startup_taint, "--remove-taint"]
    return args


def tolerations(args: DiskSetupArgs) -> list[dict[str, str]]:
    """The Materialize nodes' tolerations, plus the startup taint's (the pod must run before it goes)."""
    tolerated = [toleration.to_kubernetes() for toleration in args.placement.tolerations]
    if args.startup_taint is not None:
        startup = Toleration(key=args.startup_taint, operator="Exists", effect="NoSchedule").to_kubernetes()
        if startup not in tolerated:
            tolerated.append(startup)
    return tolerated


def _node_access(
    name: str, child: pulumi.ResourceOptions, service_account: k8s.core.v1.ServiceAccount
) -> list[pulumi.Resource]:
    # Cluster-scoped names carry the project's prefix: "disk-setup" alone could
    # belong to something else in the cluster.
    cluster_name = f"materialize-{APP}"
    role = k8s.rbac.v1.ClusterRole(
        f"{name}-cluster-role",
        metadata={"name": cluster_name, "labels": _LABELS},
        rules=[{"api_groups": [""], "resources": ["nodes"], "verbs": list(NODE_VERBS)}],
        opts=child,
    )
    binding = k8s.rbac.v1.ClusterRoleBinding(
        f"{name}-cluster-role-binding",
        metadata={"name": cluster_name, "labels": _LABELS},
        role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_name},
        subjects=[{"kind": "ServiceAccount", "name": APP, "namespace": NAMESPACE}],
        opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[role, service_account])),
    )
    return [role, binding]


def _pod_spec(args: DiskSetupArgs) -> k8s.core.v1.PodSpecArgs:
    core = k8s.core.v1
    return core.PodSpecArgs(
        service_account_name=APP,
        automount_service_account_token=args.startup_taint is not None,
        node_selector=dict(sorted(args.placement.node_selector.items())),
        tolerations=[
            core.TolerationArgs(
                key=toleration["key"],
                operator=toleration["operator"],
                value=toleration.get("value"),
                effect=toleration.get("effect"),
            )
            for toleration in tolerations(args)
        ],
        # The tool runs `chroot /host systemctl restart kubelet`; systemctl only
        # acts when PID 1 is the host's systemd, hence the host's PID namespace.
        # On the host's network the pod does not wait for the node's pod
        # network (CNI) to come up; the tool needs no DNS.
        host_pid=True,
        host_network=True,
        security_context=core.PodSecurityContextArgs(seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault")),
        init_containers=[
            core.ContainerArgs(
                name="setup",
                image=args.image,
                command=["ephemeral-storage-setup"],
                args=tool_args(args.mode, args.startup_taint, args.apply_sysctls),
                env=[
                    core.EnvVarArgs(
                        name="NODE_NAME",
                        value_from=core.EnvVarSourceArgs(
                            field_ref=core.ObjectFieldSelectorArgs(field_path="spec.nodeName")
                        ),
                    )
                ],
                resources=core.ResourceRequirementsArgs(
                    # A CPU limit only throttles: formatting swap on a large disk takes longer, never fails.
                    requests={"cpu": "50m", "memory": "128Mi"},
                    limits={"cpu": "500m", "memory": "128Mi"},
                ),
                # mkswap/swapon on raw devices, sysctls and the kubelet restart need it all.
                security_context=core.SecurityContextArgs(privileged=True, run_as_user=0),
                volume_mounts=[
                    core.VolumeMountArgs(name="dev", mount_path="/dev"),
                    core.VolumeMountArgs(name="host-root", mount_path="/host"),
                ],
            )
        ],
        containers=[
            core.ContainerArgs(
                # The same image's `sleep`: no second image to pin and pull.
                name="pause",
                image=args.image,
                command=["ephemeral-storage-setup"],
                args=["sleep"],
                resources=core.ResourceRequirementsArgs(
                    requests={"cpu": "1m", "memory": "8Mi"},
                    limits={"cpu": "10m", "memory": "8Mi"},
                ),
                security_context=core.SecurityContextArgs(
                    allow_privilege_escalation=False,
                    read_only_root_filesystem=True,
                    run_as_non_root=True,
                    run_as_user=65534,
                    capabilities=core.CapabilitiesArgs(drop=["ALL"]),
                ),
            )
        ],
        volumes=[
            core.VolumeArgs(name="dev", host_path=core.HostPathVolumeSourceArgs(path="/dev", type="Directory")),
            core.VolumeArgs(name="host-root", host_path=core.HostPathVolumeSourceArgs(path="/", type="Directory")),
        ],
    )
