"""The one validated settings model for a whole stack.

Every value a stack can set is declared here (and in Pulumi.yaml, kept in step
by a test). `load_settings` turns raw Pulumi config into a `Settings` object or
raises a `pulumi.RunError` that names the key, the bad value and what is
allowed, before any resource is registered.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
import types
import typing
import uuid
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from components.kubeconfig import is_kubeconfig_content
from components.metadata_url import parse_metadata_url
from components.persist_url import parse_persist_url
from components.versions import (
    DEFAULT_MATERIALIZE_VERSION,
    FIRST_V1_CRD_VERSION,
    MINIMUM_MATERIALIZE_MAJOR,
    Version,
)

PROJECT = "materialize"
TARGETS = ("local", "byo", "aws", "gcp", "azure")
CLOUD_TARGETS = ("aws", "gcp", "azure")
# Placeholder a URL may carry so one URL serves several instances.
INSTANCE_PLACEHOLDER = "{instance}"

# Instance names become Kubernetes object names with suffixes such as
# "-balancerd-lb", which must stay within the 63-character label limit.
_MAX_INSTANCE_NAME = 40
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$")
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
# Materialize system parameter names are lower-case snake case.
_SYSTEM_PARAMETER = re.compile(r"^[a-z][a-z0-9_]*$")


def _dns_label(max_length: int) -> Any:
    def check(value: str) -> str:
        if len(value) > max_length or not _DNS_LABEL.match(value):
            raise ValueError(
                f"{value!r} is not a valid DNS-1123 label: use lower-case letters, digits and '-', "
                f"start and end with a letter or digit, at most {max_length} characters"
            )
        return value

    return AfterValidator(check)


def _version(value: str) -> str:
    parsed = Version.parse(value)
    if parsed.major < MINIMUM_MATERIALIZE_MAJOR:
        raise ValueError(
            f"{value!r} is older than v{MINIMUM_MATERIALIZE_MAJOR}.0.0, the oldest release this installer supports"
        )
    return value


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as error:
        raise ValueError(f"{value!r} is not a CIDR block such as 10.0.0.0/16 ({error})") from None


def _quantity(value: str) -> str:
    if not _QUANTITY.match(value):
        raise ValueError(f"{value!r} is not a Kubernetes quantity such as 500m, 2, 4Gi or 4095Mi")
    return value


DnsLabel = Annotated[str, _dns_label(63)]
InstanceName = Annotated[str, _dns_label(_MAX_INSTANCE_NAME)]
Cidr = Annotated[str, AfterValidator(_cidr)]
Quantity = Annotated[str, AfterValidator(_quantity)]


class _Strict(BaseModel):
    """Unknown keys are errors: a typo must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Toleration(_Strict):
    key: str
    operator: Literal["Equal", "Exists"] = "Equal"
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None

    def to_kubernetes(self) -> dict[str, str]:
        return self.model_dump(exclude_none=True)


class Placement(_Strict):
    """Where a group of pods may run."""

    node_selector: dict[str, str] = Field(default_factory=dict, alias="nodeSelector")
    tolerations: list[Toleration] = Field(default_factory=list)

    @field_validator("node_selector")
    @classmethod
    def _label_keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not _LABEL_KEY.match(key):
                raise ValueError(f"{key!r} is not a valid Kubernetes label key")
        return value


class NodePlacement(_Strict):
    """Overrides for the node placement a target chooses."""

    materialize: Placement | None = None
    system: Placement | None = None


class Resources(_Strict):
    requests: dict[Literal["cpu", "memory"], Quantity] = Field(default_factory=dict)
    limits: dict[Literal["cpu", "memory"], Quantity] = Field(default_factory=dict)

    def to_kubernetes(self) -> dict[str, dict[str, str]]:
        return {kind: dict(values) for kind, values in (("requests", self.requests), ("limits", self.limits)) if values}


class Exposure(_Strict):
    """How an instance's SQL, HTTP and console ports are reached from outside the cluster."""

    # None: internal on clouds; clusterIP where no internal load balancer exists.
    type: Literal["internal", "public", "clusterIP"] | None = None
    allowed_cidrs: list[Cidr] = Field(default_factory=list, alias="allowedCidrs")

    @model_validator(mode="after")
    def _public_needs_allowlist(self) -> Exposure:
        if self.type == "public" and not self.allowed_cidrs:
            raise ValueError(
                "a public load balancer needs an explicit allowedCidrs list "
                "(give 0.0.0.0/0 only if the whole internet may connect)"
            )
        if self.type == "clusterIP" and self.allowed_cidrs:
            raise ValueError("allowedCidrs applies to load balancers only; remove it or use type internal or public")
        return self


