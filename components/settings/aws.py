"""Settings of the aws target."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    model_validator,
)

from components.settings.base import BucketVersioning, Cidr, ReachableCidr

# Instance families whose type names carry a local NVMe disk ('d' in the
# suffix, like r7gd) or are storage-optimized ('i' families like i4g; not inf).
_NVME_FAMILY = re.compile(r"^(i(?!nf)[a-z]*\d+[a-z-]*|[a-z]+\d+[a-z-]*d[a-z-]*)\.")
_EC2_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_IAM_PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")
# CloudWatch Logs accepts only these retention periods.
LogRetentionDays = Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557]
EksLogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
EKS_LOG_TYPES: tuple[EksLogType, ...] = ("api", "audit", "authenticator", "controllerManager", "scheduler")
# RDS windows: "hh24:mi-hh24:mi" (UTC) and "ddd:hh24:mi-ddd:hh24:mi".
_HOUR_MINUTE = r"([01]\d|2[0-3]):[0-5]\d"
_DAY = r"(mon|tue|wed|thu|fri|sat|sun)"
# A zone name (us-east-1a) or zone id (use1-az1).
_ZONE = r"^([a-z]{2}(-[a-z]+)+-\d[a-z]|[a-z]{2,5}\d-az\d+)$"
# The interface endpoints AWS lists for EKS clusters without outbound internet
# access ("Deploy private clusters with limited internet access", Pod
# requirements table: awsdocs/amazon-eks-user-guide
# latest/ug/clusters/private-clusters.adoc @ 101184ecc138f7f661b484f2cabac7022b726a6b).
# S3 is left out (the new VPC already has its free gateway endpoint), and so is
# Route 53 (a global service, not com.amazonaws.<region>.*).
InterfaceEndpoint = Literal[
    "ec2", "ecr.api", "ecr.dkr", "elasticloadbalancing", "logs", "sts", "eks", "eks-auth", "ssm", "xray"
]


def _instance_type(value: str) -> str:
    if not _EC2_INSTANCE_TYPE.match(value):
        raise ValueError(f"{value!r} is not an EC2 instance type such as r7gd.2xlarge")
    return value


def _iam_principal(value: str) -> str:
    if not _IAM_PRINCIPAL.match(value):
        raise ValueError(f"{value!r} is not an IAM role or user ARN (arn:aws:iam::123456789012:role/name)")
    return value


def _distinct(values: list[str]) -> list[str]:
    twice = sorted({value for value in values if values.count(value) > 1})
    if twice:
        raise ValueError(f"{', '.join(map(repr, twice))} listed twice")
    return values


InstanceType = Annotated[str, AfterValidator(_instance_type)]
IamPrincipalArn = Annotated[str, AfterValidator(_iam_principal)]


class AwsSettings(BucketVersioning):
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
    availability_zones: list[Annotated[str, Field(pattern=_ZONE)]] | None = Field(
        default=None,
        alias="availabilityZones",
        min_length=2,
        max_length=6,
        description="Zones (names like us-east-1a or ids like use1-az1) of the new VPC's subnets; default the "
        "first zoneCount zone ids that offer both node instance types.",
    )
    zone_count: int = Field(
        default=3, ge=2, le=6, alias="zoneCount", description="How many zones the new VPC spans (2-6)."
    )
    nat_gateways: Literal["single", "perZone"] = Field(
        default="perZone",
        alias="natGateways",
        description="NAT for the private subnets: one per zone (survives a zone outage) or a single one.",
    )
    interface_endpoints: Annotated[list[InterfaceEndpoint], AfterValidator(_distinct)] = Field(
        default_factory=list,
        alias="interfaceEndpoints",
        description="Interface VPC endpoints (private DNS on) in the new VPC's private subnets, e.g. sts, ecr.api, "
        "ecr.dkr, ec2, elasticloadbalancing, logs: AWS API traffic off the NAT; each bills per hour per zone.",
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
    api_allowed_cidrs: list[ReachableCidr] = Field(
        default_factory=list,
        alias="apiAllowedCidrs",
        description="CIDRs that may reach the public EKS API endpoint; required while apiPublicAccess is on.",
    )
    admin_principal_arns: list[IamPrincipalArn] = Field(
        default_factory=list,
        alias="adminPrincipalArns",
        description="IAM roles/users made cluster admins besides the principal that runs pulumi.",
    )
    kubernetes_support: Literal["STANDARD", "EXTENDED"] = Field(
        default="STANDARD",
        alias="kubernetesSupport",
        description="EKS support policy: STANDARD upgrades at the end of standard support; EXTENDED bills extra.",
    )
    cluster_log_types: list[EksLogType] = Field(
        default_factory=lambda: list(EKS_LOG_TYPES),
        alias="clusterLogTypes",
        description="EKS control-plane logs sent to CloudWatch (default all five).",
    )
    flow_logs: bool = Field(
        default=True, alias="flowLogs", description="VPC flow logs (accepted and rejected traffic) to CloudWatch."
    )
    log_retention_days: LogRetentionDays = Field(
        default=90,
        alias="logRetentionDays",
        description="Days CloudWatch keeps the control-plane, flow and Postgres logs.",
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
    postgres_multi_az: bool | None = Field(
        default=None,
        alias="postgresMultiAz",
        description="A standby in a second zone (doubles the RDS cost); default on when the stack's tags have "
        "environment: production.",
    )
    postgres_backup_retention_days: int = Field(
        default=7, ge=7, le=35, alias="postgresBackupRetentionDays", description="Days of RDS point-in-time backups."
    )
    postgres_backup_window: str = Field(
        default="03:00-04:00",
        alias="postgresBackupWindow",
        pattern=rf"^{_HOUR_MINUTE}-{_HOUR_MINUTE}$",
        description="Daily RDS backup window (UTC, hh:mm-hh:mm, at least 30 minutes).",
    )
    postgres_maintenance_window: str = Field(
        default="sun:05:00-sun:06:00",
        alias="postgresMaintenanceWindow",
        pattern=rf"^{_DAY}:{_HOUR_MINUTE}-{_DAY}:{_HOUR_MINUTE}$",
        description="Weekly RDS maintenance window (UTC, ddd:hh:mm-ddd:hh:mm, at least 30 minutes).",
    )
    postgres_apply_changes: Literal["immediately", "maintenanceWindow"] = Field(
        default="immediately",
        alias="postgresApplyChanges",
        description="When RDS applies a changed setting: at once, or in postgresMaintenanceWindow.",
    )
    keep_backups_on_delete: bool = Field(
        default=True,
        alias="keepBackupsOnDelete",
        description="Deleting RDS leaves a final snapshot and its automated backups; false only for throwaway stacks.",
    )
    postgres_encryption: Literal["aws-managed", "kms"] = Field(
        default="aws-managed",
        alias="postgresEncryption",
        description="RDS storage encryption: the account's aws/rds key, or a KMS key created for the database "
        "(read at creation: a change would replace the database).",
    )
    log_encryption: Literal["aws-managed", "kms"] = Field(
        default="aws-managed",
        alias="logEncryption",
        description="CloudWatch log groups (control-plane, Postgres): service-managed encryption, or a KMS key "
        "created for them.",
    )
    bucket_encryption: Literal["sse-s3", "sse-kms"] = Field(
        default="sse-s3",
        alias="bucketEncryption",
        description="S3 default encryption: S3-managed keys, or a KMS key created for the bucket.",
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
        if self.existing_vpc_id is not None and self.interface_endpoints:
            raise ValueError(
                "aws.interfaceEndpoints: only made in the new VPC this stack creates; an existing VPC "
                "(aws.existingVpcId) brings its own endpoints"
            )
        if len(set(self.interface_endpoints)) != len(self.interface_endpoints):
            raise ValueError(
                f"aws.interfaceEndpoints: a service is listed twice ({', '.join(self.interface_endpoints)})"
            )
        if self.existing_vpc_id is None and self.existing_private_subnet_ids:
            raise ValueError("aws.existingPrivateSubnetIds: only used with aws.existingVpcId")
        if self.existing_vpc_id is None:
            prefix = int(self.vpc_cidr.split("/")[1])
            if not 16 <= prefix <= 20:
                raise ValueError(f"aws.vpcCidr: {self.vpc_cidr} must be a /16 to /20 (pods take VPC addresses)")
        if self.availability_zones is not None and len(set(self.availability_zones)) != len(self.availability_zones):
            raise ValueError("aws.availabilityZones: a zone is listed twice")
        backup = _minutes(*self.postgres_backup_window.split("-"))
        maintenance = _weekly_minutes(*self.postgres_maintenance_window.split("-"))
        for alias, (start, end), period in (
            ("postgresBackupWindow", backup, _DAY_MINUTES),
            ("postgresMaintenanceWindow", maintenance, _WEEK_MINUTES),
        ):
            if (end - start) % period < 30:
                raise ValueError(f"aws.{alias}: the window must last at least 30 minutes")
        # RDS refuses a backup window that overlaps the maintenance window on any day.
        if any(_overlap(backup, maintenance, day) for day in range(7)):
            raise ValueError(
                f"aws.postgresBackupWindow: {self.postgres_backup_window} overlaps postgresMaintenanceWindow "
                f"{self.postgres_maintenance_window}"
            )
        if self.postgres_max_storage_gb < self.postgres_storage_gb:
            raise ValueError(
                f"aws.postgresMaxStorageGb: {self.postgres_max_storage_gb} is below postgresStorageGb "
                f"{self.postgres_storage_gb}"
            )
        return self


_DAY_MINUTES = 24 * 60
_WEEK_MINUTES = 7 * _DAY_MINUTES
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _minutes(start: str, end: str) -> tuple[int, int]:
    return _clock(start), _clock(end)


def _weekly_minutes(start: str, end: str) -> tuple[int, int]:
    def at(text: str) -> int:
        day, clock = text.split(":", 1)
        return _DAYS.index(day) * _DAY_MINUTES + _clock(clock)

    return at(start), at(end)


def _spans(start: int, end: int, period: int) -> list[tuple[int, int]]:
    """A window as one or two [start, end) spans within one period (it may wrap)."""
    start, end = start % period, end % period
    return [(start, end)] if start < end else [(start, period), (0, end)]


def _overlap(daily: tuple[int, int], weekly: tuple[int, int], day: int) -> bool:
    offset = day * _DAY_MINUTES
    backup = _spans(daily[0] + offset, daily[1] + offset, _WEEK_MINUTES)
    maintenance = _spans(*weekly, _WEEK_MINUTES)
    return any(a < d and c < b for a, b in backup for c, d in maintenance)


def has_local_nvme(instance_type: str) -> bool:
    return bool(_NVME_FAMILY.match(instance_type))
