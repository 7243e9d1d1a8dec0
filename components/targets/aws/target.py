"""The aws target: a VPC, EKS with swap-ready Materialize nodes, RDS Postgres
and S3, with one IAM role per instance (IRSA).

Order, for a fresh `up`: the network first; then, side by side, the cluster
(control plane, node groups, add-ons, load balancer controller) and the
database and bucket, which need only the network. Each instance waits only
for what it reads: its database Job, the bucket's policy and its own role.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from components.contract import (
    ANYWHERE,
    BlobAccess,
    ClusterNetwork,
    InstanceIdentity,
    MetadataDatabase,
    MonitoringSupport,
    NetworkEndpoint,
    NetworkPeer,
    Platform,
    TargetResult,
)
from components.dataplane.monitoring_values import MONITORING_NAMESPACE
from components.persist_url import s3_persist_url
from components.settings import Placement, Settings, Toleration
from components.settings.aws import has_local_nvme
from components.settings.loading import report
from components.targets.aws.addons import ClusterAddons, ClusterAddonsArgs
from components.targets.aws.block_storage import BlockStorage, BlockStorageArgs
from components.targets.aws.bottlerocket import materialize_node_settings
from components.targets.aws.bucket import Bucket, BucketArgs
from components.targets.aws.cluster import Cluster, ClusterArgs
from components.targets.aws.context import AwsContext
from components.targets.aws.database import Database, DatabaseArgs
from components.targets.aws.database_setup import NAMESPACE as SETUP_NAMESPACE
from components.targets.aws.database_setup import DatabaseSetup, DatabaseSetupArgs
from components.targets.aws.instance_role import InstanceRole, InstanceRoleArgs
from components.targets.aws.load_balancer_controller import (
    CONSOLE_ANNOTATIONS,
    INTERNAL_ANNOTATIONS,
    POD_READINESS_GATE_LABELS,
    PUBLIC_ANNOTATIONS,
    LoadBalancerController,
    LoadBalancerControllerArgs,
)
from components.targets.aws.log_groups import LogsKey
from components.targets.aws.metadata_database import AwsMetadataDatabase, MetadataDatabaseArgs
from components.targets.aws.network import Network, NetworkArgs
from components.targets.aws.node_group import NodeGroup, NodeGroupArgs
from components.targets.aws.pins import DISK_SETUP_IMAGE
from components.targets.aws.regions import region_problem
from components.targets.aws.volume_cleanup import VolumeCleanup, VolumeCleanupArgs
from components.targets.disk_setup import SWAP_NODE_LABELS
from components.targets.prepared_stores import PreparedMetadataStore

# Materialize's node placement, as in Materialize's own Terraform: a workload
# label, with swap also the label the operator schedules swap-using pods by
# (SWAP_NODE_LABELS), and a taint that keeps everything else off these nodes.
WORKLOAD_LABEL: tuple[str, str] = ("workload", "materialize-instance")
MATERIALIZE_TAINT = Toleration(
    key="materialize.cloud/workload", operator="Equal", value="materialize-instance", effect="NoSchedule"
)
SYSTEM_LABEL: tuple[str, str] = ("workload", "system")
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
_STS_ASSUMED_ROLE = re.compile(r"^arn:(?P<partition>[\w-]+):sts::\d{12}:assumed-role/")
# Callers EKS access entries cannot name: an STS federated-user session
# (GetFederationToken) is a session, not an IAM principal (CreateAccessEntry:
# "You can't use the STS session principal type with access entries",
# https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAccessEntry.html),
# and the account's root user is not a principal to hand a cluster to.
_UNUSABLE_CALLERS = (
    (re.compile(r"^arn:[\w-]+:sts::\d{12}:federated-user/"), "an STS federated-user session"),
    (re.compile(r"^arn:[\w-]+:iam::\d{12}:root$"), "the account's root user"),
)


class AwsBlobStore:
    def __init__(self, bucket: Bucket, roles: Mapping[str, InstanceRole], region: str) -> None:
        self._bucket = bucket
        self._roles = dict(roles)
        self._region = region

    def access_for(self, instance: InstanceIdentity) -> BlobAccess:
        role = self._roles.get(instance.name)
        if role is None:
            raise KeyError(f"the aws target made no role for instance {instance.name!r}")
        region = self._region
        # No credentials in the URL: the instance's pods assume its role (IRSA).
        url = self._bucket.name.apply(lambda bucket: s3_persist_url(bucket, instance.name, region))
        return BlobAccess(
            persist_url=url,
            service_account_annotations={IRSA_ANNOTATION: role.arn},
            ready=(*self._bucket.ready, *role.ready),
        )


class AwsTarget(pulumi.ComponentResource):
    result: TargetResult

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        _refuse_unusable(settings)
        super().__init__("materialize:aws:Target", name, None, opts)
        aws_settings = settings.aws
        region = settings.region or ""
        cluster_name = aws_settings.cluster_name or _default_cluster_name(pulumi.get_stack())
        provider = aws.Provider(f"{name}-aws", region=region, opts=pulumi.ResourceOptions(parent=self))
        invoke = pulumi.InvokeOptions(provider=provider, parent=self)
        caller = aws.get_caller_identity(opts=invoke)
        context = AwsContext(
            provider=provider,
            region=region,
            account_id=caller.account_id,
            partition=caller.arn.split(":")[1],
            tags=dict(sorted(settings.tags.items())),
        )
        deployer = _deployer_arn(caller.arn, invoke)
        zones = _zones(settings, invoke)
        child = pulumi.ResourceOptions(parent=self)
        protect = settings.protect_data
        swap = True if settings.swap is None else settings.swap

        # One key for every log group of ours (logEncryption: kms); the EKS group is always
        # kept at destroy, so the key that reads it is kept too.
        logs_key = (
            LogsKey(f"{name}-logs", context=context, cluster_name=cluster_name, protect=protect, keep=True, opts=child)
            if aws_settings.log_encryption == "kms"
            else None
        )
        logs_key_arn = logs_key.arn if logs_key is not None else None

        network = Network(
            f"{name}-network",
            NetworkArgs(
                context=context,
                settings=aws_settings,
                cluster_name=cluster_name,
                zones=zones,
                logs_key_arn=logs_key_arn,
            ),
            opts=child,
        )
        database = Database(
            f"{name}-database",
            DatabaseArgs(
                context=context,
                settings=aws_settings,
                cluster_name=cluster_name,
                vpc_id=network.vpc_id,
                subnet_ids=network.private_subnet_ids,
                client_security_group_id=network.node_security_group_id,
                protect=protect,
                logs_key_arn=logs_key_arn,
            ),
            opts=child,
        )
        bucket = Bucket(
            f"{name}-persist",
            BucketArgs(context=context, settings=aws_settings, cluster_name=cluster_name, protect=protect),
            opts=child,
        )
        cluster_args = ClusterArgs(
            context=context,
            settings=aws_settings,
            cluster_name=cluster_name,
            subnet_ids=network.private_subnet_ids,
            deployer_arn=deployer,
            protect=protect,
            enforce_network_policies=settings.network_policies,
            logs_key_arn=logs_key_arn,
        )
        cluster = Cluster(f"{name}-cluster", cluster_args, opts=child)

        system_nodes = settings.node_placement.system or Placement(nodeSelector=dict([SYSTEM_LABEL]))
        materialize_labels = dict([WORKLOAD_LABEL, *(SWAP_NODE_LABELS.items() if swap else [])])
        materialize_nodes = settings.node_placement.materialize or Placement(
            nodeSelector=materialize_labels, tolerations=[MATERIALIZE_TAINT]
        )
        # Runs at destroy once the node groups are gone (they depend on it), when
        # monitoring's volumes are no longer attached.
        volume_cleanup = VolumeCleanup(
            f"{name}-volume-cleanup",
            VolumeCleanupArgs(context=context, cluster_name=cluster_name, namespace=MONITORING_NAMESPACE),
            opts=child,
        )
        node_groups = [
            NodeGroup(
                f"{name}-{group}-nodes",
                NodeGroupArgs(
                    context=context,
                    display_name=f"{cluster_name}-{group}",
                    cluster_name=cluster.name,
                    kubernetes_version=aws_settings.kubernetes_version,
                    cluster_security_group_id=cluster.security_group_id,
                    node_security_group_id=network.node_security_group_id,
                    subnet_ids=network.private_subnet_ids,
                    instance_type=instance_type,
                    node_count=count,
                    volume_gb=aws_settings.node_volume_gb,
                    labels=labels,
                    taints=taints,
                    settings_toml=toml,
                    # EKS gives managed node groups' roles their access entries itself.
                    # The interface and volume cleanups run at destroy after the groups are gone.
                    depends_on=[
                        *network.egress,
                        *cluster.node_prerequisites,
                        network.interface_cleanup,
                        volume_cleanup.command,
                    ],
                ),
                opts=child,
            ).node_group
            for group, instance_type, count, labels, taints, toml in (
                (
                    "system",
                    aws_settings.system_instance_type,
                    aws_settings.system_node_count,
                    dict([SYSTEM_LABEL]),
                    [],
                    None,
                ),
                (
                    "materialize",
                    aws_settings.materialize_instance_type,
                    aws_settings.materialize_node_count,
                    materialize_labels,
                    [MATERIALIZE_TAINT],
                    materialize_node_settings(DISK_SETUP_IMAGE, swap),
                ),
            )
        ]
        system_group, materialize_group = node_groups
        addons = ClusterAddons(
            f"{name}-addons",
            ClusterAddonsArgs(
                cluster=cluster, cluster_args=cluster_args, system_nodes=system_nodes, node_group=system_group
            ),
            opts=child,
        )
        # System components need the system nodes and DNS only; metrics-server and the
        # load-balancer controller stand in front of nothing but what uses them.
        system_ready: list[pulumi.Resource] = [system_group, *addons.dns]
        volumes = BlockStorage(
            f"{name}-block-storage",
            BlockStorageArgs(cluster=cluster, cluster_args=cluster_args, node_group=system_group),
            opts=child,
        )
        load_balancers = LoadBalancerController(
            f"{name}-lb-controller",
            LoadBalancerControllerArgs(
                context=context,
                cluster=cluster,
                vpc_id=network.vpc_id,
                system_nodes=system_nodes,
                after=system_ready,
            ),
            opts=child,
        )

        setup = DatabaseSetup(
            f"{name}-database-setup",
            DatabaseSetupArgs(cluster=cluster, database=database, placement=system_nodes, platform_ready=system_ready),
            opts=child,
        )
        databases: dict[str, MetadataDatabase] = {}
        roles: dict[str, InstanceRole] = {}
        for instance in settings.instances:
            identity = InstanceIdentity(namespace=instance.resolved_namespace, name=instance.name)
            databases[instance.name] = AwsMetadataDatabase(
                f"{name}-{instance.name}-metadata",
                MetadataDatabaseArgs(setup=setup, instance=identity, protect=protect),
                opts=child,
            ).database
            roles[instance.name] = InstanceRole(
                f"{name}-{instance.name}-role",
                InstanceRoleArgs(
                    context=context,
                    instance=identity,
                    prefix=instance.name,
                    bucket_arn=bucket.arn,
                    kms_key_arn=bucket.kms_key_arn,
                    oidc_provider_arn=cluster.oidc_provider_arn,
                    oidc_issuer_url=cluster.oidc_issuer_url,
                ),
                opts=child,
            )

        platform = Platform(
            provider=cluster.provider,
            cloud_provider="aws",
            region=region,
            aws_account_id=context.account_id,
            materialize_nodes=materialize_nodes,
            system_nodes=system_nodes,
            swap_enabled=swap,
            internal_load_balancer_annotations=INTERNAL_ANNOTATIONS,
            public_load_balancer_annotations=PUBLIC_ANNOTATIONS,
            app_load_balancer_annotations={"console": CONSOLE_ANNOTATIONS},
            system_ready=tuple(system_ready),
            # Swap is set up by the Bottlerocket bootstrap settings on the group itself. The
            # controller's pod webhook stands in front of the instance namespaces (readiness
            # gates), so the instance waits for the controller: its pods are never made before
            # the webhook can answer (it fails open, so they would lose their gates, not fail).
            # The first pods may still come before the controller has bound their Service's
            # target group and get no gate: there is no older pod to keep then.
            materialize_ready=(materialize_group, load_balancers.release),
            instance_namespace_labels=POD_READINESS_GATE_LABELS,
            load_balancer_ready=(load_balancers.release,),
            network=_cluster_network(settings, database.port, invoke),
            # Only monitoring waits for the gp3 class (a claim made before its class exists stays
            # Pending); cert-manager and the operator do not wait for the EBS add-on.
            monitoring=MonitoringSupport(storage_class=volumes.class_name, ready=(volumes.storage_class,)),
        )
        outputs = {
            "clusterName": cluster.name,
            "region": region,
            "vpcId": network.vpc_id,
            "bucket": bucket.name,
            "postgres": database.address,
        }
        self.result = TargetResult(
            platform=platform,
            metadata=PreparedMetadataStore("aws", databases),
            blob=AwsBlobStore(bucket, roles, region),
            outputs={"aws": outputs, "kubeconfig": cluster.kubeconfig},
        )
        self.register_outputs(outputs)


def _cluster_network(settings: Settings, postgres_port: int, invoke: pulumi.InvokeOptions) -> ClusterNetwork:
    """Where pods' traffic goes on EKS, for NetworkPolicies.

    The control plane, RDS and the load balancers' nodes all take addresses in
    the VPC: the `kubernetes` Service's endpoints are the control plane's
    network interfaces in the cluster's subnets (443), which also call the
    conversion webhook; NLBs with IP targets health-check pods from their own
    addresses in the subnets. S3 and STS (IRSA) answer on public addresses
    that change, so the blob store is any address on 443.
    """
    aws_settings = settings.aws
    vpc_cidr: pulumi.Input[str] = (
        aws.ec2.get_vpc_output(id=aws_settings.existing_vpc_id, opts=invoke).cidr_block
        if aws_settings.existing_vpc_id is not None
        else aws_settings.vpc_cidr
    )
    vpc = NetworkPeer(cidrs=(vpc_cidr,))
    return ClusterNetwork(
        enforces_policies=settings.network_policies,
        api_server=NetworkEndpoint(vpc, ports=(443,)),
        control_plane=vpc,
        metadata=NetworkEndpoint(vpc, ports=(postgres_port,)),
        blob=NetworkEndpoint(NetworkPeer(cidrs=ANYWHERE), ports=(443,)),
        load_balancer_probes=(vpc_cidr,),
    )


def _default_cluster_name(stack: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9-]+", "-", stack).strip("-")
    return f"materialize-{cleaned}"[:63].rstrip("-")


def _deployer_arn(caller_arn: str, invoke: pulumi.InvokeOptions) -> str:
    """The IAM role or user behind the caller: access entries name principals, not sessions."""
    for pattern, what in _UNUSABLE_CALLERS:
        if pattern.match(caller_arn):
            raise pulumi.RunError(
                f"the AWS credentials pulumi runs with are {what} ({caller_arn}): EKS access entries, "
                "which make the deployer a cluster admin, take IAM roles and users only; run pulumi as an IAM "
                "role (an SSO or assumed-role session is fine) or an IAM user"
            )
    if not _STS_ASSUMED_ROLE.match(caller_arn):
        return caller_arn
    return aws.iam.get_session_context(arn=caller_arn, opts=invoke).issuer_arn


def _zones(settings: Settings, invoke: pulumi.InvokeOptions) -> list[str]:
    """Zone names for the new VPC's subnets: zones that offer both node instance types, by zone id.

    Zone names are shuffled per account (us-east-1a is a different place in
    two accounts); zone ids are not, so a choice by id is the same place for
    everyone, and the one zone of us-east-1 without current instance types
    (use1-az3) drops out by the offerings rather than by luck of the name
    (https://docs.aws.amazon.com/ram/latest/userguide/working-with-az-ids.html).
    """
    aws_settings = settings.aws
    if aws_settings.existing_network:
        return []
    zones = aws.get_availability_zones(
        state="available",
        # Local and Wavelength zones cannot hold EKS nodes or RDS.
        filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
        opts=invoke,
    )
    name_of = dict(zip(zones.zone_ids, zones.names, strict=True))
    types = sorted({aws_settings.system_instance_type, aws_settings.materialize_instance_type})
    offerings = aws.ec2.get_instance_type_offerings(
        location_type="availability-zone-id",
        filters=[aws.ec2.GetInstanceTypeOfferingsFilterArgs(name="instance-type", values=types)],
        opts=invoke,
    )
    offered: dict[str, set[str]] = {}
    for instance_type, zone_id in zip(offerings.instance_types, offerings.locations, strict=True):
        offered.setdefault(zone_id, set()).add(instance_type)
    usable = sorted(zone_id for zone_id in name_of if offered.get(zone_id, set()) >= set(types))

    if aws_settings.availability_zones is not None:
        ids_of = {name: zone_id for zone_id, name in name_of.items()}
        chosen = []
        for zone in aws_settings.availability_zones:
            zone_id = zone if zone in name_of else ids_of.get(zone)
            if zone_id is None:
                raise pulumi.RunError(
                    f"materialize:aws.availabilityZones: {zone!r} is not an available zone of region "
                    f"{settings.region} ({', '.join(f'{n} ({i})' for i, n in sorted(name_of.items()))})"
                )
            if zone_id not in usable:
                raise pulumi.RunError(
                    f"materialize:aws.availabilityZones: {zone} ({zone_id}) does not offer {' and '.join(types)}; "
                    f"zones that do: {', '.join(f'{name_of[i]} ({i})' for i in usable) or 'none'}"
                )
            chosen.append(name_of[zone_id])
        return chosen
    if len(usable) < aws_settings.zone_count:
        raise pulumi.RunError(
            f"materialize:aws.zoneCount: {aws_settings.zone_count} is more than the {len(usable)} zones of region "
            f"{settings.region} that offer {' and '.join(types)} "
            f"({', '.join(f'{name_of[i]} ({i})' for i in usable) or 'none'})"
        )
    return [name_of[zone_id] for zone_id in usable[: aws_settings.zone_count]]


def _refuse_unusable(settings: Settings) -> None:
    """Checks that need more than the aws settings alone, before anything is registered."""
    aws_settings = settings.aws
    problems: list[str] = []
    unknown_region = region_problem(settings.region or "")
    if unknown_region:
        problems.append(unknown_region)
    if aws_settings.api_public_access and not aws_settings.api_allowed_cidrs:
        problems.append(
            "materialize:aws.apiAllowedCidrs: the public EKS API endpoint needs an explicit allowlist (the "
            "addresses pulumi and kubectl connect from; 0.0.0.0/0 only if anyone may try), or set "
            "aws.apiPublicAccess false when deploying from inside the VPC"
        )
    swap = settings.swap is not False
    if swap and not has_local_nvme(aws_settings.materialize_instance_type):
        problems.append(
            f"materialize:aws.materializeInstanceType: {aws_settings.materialize_instance_type!r} has no local "
            "NVMe disk to swap to; use a type with one (r7gd, r8gd, m7gd, i4g, ...) or set swap false"
        )
    for index, instance in enumerate(settings.instances):
        if instance.resolved_namespace == SETUP_NAMESPACE:
            problems.append(
                f"materialize:instances[{index}]: namespace {SETUP_NAMESPACE} belongs to the aws target's "
                "database setup; give the instance another name or set its namespace"
            )
    if problems:
        raise pulumi.RunError(report(problems))