class InstanceSettings(_Strict):
    name: InstanceName = Field(description="Instance name: a DNS-1123 label of at most 40 characters.")
    namespace: DnsLabel | None = Field(default=None, description="Namespace; default materialize-<name>.")
    environment_id: uuid.UUID | None = Field(
        default=None,
        alias="environmentId",
        description="Set only to adopt an existing instance; otherwise derived, stable for the instance's life.",
    )
    environmentd_resources: Resources | None = Field(
        default=None,
        alias="environmentdResources",
        description="environmentd {requests: {cpu, memory}, limits: {memory}}; default the chart's.",
    )
    # Password is the safe default: "None" lets anyone who reaches the port in as any user.
    authenticator: Literal["Password", "Sasl", "Oidc", "None"] = Field(
        default="Password", description="Password, Sasl, Oidc or None (no authentication)."
    )
    rollout_strategy: Literal["WaitUntilReady", "ManuallyPromote", "ImmediatelyPromoteCausingDowntime"] = Field(
        default="WaitUntilReady", alias="rolloutStrategy", description="How upgrades roll out."
    )
    system_parameters: dict[str, str | int | float | bool] = Field(
        default_factory=dict, alias="systemParameters", description="Materialize system parameters (name: value)."
    )
    exposure: Exposure = Field(
        default_factory=Exposure,
        description="{type: internal|public|clusterIP, allowedCidrs: [...]}; public needs allowedCidrs.",
    )
    # Extra service-account annotations and pod labels, for identities a byo
    # cluster already has (IRSA role, workload identity, ...).
    service_account_annotations: dict[str, str] = Field(
        default_factory=dict,
        alias="serviceAccountAnnotations",
        description="byo: extra annotations on the instance's service account (e.g. an IRSA role).",
    )
    pod_labels: dict[str, str] = Field(
        default_factory=dict, alias="podLabels", description="byo: extra labels on the instance's pods."
    )
    balancerd_replicas: int | None = Field(
        default=None, ge=1, le=16, alias="balancerdReplicas", description="balancerd pods; default the operator's."
    )
    console_replicas: int | None = Field(
        default=None, ge=0, le=16, alias="consoleReplicas", description="console pods; default the operator's."
    )

    @field_validator("system_parameters")
    @classmethod
    def _parameter_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not _SYSTEM_PARAMETER.match(key):
                raise ValueError(f"{key!r} is not a Materialize system parameter name (lower_snake_case)")
        return value

    @property
    def resolved_namespace(self) -> str:
        return self.namespace or f"materialize-{self.name}"

    @property
    def needs_mz_system_password(self) -> bool:
        return self.authenticator in ("Password", "Sasl")


class CertManagerSettings(_Strict):
    # Set to false when the cluster already runs cert-manager.
    install: bool = True


class LocalSettings(_Strict):
    """The local target's in-cluster Postgres and object store."""

    storage_class: str | None = Field(
        default=None,
        alias="storageClass",
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        description="StorageClass of the Postgres and object-store volumes; default the cluster's default class.",
    )
    postgres_storage: Quantity = Field(
        default="10Gi", alias="postgresStorage", description="Size of the Postgres volume."
    )
    object_store_storage: Quantity = Field(
        default="20Gi", alias="objectStoreStorage", description="Size of the object-store (persist) volume."
    )


