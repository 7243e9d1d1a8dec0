"""Settings of the gcp target."""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    Field,
    model_validator,
)

from components.settings.base import BucketVersioning, Cidr, ReachableCidr, StrictModel

# Machine families that boot only from Hyperdisk (no pd-* disks).
_HYPERDISK_ONLY_FAMILIES = frozenset({"c4", "c4a", "c4d", "n4", "n4a", "n4d"})
_GCP_MACHINE_TYPE = re.compile(r"^[a-z][a-z0-9]*-[a-z0-9-]+$")
_GKE_EXACT_VERSION = re.compile(r"^1\.\d{2}\.\d+-gke\.\d+$")
_ZONE = r"^[a-z]+-[a-z]+\d+-[a-z]$"
# An RFC 5545 recurrence rule as GKE takes it (FREQ=WEEKLY;BYDAY=SA,SU).
_RRULE = r"^FREQ=(DAILY|WEEKLY|MONTHLY)(;[A-Z]+=[A-Z0-9,+-]+)*$"


class MaintenanceWindow(StrictModel):
    """When GKE may upgrade and repair: a first window and how it recurs (times in UTC)."""

    start: AwareDatetime = Field(description="First window's start (RFC 3339, e.g. 2026-01-03T03:00:00Z).")
    end: AwareDatetime = Field(description="First window's end; its length is every window's length.")
    recurrence: str = Field(pattern=_RRULE, description="RFC 5545 rule, e.g. FREQ=WEEKLY;BYDAY=SA,SU.")

    @model_validator(mode="after")
    def _ordered(self) -> MaintenanceWindow:
        if self.end <= self.start:
            raise ValueError(f"end {self.end.isoformat()} is not after start {self.start.isoformat()}")
        return self


