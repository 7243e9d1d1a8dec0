"""The two node pools, and how pods are placed on them.

- system: the operator, cert-manager and kube-system's own pods;
- materialize: environmentd, clusterd, balancerd and console, on machines
  with local NVMe SSDs that the disk setup turns into swap. A taint keeps
  everything else off, and with swap a startup taint keeps Materialize off
  a node until its disks are ready.

GKE taints every Arm node with kubernetes.io/arch=arm64:NoSchedule by
itself, so pods bound for an Arm pool carry that toleration too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_gcp as gcp

from components.settings import Placement, Toleration
from components.settings.gcp import GcpSettings, machine_family
from components.targets.disk_setup import DEFAULT_STARTUP_TAINT, SWAP_NODE_LABELS, SWAP_SYSCTLS
from components.targets.gcp.cluster import CLOUD_PLATFORM_SCOPE, GkeCluster
from components.targets.gcp.context import GcpContext
from components.targets.gcp.local_ssds import local_ssd_count

Effect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]

ARM_FAMILIES = frozenset({"t2a", "c4a", "n4a"})
ARM64_TOLERATION = Toleration(key="kubernetes.io/arch", operator="Equal", value="arm64", effect="NoSchedule")
WORKLOAD_LABEL = "workload"
SYSTEM_WORKLOAD = "system"
MATERIALIZE_WORKLOAD = "materialize-instance"
_GKE_EFFECT = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: Effect = "NoSchedule"

    def toleration(self) -> Toleration:
        return Toleration(key=self.key, operator="Equal", value=self.value, effect=self.effect)

    def to_gke(self) -> gcp.container.NodePoolNodeConfigTaintArgs:
        return gcp.container.NodePoolNodeConfigTaintArgs(
            key=self.key, value=self.value, effect=_GKE_EFFECT[self.effect]
        )


MATERIALIZE_TAINT = Taint("materialize.cloud/workload", MATERIALIZE_WORKLOAD)
STARTUP_TAINT = Taint(DEFAULT_STARTUP_TAINT, "true")


def is_arm(machine_type: str) -> bool:
    return machine_family(machine_type) in ARM_FAMILIES


@dataclass(frozen=True)
class PoolLayout:
    """Labels and taints of both pools, and the placements that follow from them."""

    system_labels: dict[str, str]
    materialize_labels: dict[str, str]
    materialize_taints: tuple[Taint, ...]
    system: Placement
    materialize: Placement
    # The disk setup runs only where swap is configured.
    swap_nodes: Placement


def pool_layout(settings: GcpSettings, swap: bool) -> PoolLayout:
    system_labels = {WORKLOAD_LABEL: SYSTEM_WORKLOAD}
    materialize_labels = {WORKLOAD_LABEL: MATERIALIZE_WORKLOAD}
    taints: tuple[Taint, ...] = (MATERIALIZE_TAINT,)
    if swap:
        materialize_labels.update(SWAP_NODE_LABELS)
        taints += (STARTUP_TAINT,)
    system_tolerations = [ARM64_TOLERATION] if is_arm(settings.system_machine_type) else []
    materialize_tolerations = [MATERIALIZE_TAINT.toleration()]
    if is_arm(settings.materialize_machine_type):
        materialize_tolerations.append(ARM64_TOLERATION)
    materialize = Placement(nodeSelector={WORKLOAD_LABEL: MATERIALIZE_WORKLOAD}, tolerations=materialize_tolerations)
    return PoolLayout(
        system_labels=system_labels,
        materialize_labels=materialize_labels,
        materialize_taints=taints,
        system=Placement(nodeSelector=dict(system_labels), tolerations=system_tolerations),
        materialize=materialize,
        swap_nodes=Placement(
            nodeSelector={**materialize.node_selector, **SWAP_NODE_LABELS}, tolerations=materialize_tolerations
        ),
    )


@dataclass(frozen=True)
class NodePoolsArgs:
    context: GcpContext
    settings: GcpSettings
    cluster: GkeCluster
    layout: PoolLayout
    swap: bool


def blue_green(settings: GcpSettings) -> gcp.container.NodePoolUpgradeSettingsArgs:
    """Autoscaled blue-green upgrades: the window the operator's rollout trigger works in.

    GKE creates the new (green) pool empty, cordons every old (blue) node and
    waits `upgradeWaitForDrainHours` before draining; the autoscaler grows
    the green pool as Materialize rolls over. GKE documents this policy from
    control plane 1.34.0-gke.2201000 on (Materialize's gke-node-pool-upgrades.md
    and gcp/modules/nodepool/main.tf); changing it updates the pool in place.
    """
    return gcp.container.NodePoolUpgradeSettingsArgs(
        strategy="BLUE_GREEN",
        blue_green_settings=gcp.container.NodePoolUpgradeSettingsBlueGreenSettingsArgs(
            autoscaled_rollout_policy=gcp.container.NodePoolUpgradeSettingsBlueGreenSettingsAutoscaledRolloutPolicyArgs(
                wait_for_drain_duration=f"{settings.upgrade_wait_for_drain_hours * 3600}s"
            ),
            node_pool_soak_duration=(
                f"{settings.upgrade_soak_hours * 3600}s" if settings.upgrade_soak_hours is not None else None
            ),
        ),
    )


class GkeNodePools(pulumi.ComponentResource):
    system: gcp.container.NodePool
    materialize: gcp.container.NodePool
    materialize_name: str

    def __init__(self, name: str, args: NodePoolsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:gcp:NodePools", name, None, opts)
        settings, layout = args.settings, args.layout
        self._args = args
        self.materialize_name = args.context.name("materialize")

        self.system = self._pool(
            name,
            "system",
            machine_type=settings.system_machine_type,
            disk_type=settings.system_disk_type,
            limits=(settings.system_min_nodes, settings.system_max_nodes),
            zones=settings.system_zones,
            labels=layout.system_labels,
            # One node at a time, a new one up before an old one goes: the
            # operator, cert-manager and kube-system move like any Deployment.
            upgrade=gcp.container.NodePoolUpgradeSettingsArgs(strategy="SURGE", max_surge=1, max_unavailable=0),
        )
        self.materialize = self._pool(
            name,
            "materialize",
            machine_type=settings.materialize_machine_type,
            disk_type=settings.materialize_disk_type,
            limits=(settings.materialize_min_nodes, settings.materialize_max_nodes),
            zones=settings.materialize_zones,
            labels=layout.materialize_labels,
            taints=layout.materialize_taints,
            # Raw block devices, so the disk setup can make them swap; the
            # count an -lssd type bundles is sent as it is (local_ssds.py).
            local_ssds=(
                gcp.container.NodePoolNodeConfigLocalNvmeSsdBlockConfigArgs(local_ssd_count=local_ssd_count(settings))
                if settings.has_local_ssds
                else None
            ),
            linux=gcp.container.NodePoolNodeConfigLinuxNodeConfigArgs(sysctls=SWAP_SYSCTLS) if args.swap else None,
            upgrade=blue_green(settings),
        )
        self.register_outputs({"system": self.system.name, "materialize": self.materialize.name})

    def _pool(
        self,
        name: str,
        pool: str,
        *,
        machine_type: str,
        disk_type: str,
        limits: tuple[int, int],
        labels: dict[str, str],
        zones: list[str],
        upgrade: gcp.container.NodePoolUpgradeSettingsArgs,
        taints: tuple[Taint, ...] = (),
        local_ssds: gcp.container.NodePoolNodeConfigLocalNvmeSsdBlockConfigArgs | None = None,
        linux: gcp.container.NodePoolNodeConfigLinuxNodeConfigArgs | None = None,
    ) -> gcp.container.NodePool:
        ctx, settings, cluster = self._args.context, self._args.settings, self._args.cluster
        # Without a release channel the nodes stay on the pinned version;
        # with one, GKE upgrades them (a channel requires it).
        pinned = settings.release_channel == "UNSPECIFIED"
        return gcp.container.NodePool(
            f"{name}-{pool}",
            name=ctx.name(pool),
            project=ctx.project,
            location=ctx.region,
            cluster=cluster.cluster.name,
            version=settings.kubernetes_version if pinned else None,
            # Its own zones, or the cluster's.
            node_locations=list(zones) or None,
            # Per zone, and only at creation; the autoscaler takes over.
            initial_node_count=1,
            autoscaling=gcp.container.NodePoolAutoscalingArgs(
                total_min_node_count=limits[0], total_max_node_count=limits[1], location_policy="BALANCED"
            ),
            management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=not pinned),
            upgrade_settings=upgrade,
            node_config=gcp.container.NodePoolNodeConfigArgs(
                machine_type=machine_type,
                disk_type=disk_type,
                # Container-Optimized OS: the disk setup edits its kubelet config.
                image_type="COS_CONTAINERD",
                service_account=cluster.node_service_account.email,
                oauth_scopes=[CLOUD_PLATFORM_SCOPE],
                labels=labels,
                taints=[taint.to_gke() for taint in taints] or None,
                resource_labels=dict(ctx.labels),
                shielded_instance_config=gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_integrity_monitoring=True
                ),
                workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(
                    mode="GKE_METADATA"
                ),
                local_nvme_ssd_block_config=local_ssds,
                linux_node_config=linux,
            ),
            opts=ctx.options(
                self,
                pulumi.ResourceOptions(
                    depends_on=[cluster.node_role],
                    # The pool keeps its name, so a replacement (a new machine
                    # type, say) must delete the old pool first.
                    delete_before_replace=True,
                    # Never set here (the SSDs are raw block devices), but GKE
                    # reports the block back for -lssd machine types, and a
                    # change there replaces the pool
                    # (hashicorp/terraform-provider-google#17068).
                    ignore_changes=["nodeConfig.ephemeralStorageLocalSsdConfig"],
                ),
            ),
        )