class AzureSettings(_Strict):
    """The azure target: one resource group with a VNet, AKS, Flexible Server and Blob storage."""

    name_prefix: str = Field(
        default="materialize",
        alias="namePrefix",
        pattern=r"^[a-z][a-z0-9-]{1,14}[a-z0-9]$",
        description="Prefix of every Azure resource name: 3-16 lower-case letters, digits and '-'.",
    )
    resource_group: str | None = Field(
        default=None,
        alias="resourceGroup",
        pattern=r"^[-\w.()]{1,89}[-\w()]$",
        description="An existing resource group to deploy into; default a new one named <namePrefix>-rg.",
    )
    kubernetes_version: str = Field(
        default="1.35",
        alias="kubernetesVersion",
        pattern=r"^1\.\d{2}(\.\d+)?$",
        description="AKS Kubernetes version (MAJOR.MINOR takes the newest patch AKS offers).",
    )
    api_server_authorized_ranges: list[Cidr] = Field(
        default_factory=list,
        alias="apiServerAuthorizedRanges",
        description="CIDRs that may reach the AKS API server (the NAT egress IP is added); empty: any address.",
    )
    entra_id_rbac: bool = Field(
        default=True,
        alias="entraIdRbac",
        description="Azure RBAC for Kubernetes, local accounts off; false: Kubernetes RBAC for adminGroupObjectIds.",
    )
    admin_group_object_ids: list[uuid.UUID] = Field(
        default_factory=list,
        alias="adminGroupObjectIds",
        description="Entra ID groups that administer the cluster; required when entraIdRbac is false.",
    )
    system_vm_size: str = Field(
        default="Standard_D4pds_v6",
        alias="systemVmSize",
        pattern=r"^Standard_[A-Za-z0-9_]+$",
        description="VM size of the system node pool (operator, cert-manager, kube-system).",
    )
    system_min_nodes: int = Field(default=2, ge=1, le=100, alias="systemMinNodes", description="System pool minimum.")
    system_max_nodes: int = Field(default=4, ge=1, le=100, alias="systemMaxNodes", description="System pool maximum.")
    materialize_vm_size: str = Field(
        default="Standard_E4pds_v6",
        alias="materializeVmSize",
        pattern=r"^Standard_[A-Za-z0-9_]+$",
        description="VM size of the Materialize node pool; needs local NVMe disks (a 'd' size) for swap.",
    )
    materialize_min_nodes: int = Field(
        default=1, ge=0, le=100, alias="materializeMinNodes", description="Materialize pool minimum."
    )
    materialize_max_nodes: int = Field(
        default=4, ge=1, le=100, alias="materializeMaxNodes", description="Materialize pool maximum."
    )
    vnet_cidr: Cidr = Field(default="10.1.0.0/16", alias="vnetCidr", description="Address space of the new VNet.")
    aks_subnet_cidr: Cidr = Field(
        default="10.1.0.0/20", alias="aksSubnetCidr", description="AKS node subnet, inside vnetCidr."
    )
    postgres_subnet_cidr: Cidr = Field(
        default="10.1.16.0/24", alias="postgresSubnetCidr", description="Postgres subnet, inside vnetCidr."
    )
    pod_cidr: Cidr = Field(
        default="10.244.0.0/16", alias="podCidr", description="Pod addresses (CNI overlay); outside the VNet."
    )
    service_cidr: Cidr = Field(
        default="10.2.0.0/16", alias="serviceCidr", description="Kubernetes Service addresses; outside the VNet."
    )
    existing_aks_subnet_id: str | None = Field(
        default=None,
        alias="existingAksSubnetId",
        pattern=r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/[^/]+/subnets/[^/]+$",
        description="Use an existing VNet: the AKS subnet's id (needs a NAT gateway and a Microsoft.Storage endpoint).",
    )
    existing_postgres_subnet_id: str | None = Field(
        default=None,
        alias="existingPostgresSubnetId",
        pattern=r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/[^/]+/subnets/[^/]+$",
        description="Use an existing VNet: a subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers.",
    )
    existing_postgres_dns_zone_id: str | None = Field(
        default=None,
        alias="existingPostgresDnsZoneId",
        pattern=r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/privateDnsZones/"
        r"[^/]+\.postgres\.database\.azure\.com$",
        description="Use an existing VNet: a private DNS zone *.postgres.database.azure.com linked to it.",
    )
    postgres_version: Literal["15", "16", "17", "18"] = Field(
        default="17", alias="postgresVersion", description="Flexible Server Postgres major version."
    )
    postgres_sku: str = Field(
        default="Standard_D2ds_v5",
        alias="postgresSku",
        pattern=r"^Standard_[BDE]\d+[a-z]*(_v\d+)?$",
        description="Flexible Server compute size (Standard_B*: Burstable, D*: General Purpose, E*: Memory Optimized).",
    )
    postgres_storage_gb: Literal[32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384] = Field(
        default=64, alias="postgresStorageGb", description="Flexible Server storage in GiB (grows automatically)."
    )
    postgres_backup_retention_days: int = Field(
        default=7, ge=7, le=35, alias="postgresBackupRetentionDays", description="Days of point-in-time backups."
    )
    postgres_geo_redundant_backup: bool = Field(
        default=False,
        alias="postgresGeoRedundantBackup",
        description="Copy backups to the paired region (set at creation only).",
    )
    postgres_high_availability: bool = Field(
        default=False,
        alias="postgresHighAvailability",
        description="Zone-redundant standby server (not with Burstable sizes).",
    )
    storage_replication: Literal["LRS", "ZRS"] = Field(
        default="LRS", alias="storageReplication", description="Premium Blob storage replication: LRS or ZRS."
    )

    @property
    def existing_network(self) -> bool:
        return self.existing_aks_subnet_id is not None

    @property
    def postgres_tier(self) -> Literal["Burstable", "GeneralPurpose", "MemoryOptimized"]:
        family = self.postgres_sku.removeprefix("Standard_")[0]
        if family == "B":
            return "Burstable"
        return "GeneralPurpose" if family == "D" else "MemoryOptimized"

    @model_validator(mode="after")
    def _consistent(self) -> AzureSettings:
        existing = (self.existing_aks_subnet_id, self.existing_postgres_subnet_id, self.existing_postgres_dns_zone_id)
        if any(value is not None for value in existing) and not all(value is not None for value in existing):
            raise ValueError(
                "azure.existingAksSubnetId, azure.existingPostgresSubnetId and azure.existingPostgresDnsZoneId: "
                "an existing VNet needs all three (or none, for a new VNet)"
            )
        if not self.entra_id_rbac and not self.admin_group_object_ids:
            raise ValueError(
                "azure.adminGroupObjectIds: with entraIdRbac false, name the Entra ID group(s) whose members "
                "administer the cluster (including whoever runs pulumi)"
            )
        for pool in ("system", "materialize"):
            low, high = getattr(self, f"{pool}_min_nodes"), getattr(self, f"{pool}_max_nodes")
            if low > high:
                raise ValueError(f"azure.{pool}MinNodes: {low} is more than {pool}MaxNodes ({high})")
        if self.postgres_high_availability and self.postgres_tier == "Burstable":
            raise ValueError(
                f"azure.postgresHighAvailability: Burstable sizes ({self.postgres_sku}) have no high availability; "
                "use a Standard_D* or Standard_E* size"
            )

        def alias(key: str) -> str:
            return f"azure.{type(self).model_fields[key].alias}"

        keys = ("vnet_cidr", "aks_subnet_cidr", "postgres_subnet_cidr", "pod_cidr", "service_cidr")
        networks = {key: ipaddress.ip_network(getattr(self, key)) for key in keys}
        pairs = [("pod_cidr", "service_cidr")]
        if not self.existing_network:
            for subnet in ("aks_subnet_cidr", "postgres_subnet_cidr"):
                if not networks[subnet].subnet_of(networks["vnet_cidr"]):  # type: ignore[arg-type]
                    raise ValueError(
                        f"{alias(subnet)}: {networks[subnet]} is not inside vnetCidr {networks['vnet_cidr']}"
                    )
            pairs += [
                ("aks_subnet_cidr", "postgres_subnet_cidr"),
                ("pod_cidr", "vnet_cidr"),
                ("service_cidr", "vnet_cidr"),
            ]
        for first, second in pairs:
            if networks[first].overlaps(networks[second]):
                raise ValueError(f"{alias(first)}: {networks[first]} overlaps {alias(second)} {networks[second]}")
        return self