class MaintenanceExclusion(StrictModel):
    """A period in which GKE does not upgrade (security patches may still come with NO_MINOR_UPGRADES)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,62}$", description="Name of the exclusion.")
    start: AwareDatetime = Field(description="Start (RFC 3339).")
    end: AwareDatetime = Field(description="End (RFC 3339); GKE limits how long an exclusion may last.")
    scope: Literal["NO_UPGRADES", "NO_MINOR_UPGRADES", "NO_MINOR_OR_NODE_UPGRADES"] = Field(
        default="NO_MINOR_OR_NODE_UPGRADES", description="What GKE holds back in the period."
    )

    @model_validator(mode="after")
    def _ordered(self) -> MaintenanceExclusion:
        if self.end <= self.start:
            raise ValueError(f"{self.name}: end {self.end.isoformat()} is not after start {self.start.isoformat()}")
        return self


def rfc3339(moment: datetime) -> str:
    """UTC, with a Z, as GKE's maintenance policy reports it back."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GcpSettings(BucketVersioning):
    """The gcp target: VPC with Cloud NAT, GKE, private Cloud SQL and GCS (docs/gcp.md)."""

    project: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$",
        description="GCP project id to deploy into (required for the gcp target).",
    )
    name_prefix: str = Field(
        default="materialize",
        alias="namePrefix",
        pattern=r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$",
        description="Prefix of every GCP resource name: 3-20 lower-case letters, digits and '-'.",
    )
    # STABLE and 1.34, as Materialize's own GCP example pins: REGULAR's 1.35 line
    # leaves the cluster's k8s-<uid>-node-http-hc firewall rule behind on
    # delete, so the VPC cannot be deleted (docs/gcp.md).
    kubernetes_version: str = Field(
        default="1.34",
        alias="kubernetesVersion",
        pattern=r"^1\.\d{2}(\.\d+-gke\.\d+)?$",
        description="GKE version: MAJOR.MINOR (newest patch), or exact (1.34.1-gke.1829001) without a channel.",
    )
    release_channel: Literal["RAPID", "REGULAR", "STABLE", "EXTENDED", "UNSPECIFIED"] = Field(
        default="STABLE",
        alias="releaseChannel",
        description="GKE release channel; UNSPECIFIED pins kubernetesVersion and turns node auto-upgrade off.",
    )
    zones: list[Annotated[str, Field(pattern=_ZONE)]] = Field(
        default_factory=list,
        max_length=4,
        description="Zones of the node pools (in region); default GKE's choice of the region's zones.",
    )
    system_zones: list[Annotated[str, Field(pattern=_ZONE)]] = Field(
        default_factory=list,
        alias="systemZones",
        max_length=4,
        description="Zones of the system pool only (default: zones).",
    )
    materialize_zones: list[Annotated[str, Field(pattern=_ZONE)]] = Field(
        default_factory=list,
        alias="materializeZones",
        max_length=4,
        description="Zones of the Materialize pool only (default: zones); C4A is not in every zone.",
    )
    api_allowed_cidrs: list[ReachableCidr] = Field(
        default_factory=list,
        alias="apiAllowedCidrs",
        max_length=50,
        description="Required: CIDRs that may reach the GKE API (master authorized networks), where pulumi runs.",
    )
    maintenance_window: MaintenanceWindow | None = Field(
        default=None,
        alias="maintenanceWindow",
        description="When GKE may upgrade the cluster and nodes (default: any time).",
    )
    maintenance_exclusions: list[MaintenanceExclusion] = Field(
        default_factory=list,
        alias="maintenanceExclusions",
        max_length=20,
        description="Periods without GKE upgrades (GKE allows at most 3 NO_UPGRADES ones).",
    )
    node_upgrade_rollout_trigger: bool | None = Field(
        default=None,
        alias="nodeUpgradeRolloutTrigger",
        description="Operator moves Materialize off nodes GKE upgrades (default: on with crdVersion v1).",
    )
    upgrade_wait_for_drain_hours: int = Field(
        default=72,
        ge=0,
        le=168,
        alias="upgradeWaitForDrainHours",
        description="Blue-green node upgrades: hours between cordoning old nodes and draining them.",
    )
    upgrade_soak_hours: int | None = Field(
        default=None,
        ge=0,
        le=168,
        alias="upgradeSoakHours",
        description="Blue-green node upgrades: hours drained old nodes are kept for a rollback (GKE default).",
    )
    flow_logs: bool = Field(default=True, alias="flowLogs", description="VPC flow logs on the node subnet.")
    flow_log_sampling: float = Field(
        default=0.5, ge=0.0, le=1.0, alias="flowLogSampling", description="Share of flows logged (0 to 1)."
    )
    nat_static_ip_count: int = Field(
        default=0,
        ge=0,
        le=16,
        alias="natStaticIpCount",
        description="Reserve this many static egress IPs for Cloud NAT (for sources that allowlist them).",
    )
    subnet_cidr: Cidr = Field(default="10.0.0.0/20", alias="subnetCidr", description="Node subnet of the new VPC.")
    pods_cidr: Cidr = Field(
        default="10.48.0.0/14", alias="podsCidr", description="Secondary range of the new subnet for pods."
    )
    services_cidr: Cidr = Field(
        default="10.52.0.0/20", alias="servicesCidr", description="Secondary range of the new subnet for Services."
    )
    private_services_cidr: Cidr = Field(
        default="10.60.0.0/16",
        alias="privateServicesCidr",
        description="Range reserved for private services access (Cloud SQL's private IP), /16 to /24.",
    )
    existing_network: str | None = Field(
        default=None,
        alias="existingNetwork",
        pattern=r"^(projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/global/networks/)?[a-z]([-a-z0-9]{0,61}[a-z0-9])?$",
        description="An existing VPC (name or projects/P/global/networks/N) with Cloud NAT and private service access.",
    )
    existing_subnetwork: str | None = Field(
        default=None,
        alias="existingSubnetwork",
        pattern=r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$",
        description="existingNetwork: the subnet in region for the nodes (Private Google Access on).",
    )
    existing_pods_range: str | None = Field(
        default=None,
        alias="existingPodsRange",
        pattern=r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$",
        description="existingNetwork: name of the subnet's secondary range for pods.",
    )
    existing_services_range: str | None = Field(
        default=None,
        alias="existingServicesRange",
        pattern=r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$",
        description="existingNetwork: name of the subnet's secondary range for Services.",
    )
    system_machine_type: str = Field(
        default="e2-standard-4",
        alias="systemMachineType",
        pattern=_GCP_MACHINE_TYPE.pattern,
        description="Machine type of the system node pool (operator, cert-manager, kube-system).",
    )
    system_disk_type: str = Field(
        default="pd-balanced",
        alias="systemDiskType",
        pattern=r"^(pd-(balanced|ssd|standard)|hyperdisk-balanced)$",
        description="Boot disk type of the system nodes.",
    )
    system_min_nodes: int = Field(
        default=1, ge=1, le=100, alias="systemMinNodes", description="System pool minimum (whole pool)."
    )
    system_max_nodes: int = Field(
        default=3, ge=1, le=100, alias="systemMaxNodes", description="System pool maximum (whole pool)."
    )
    materialize_machine_type: str = Field(
        default="c4a-highmem-8-lssd",
        alias="materializeMachineType",
        pattern=_GCP_MACHINE_TYPE.pattern,
        description="Machine type of the Materialize pool; swap needs local SSDs (an -lssd type, or a count).",
    )
    materialize_disk_type: str = Field(
        default="hyperdisk-balanced",
        alias="materializeDiskType",
        pattern=r"^(pd-(balanced|ssd|standard)|hyperdisk-balanced)$",
        description="Boot disk type of the Materialize nodes (C4/C4A/N4 boot only from hyperdisk-balanced).",
    )
    materialize_local_ssd_count: int = Field(
        default=0,
        ge=0,
        le=48,
        alias="materializeLocalSsdCount",
        description="Raw-block local NVMe SSDs per node; 0 with a known -lssd type (its bundled count).",
    )
    materialize_min_nodes: int = Field(
        default=1, ge=0, le=100, alias="materializeMinNodes", description="Materialize pool minimum (whole pool)."
    )
    materialize_max_nodes: int = Field(
        default=4, ge=1, le=100, alias="materializeMaxNodes", description="Materialize pool maximum (whole pool)."
    )
    postgres_version: Literal["15", "16", "17", "18"] = Field(
        default="17", alias="postgresVersion", description="Cloud SQL Postgres major version."
    )
    postgres_tier: str = Field(
        default="db-custom-2-8192",
        alias="postgresTier",
        pattern=r"^db-custom-\d+-\d+$",
        description="Cloud SQL machine (Enterprise edition): db-custom-<vCPUs>-<MiB>.",
    )
    postgres_high_availability: bool = Field(
        default=False,
        alias="postgresHighAvailability",
        description="Cloud SQL with a standby in a second zone (REGIONAL availability).",
    )
    postgres_disk_gb: int = Field(
        default=20, ge=10, le=65536, alias="postgresDiskGb", description="Initial Cloud SQL disk (grows by itself)."
    )
    postgres_client_certificates: bool = Field(
        default=False,
        alias="postgresClientCertificates",
        description="Cloud SQL admits only clients with a certificate it issued (TRUSTED_CLIENT_CERTIFICATE_REQUIRED).",
    )
    postgres_log_min_duration_ms: int = Field(
        default=1000,
        ge=-1,
        le=3_600_000,
        alias="postgresLogMinDurationMs",
        description="Log Cloud SQL statements slower than this (ms); -1 turns it off.",
    )

    node_local_dns_cache: bool = Field(
        default=True,
        alias="nodeLocalDnsCache",
        description=(
            "GKE's NodeLocal DNSCache addon (a DNS cache on every node; caches cluster records up to 5s). "
            "Set when the cluster is created: later changes are ignored, as GKE applies them by recreating "
            "every node pool."
        ),
    )

    @model_validator(mode="after")
    def _consistent(self) -> GcpSettings:
        def alias(key: str) -> str:
            return f"gcp.{type(self).model_fields[key].alias or key}"

        existing = ("existing_network", "existing_subnetwork", "existing_pods_range", "existing_services_range")
        given = [key for key in existing if getattr(self, key) is not None]
        if given and len(given) != len(existing):
            raise ValueError(
                f"{alias(given[0])}: an existing network needs existingNetwork, existingSubnetwork, "
                "existingPodsRange and existingServicesRange together (or none, for a new VPC)"
            )
        ranges = ("subnet_cidr", "pods_cidr", "services_cidr", "private_services_cidr")
        if given:
            for key in ranges:
                if key in self.model_fields_set:
                    raise ValueError(f"{alias(key)}: applies to a new VPC only; remove it or existingNetwork")
        else:
            networks = {key: ipaddress.ip_network(getattr(self, key)) for key in ranges}
            for index, first in enumerate(ranges):
                for second in ranges[index + 1 :]:
                    if networks[first].overlaps(networks[second]):
                        raise ValueError(
                            f"{alias(first)}: {networks[first]} overlaps {alias(second)} {networks[second]}"
                        )
            prefix = networks["private_services_cidr"].prefixlen
            if not 16 <= prefix <= 24:
                raise ValueError(f"{alias('private_services_cidr')}: /{prefix} is not between /16 and /24")
        if self.release_channel == "UNSPECIFIED" and not _GKE_EXACT_VERSION.match(self.kubernetes_version):
            raise ValueError(
                f"{alias('kubernetes_version')}: without a release channel give an exact GKE version "
                f"such as 1.35.8-gke.1036000, not {self.kubernetes_version!r}"
            )
        for pool in ("system", "materialize"):
            low, high = getattr(self, f"{pool}_min_nodes"), getattr(self, f"{pool}_max_nodes")
            if low > high:
                raise ValueError(f"gcp.{pool}MinNodes: {low} is more than {pool}MaxNodes ({high})")
            machine, disk = getattr(self, f"{pool}_machine_type"), getattr(self, f"{pool}_disk_type")
            if machine_family(machine) in _HYPERDISK_ONLY_FAMILIES and not disk.startswith("hyperdisk-"):
                raise ValueError(
                    f"gcp.{pool}DiskType: {machine} boots only from Hyperdisk; use hyperdisk-balanced, not {disk}"
                )
        return self

    @property
    def creates_network(self) -> bool:
        return self.existing_network is None

    @property
    def has_local_ssds(self) -> bool:
        return self.materialize_machine_type.endswith("-lssd") or self.materialize_local_ssd_count > 0


def machine_family(machine_type: str) -> str:
    """The series of a GCP machine type: c4a-highmem-8-lssd -> c4a."""
    return machine_type.split("-", 1)[0]
