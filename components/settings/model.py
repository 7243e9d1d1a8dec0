"""The settings of a whole stack."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from components.cluster_sizes import ClusterSize, SizeName
from components.settings.base import CLOUD_TARGETS, StrictModel, materialize_version
from components.settings.instance import InstanceSettings
from components.settings.monitoring import MonitoringSettings
from components.settings.placement import NodePlacement
from components.settings.target_sections import TARGET_SECTIONS, section_model
from components.versions import (
    DEFAULT_MATERIALIZE_VERSION,
    FIRST_V1_CRD_VERSION,
    Version,
)

if TYPE_CHECKING:
    # What the target code reads. At run time the fields are validated by the selected
    # target's model, imported only then (target_sections.py); other targets' fields are None.
    from components.settings.aws import AwsSettings as AwsSection
    from components.settings.azure import AzureSettings as AzureSection
    from components.settings.gcp import GcpSettings as GcpSection
    from components.settings.local import LocalSettings as LocalSection
else:
    AwsSection = AzureSection = GcpSection = LocalSection = Any


class CertManagerSettings(StrictModel):
    # Set to false when the cluster already runs cert-manager.
    install: bool = True


class Settings(StrictModel):
    target: Literal["local", "byo", "aws", "gcp", "azure"] = Field(
        description="Where the cluster, Postgres and blob storage come from: local, byo, aws, gcp or azure."
    )
    region: str | None = Field(default=None, description="Cloud region; required for aws, gcp and azure.")
    version: Annotated[str, AfterValidator(materialize_version)] = Field(
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
    monitoring: MonitoringSettings = Field(
        default_factory=MonitoringSettings,
        description=(
            "Metrics and dashboards, logs off by default: {enabled, retention, storage, grafana, remoteWrite, logs} "
            "(docs/monitoring.md)."
        ),
    )
    cluster_sizes: dict[SizeName, ClusterSize] = Field(
        default_factory=dict,
        alias="clusterSizes",
        description="Extra replica sizes for the chart, name: {workers, cpuLimit, memoryLimit, diskLimit, ...}.",
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
    # Each is validated by its target's model only on a stack with that target (the field is None
    # on every other stack): see _target_section.
    local: LocalSection = Field(
        default=None,
        validate_default=True,
        description="local: {storageClass, postgresStorage, objectStoreStorage} of the in-cluster stores.",
    )
    gcp: GcpSection = Field(
        default=None,
        validate_default=True,
        description="gcp: project, VPC, GKE version and node pools, Cloud SQL (see docs/gcp.md).",
    )
    aws: AwsSection = Field(
        default=None,
        validate_default=True,
        description="aws: VPC, EKS node groups, RDS Postgres and S3 (see docs/aws.md).",
    )
    azure: AzureSection = Field(
        default=None,
        validate_default=True,
        description="azure: resource group, VNet, AKS pools, Flexible Server and Blob storage (see docs/azure.md).",
    )

    @field_validator(*TARGET_SECTIONS, mode="plain")
    @classmethod
    def _target_section(cls, value: Any, info: ValidationInfo) -> Any:
        # `target` is declared first, so it is validated (or has failed) by now.
        if info.field_name != info.data.get("target"):
            return value  # another target's section: refused in _consistent when it is set
        assert info.field_name is not None
        return section_model(info.field_name).model_validate({} if value is None else value)

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
        for key in TARGET_SECTIONS:
            if key != self.target and getattr(self, key) is not None:
                raise ValueError(f"{key}: only used by the {key} target; this stack's target is {self.target}")
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