# Instance families whose type names carry a local NVMe disk ('d' in the
# suffix, like r7gd) or are storage-optimized ('i' families like i4g; not inf).
_NVME_FAMILY = re.compile(r"^(i(?!nf)[a-z]*\d+[a-z-]*|[a-z]+\d+[a-z-]*d[a-z-]*)\.")
_EC2_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_IAM_PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")
# CloudWatch Logs accepts only these retention periods.
LogRetentionDays = Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557]
EksLogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]


def _instance_type(value: str) -> str:
    if not _EC2_INSTANCE_TYPE.match(value):
        raise ValueError(f"{value!r} is not an EC2 instance type such as r7gd.2xlarge")
    return value


def _iam_principal(value: str) -> str:
    if not _IAM_PRINCIPAL.match(value):
        raise ValueError(f"{value!r} is not an IAM role or user ARN (arn:aws:iam::123456789012:role/name)")
    return value


InstanceType = Annotated[str, AfterValidator(_instance_type)]
IamPrincipalArn = Annotated[str, AfterValidator(_iam_principal)]


class AwsSettings(_Strict):
    """The aws target: VPC, EKS with swap-ready Materialize nodes, RDS Postgres and S3 (docs/aws.md)."""

    cluster_name: str | None = Field(
        default=None,
        alias="clusterName",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$",
        description="EKS cluster name (also names the other resources); default materialize-<stack>.",
    )
    kubernetes_version: str = Field(
        default="1.35",
        alias="kubernetesVersion",
        pattern=r"^1\.(3[1-9]|[4-9]\d)$",
        description="EKS Kubernetes version (MAJOR.MINOR, 1.31 or newer).",
    )
    vpc_cidr: Cidr = Field(
        default="10.0.0.0/16", alias="vpcCidr", description="Address range of the new VPC (/16 to /20)."
    )
    availability_zones: list[Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$")]] | None = Field(
        default=None,
        alias="availabilityZones",
        min_length=2,
        max_length=6,
        description="Zones of the new VPC's subnets; default the region's first zoneCount zones.",
    )
    zone_count: int = Field(
        default=3, ge=2, le=6, alias="zoneCount", description="How many zones the new VPC spans (2-6)."
    )
    nat_gateways: Literal["single", "perZone"] = Field(
        default="perZone",
        alias="natGateways",
        description="NAT for the private subnets: one per zone (survives a zone outage) or a single one.",
    )
    existing_vpc_id: str | None = Field(
        default=None,
        alias="existingVpcId",
        pattern=r"^vpc-[0-9a-f]{8,17}$",
        description="Use an existing VPC instead of a new one (with existingPrivateSubnetIds).",
    )
    existing_private_subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = Field(
        default_factory=list,
        alias="existingPrivateSubnetIds",
        description="existingVpcId: private subnets (with NAT) in two or more zones for nodes and RDS.",
    )
    api_public_access: bool = Field(
        default=True,
        alias="apiPublicAccess",
        description="Keep the EKS API's public endpoint (limited to apiAllowedCidrs); the private one is always on.",
    )
    api_allowed_cidrs: list[Cidr] = Field(
        default_factory=list,
        alias="apiAllowedCidrs",
        description="CIDRs that may reach the public EKS API endpoint; required while apiPublicAccess is on.",
    )
    admin_principal_arns: list[IamPrincipalArn] = Field(
        default_factory=list,
        alias="adminPrincipalArns",
        description="IAM roles/users made cluster admins besides the principal that runs pulumi.",
    )
    cluster_log_types: list[EksLogType] = Field(
        default_factory=lambda: ["api", "audit", "authenticator"],
        alias="clusterLogTypes",
        description="EKS control-plane logs sent to CloudWatch.",
    )
    log_retention_days: LogRetentionDays = Field(
        default=90, alias="logRetentionDays", description="Days CloudWatch keeps the control-plane logs."
    )
    system_instance_type: InstanceType = Field(
        default="m7g.large",
        alias="systemInstanceType",
        description="EC2 type of the system nodes (operator, cert-manager, kube-system).",
    )
    system_node_count: int = Field(default=2, ge=1, le=20, alias="systemNodeCount", description="System nodes.")
    materialize_instance_type: InstanceType = Field(
        default="r7gd.2xlarge",
        alias="materializeInstanceType",
        description="EC2 type of the Materialize nodes; with swap on it needs local NVMe (a 'd' type).",
    )
    materialize_node_count: int = Field(
        default=1, ge=1, le=100, alias="materializeNodeCount", description="Materialize nodes."
    )
    node_volume_gb: int = Field(
        default=50, ge=20, le=1000, alias="nodeVolumeGb", description="Encrypted data volume of every node (GiB)."
    )
    postgres_version: Literal["15", "16", "17", "18"] = Field(
        default="17", alias="postgresVersion", description="RDS Postgres major version (minor upgrades are automatic)."
    )
    postgres_instance_class: str = Field(
        default="db.m7g.large",
        alias="postgresInstanceClass",
        pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$",
        description="RDS instance class.",
    )
    postgres_storage_gb: int = Field(
        default=50, ge=20, le=65536, alias="postgresStorageGb", description="RDS storage at creation (GiB)."
    )
    postgres_max_storage_gb: int = Field(
        default=200, ge=20, le=65536, alias="postgresMaxStorageGb", description="RDS storage autoscaling limit (GiB)."
    )
    postgres_multi_az: bool = Field(
        default=False, alias="postgresMultiAz", description="A standby in a second zone (doubles the RDS cost)."
    )
    postgres_backup_retention_days: int = Field(
        default=7, ge=7, le=35, alias="postgresBackupRetentionDays", description="Days of RDS point-in-time backups."
    )
    bucket_encryption: Literal["sse-s3", "sse-kms"] = Field(
        default="sse-s3",
        alias="bucketEncryption",
        description="S3 default encryption: S3-managed keys, or a KMS key created for the bucket.",
    )
    bucket_versioning: bool = Field(
        default=True, alias="bucketVersioning", description="Keep overwritten/deleted objects for a while."
    )
    noncurrent_version_days: int = Field(
        default=7,
        ge=1,
        le=3650,
        alias="noncurrentVersionDays",
        description="With bucketVersioning: days before replaced or deleted objects are removed for good.",
    )

    @property
    def existing_network(self) -> bool:
        return self.existing_vpc_id is not None

    @model_validator(mode="after")
    def _consistent(self) -> AwsSettings:
        if self.existing_vpc_id is not None and len(set(self.existing_private_subnet_ids)) < 2:
            raise ValueError(
                "aws.existingPrivateSubnetIds: an existing VPC needs two or more private subnets (in different zones)"
            )
        if self.existing_vpc_id is None and self.existing_private_subnet_ids:
            raise ValueError("aws.existingPrivateSubnetIds: only used with aws.existingVpcId")
        if self.existing_vpc_id is None:
            prefix = int(self.vpc_cidr.split("/")[1])
            if not 16 <= prefix <= 20:
                raise ValueError(f"aws.vpcCidr: {self.vpc_cidr} must be a /16 to /20 (pods take VPC addresses)")
        if self.availability_zones is not None and len(set(self.availability_zones)) != len(self.availability_zones):
            raise ValueError("aws.availabilityZones: a zone is listed twice")
        if self.postgres_max_storage_gb < self.postgres_storage_gb:
            raise ValueError(
                f"aws.postgresMaxStorageGb: {self.postgres_max_storage_gb} is below postgresStorageGb "
                f"{self.postgres_storage_gb}"
            )
        return self


def has_local_nvme(instance_type: str) -> bool:
    return bool(_NVME_FAMILY.match(instance_type))


# Machine families that boot only from Hyperdisk (no pd-* disks).
_HYPERDISK_ONLY_FAMILIES = frozenset({"c4", "c4a", "c4d", "n4", "n4a", "n4d"})
_GCP_MACHINE_TYPE = re.compile(r"^[a-z][a-z0-9]*-[a-z0-9-]+$")
_GKE_EXACT_VERSION = re.compile(r"^1\.\d{2}\.\d+-gke\.\d+$")


class GcpSettings(_Strict):
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
    kubernetes_version: str = Field(
        default="1.35",
        alias="kubernetesVersion",
        pattern=r"^1\.\d{2}(\.\d+-gke\.\d+)?$",
        description="GKE version: MAJOR.MINOR (newest patch), or exact (1.35.8-gke.1036000) without a channel.",
    )
    release_channel: Literal["RAPID", "REGULAR", "STABLE", "EXTENDED", "UNSPECIFIED"] = Field(
        default="REGULAR",
        alias="releaseChannel",
        description="GKE release channel; UNSPECIFIED pins kubernetesVersion and turns node auto-upgrade off.",
    )
    zones: list[Annotated[str, Field(pattern=r"^[a-z]+-[a-z]+\d+-[a-z]$")]] = Field(
        default_factory=list,
        max_length=4,
        description="Zones of the node pools (in region); default GKE's choice of the region's zones.",
    )
    api_allowed_cidrs: list[Cidr] = Field(
        default_factory=lambda: ["0.0.0.0/0"],
        alias="apiAllowedCidrs",
        min_length=1,
        max_length=50,
        description="CIDRs that may reach the GKE API (master authorized networks); include where pulumi runs.",
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
        le=24,
        alias="materializeLocalSsdCount",
        description="Raw-block local NVMe SSDs per Materialize node; 0 with an -lssd type (its bundled disks).",
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
        if self.materialize_machine_type.endswith("-lssd") and self.materialize_local_ssd_count != 0:
            raise ValueError(
                f"{alias('materialize_local_ssd_count')}: {self.materialize_machine_type} comes with a fixed set of "
                "local SSDs; leave the count at 0 to use them"
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


class Settings(_Strict):
    target: Literal["local", "byo", "aws", "gcp", "azure"] = Field(
        description="Where the cluster, Postgres and blob storage come from: local, byo, aws, gcp or azure."
    )
    region: str | None = Field(default=None, description="Cloud region; required for aws, gcp and azure.")
    version: Annotated[str, AfterValidator(_version)] = Field(
        default=DEFAULT_MATERIALIZE_VERSION,
        description="Materialize release (vMAJOR.MINOR.PATCH): the operator chart and environmentd image together.",
    )
    license_key: SecretStr = Field(alias="licenseKey", description="Materialize license key (set with --secret).")
    instances: list[InstanceSettings] = Field(
        default_factory=lambda: [InstanceSettings(name="main")],
        min_length=1,
        description="Materialize instances (see the instance keys below); default one instance named main.",
    )
    swap: bool | None = Field(
        default=None,
        description="Run clusterd with swap; needs nodes labelled materialize.cloud/swap=true. Default: per target.",
    )
    node_placement: NodePlacement = Field(
        default_factory=NodePlacement,
        alias="nodePlacement",
        description="Override nodeSelector/tolerations for Materialize pods (materialize) and the operator (system).",
    )
    network_policies: bool = Field(
        default=True, alias="networkPolicies", description="Install the operator's network policies."
    )
    protect_data: bool = Field(
        default=True,
        alias="protectData",
        description="Protect databases and buckets from deletion; set false only for throwaway stacks.",
    )
    crd_version: Literal["v1", "v1alpha1"] = Field(
        default="v1", alias="crdVersion", description="Materialize CRD version to create instances with."
    )
    cert_manager: CertManagerSettings = Field(
        default_factory=CertManagerSettings,
        alias="certManager",
        description="cert-manager: {install: false} when the cluster already runs it.",
    )
    pod_metrics: bool = Field(
        default=False, alias="podMetrics", description="Console pod metrics (needs metrics-server)."
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Tags / labels for every taggable cloud resource.")
    kubeconfig: SecretStr | None = Field(
        default=None, description="Kubeconfig file path, or its contents set with --secret (byo, local)."
    )
    kube_context: str | None = Field(default=None, alias="kubeContext", description="Kubeconfig context (byo, local).")
    metadata_backend_url: SecretStr | None = Field(
        default=None,
        alias="metadataBackendUrl",
        description="byo: Postgres URL; {instance} stands for the instance name. --secret if it has a password.",
    )
    persist_backend_url: SecretStr | None = Field(
        default=None,
        alias="persistBackendUrl",
        description="byo: persist (blob) URL; {instance} stands for the instance name. --secret if it has keys.",
    )
    cloud_provider: Literal["aws", "gcp", "azure", "generic"] = Field(
        default="generic",
        alias="cloudProvider",
        description="byo: the cloud the existing cluster runs in (operator cloudProvider.type, load balancers).",
    )
    aws_account_id: Annotated[str, Field(pattern=r"^\d{12}$")] | None = Field(
        default=None, alias="awsAccountId", description="byo with cloudProvider aws: the 12-digit account id."
    )
    local: LocalSettings = Field(
        default_factory=LocalSettings,
        description="local: {storageClass, postgresStorage, objectStoreStorage} of the in-cluster stores.",
    )
    gcp: GcpSettings = Field(
        default_factory=GcpSettings,
        description="gcp: project, VPC, GKE version and node pools, Cloud SQL (see docs/gcp.md).",
    )
    aws: AwsSettings = Field(
        default_factory=AwsSettings,
        description="aws: VPC, EKS node groups, RDS Postgres and S3 (see docs/aws.md).",
    )
    azure: AzureSettings = Field(
        default_factory=AzureSettings,
        description="azure: resource group, VNet, AKS pools, Flexible Server and Blob storage (see docs/azure.md).",
    )

    @field_validator("license_key")
    @classmethod
    def _license_not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("the license key is empty")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        names = [instance.name for instance in self.instances]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(f"instances: instance names must be unique; repeated: {', '.join(duplicated)}")
        namespaces = [instance.resolved_namespace for instance in self.instances]
        shared = sorted({ns for ns in namespaces if namespaces.count(ns) > 1})
        if shared:
            raise ValueError(f"instances: each instance needs its own namespace; shared: {', '.join(shared)}")
        if self.target in CLOUD_TARGETS and not self.region:
            raise ValueError(f"region: target {self.target} needs a region")
        if self.target != "byo":
            for key in ("metadata_backend_url", "persist_backend_url"):
                if getattr(self, key) is not None:
                    raise ValueError(
                        f"{_alias(key)}: only used by the byo target; the {self.target} target creates its own"
                    )
        if not self.has_internal_load_balancers:
            for index, instance in enumerate(self.instances):
                if instance.exposure.type == "internal":
                    raise ValueError(
                        f"instances[{index}].exposure.type: internal needs a cloud load balancer; "
                        f"on this cluster ({self.target}, cloudProvider {self.cloud_provider}) use clusterIP or public"
                    )
        if self.crd_version == "v1" and Version.parse(self.version) < Version.parse(FIRST_V1_CRD_VERSION):
            raise ValueError(
                f"crdVersion: v1 needs version {FIRST_V1_CRD_VERSION} or newer; "
                f"use crdVersion v1alpha1 with {self.version}"
            )
        if self.target == "byo" and self.kubeconfig is None:
            raise ValueError(
                "kubeconfig: the byo target needs it (a kubeconfig file path, or its contents set with --secret)"
            )
        if self.target == "byo" and self.cloud_provider == "aws" and not self.aws_account_id:
            raise ValueError("awsAccountId: cloudProvider aws needs it (the 12-digit AWS account id)")
        return self

    @property
    def has_internal_load_balancers(self) -> bool:
        if self.target == "byo":
            return self.cloud_provider in CLOUD_TARGETS
        return self.target in CLOUD_TARGETS

    def exposure_type(self, instance: InstanceSettings) -> Literal["internal", "public", "clusterIP"]:
        if instance.exposure.type is not None:
            return instance.exposure.type
        return "internal" if self.has_internal_load_balancers else "clusterIP"


def _alias(field: str) -> str:
    info = Settings.model_fields.get(field)
    return info.alias if info is not None and info.alias else field


# Keys whose values are Pulumi secrets: never shown in errors, never plain text.
SECRET_KEYS = frozenset({"licenseKey", "kubeconfig", "metadataBackendUrl", "persistBackendUrl"})


def config_keys() -> list[str]:
    """Every top-level config key a stack may set, in declaration order."""
    return [info.alias or name for name, info in Settings.model_fields.items()]


def pulumi_config_type(annotation: Any) -> str | None:
    """The Pulumi project-config type of a settings field, or None for objects and lists."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return pulumi_config_type(args[0])
    if origin is typing.Annotated:
        return pulumi_config_type(args[0])
    if origin is Literal or annotation in (str, SecretStr):
        return "string"
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    return None


def _decode(key: str, raw: Any) -> Any:
    """The CLI hands every value over as text; all but string keys are JSON."""
    field = next((f for n, f in Settings.model_fields.items() if (f.alias or n) == key), None)
    if field is not None and pulumi_config_type(field.annotation) != "string" and isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            # Leave it as text: pydantic reports the type mismatch with the key.
            return raw
    return raw


def _describe_value(key: str, value: Any) -> str:
    if key in SECRET_KEYS:
        return "(secret, not shown)"
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _error_line(error: Mapping[str, Any], raw: Mapping[str, Any]) -> str:
    location = [part for part in error["loc"] if part not in ("function-after", "str")]
    top = str(location[0]) if location else ""
    path = top
    for part in location[1:]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        parent = _allowed_keys_at(location[:-1])
        hint = difflib.get_close_matches(str(location[-1]), parent, n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        return f"{PROJECT}:{path}: unknown key{suggestion}; allowed keys here: {', '.join(parent)}"
    if error["type"] == "missing":
        return f"{PROJECT}:{path}: required but not set"
    if not location:
        # Cross-key checks start their message with the key they are about.
        return f"{PROJECT}:{message}"
    shown = _describe_value(top, error.get("input"))
    if message.startswith(shown):
        return f"{PROJECT}:{path}: {message}"
    return f"{PROJECT}:{path}: {shown} is not allowed: {message}"


def _allowed_keys_at(location: list[Any]) -> list[str]:
    model: type[BaseModel] = Settings
    for part in location:
        if isinstance(part, int):
            continue
        info = next((f for n, f in model.model_fields.items() if (f.alias or n) == part or n == part), None)
        if info is None:
            break
        annotation = info.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        for candidate in candidates:
            nested += [
                a for a in getattr(candidate, "__args__", ()) if isinstance(a, type) and issubclass(a, BaseModel)
            ]
        if not nested:
            break
        model = nested[0]
    return [info.alias or name for name, info in model.model_fields.items()]


def load_settings(config: Mapping[str, Any], secret_keys: frozenset[str] = frozenset()) -> Settings:
    """Validate raw config (keys without the project prefix) into Settings.

    `secret_keys` are the keys the stack stores encrypted; a credential given
    in plain text is refused so it never lands unencrypted in a stack file.
    """
    raw = {key: _decode(key, value) for key, value in config.items()}
    problems: list[str] = []
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as error:
        problems = [_error_line(detail, raw) for detail in error.errors()]
        raise pulumi.RunError(_report(problems)) from None
    problems += _check_secret_values(settings, secret_keys)
    if problems:
        raise pulumi.RunError(_report(problems))
    return settings


def _report(problems: list[str]) -> str:
    return "invalid stack configuration:\n" + "\n".join(f"  - {line}" for line in problems)


def _check_secret_values(settings: Settings, secret_keys: frozenset[str]) -> list[str]:
    problems: list[str] = []
    if "licenseKey" not in secret_keys:
        problems.append(
            f"{PROJECT}:licenseKey: must be stored as a secret: pulumi config set --secret licenseKey <key>"
        )
    many = len(settings.instances) > 1
    for key, field, parse in (
        ("metadataBackendUrl", settings.metadata_backend_url, parse_metadata_url),
        ("persistBackendUrl", settings.persist_backend_url, parse_persist_url),
    ):
        if field is None:
            if settings.target == "byo":
                problems.append(f"{PROJECT}:{key}: required for the byo target but not set")
            continue
        url = field.get_secret_value()
        if many and INSTANCE_PLACEHOLDER not in url:
            problems.append(
                f"{PROJECT}:{key}: with several instances the URL must contain {INSTANCE_PLACEHOLDER} "
                "so every instance gets its own database / prefix"
            )
        try:
            parsed = parse(url.replace(INSTANCE_PLACEHOLDER, "placeholder"))
        except ValueError as error:
            problems.append(f"{PROJECT}:{key}: (secret, not shown) is not allowed: {error}")
            continue
        if _carries_credentials(parsed) and key not in secret_keys:
            problems.append(
                f"{PROJECT}:{key}: carries credentials in plain text; store it with "
                f"pulumi config set --secret {key} <url>"
            )
    kubeconfig = settings.kubeconfig.get_secret_value() if settings.kubeconfig else None
    if kubeconfig is not None and "kubeconfig" not in secret_keys and is_kubeconfig_content(kubeconfig):
        problems.append(
            f"{PROJECT}:kubeconfig: kubeconfig contents must be stored as a secret "
            "(pulumi config set --secret kubeconfig < file), or give a file path instead"
        )
    return problems


def _carries_credentials(parsed: Any) -> bool:
    return bool(getattr(parsed, "password", None) or getattr(parsed, "has_secret", False))


def read_pulumi_config() -> tuple[dict[str, Any], frozenset[str]]:
    """All of this project's config keys from the running Pulumi program.

    The SDK has no public way to list config keys, and listing them is the only
    way to reject a misspelt one, so this reads the runtime's config map.
    """
    from pulumi.runtime import config as runtime_config

    prefix = f"{PROJECT}:"
    keys = {
        key for key in set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env()) if key.startswith(prefix)
    }
    values = {key.removeprefix(prefix): runtime_config.get_config(key) for key in keys}
    from_env = set(runtime_config.get_config_secret_keys_env())
    secret = {key.removeprefix(prefix) for key in keys if runtime_config.is_config_secret(key) or key in from_env}
    return values, frozenset(secret)
