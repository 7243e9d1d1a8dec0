"""An EKS managed node group on Bottlerocket, from a launch template of ours.

The launch template is where the hardening lives: IMDSv2 only, with a hop
limit of 1 so pods cannot borrow the node's role (they get their own through
IRSA); encrypted OS and data volumes; the node security group next to the
cluster's; tags on the instances, volumes and network interfaces it starts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.settings import Toleration
from components.targets.aws.bottlerocket import user_data
from components.targets.aws.context import AwsContext
from components.targets.aws.iam import service_trust_policy

# Bottlerocket's two volumes: the read-only OS image and the data volume
# (container images, logs, emptyDirs).
_OS_DEVICE = "/dev/xvda"
_DATA_DEVICE = "/dev/xvdb"
_OS_VOLUME_GB = 4
_NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly")
# Graviton instance types carry a 'g' after the generation digit (m7g, r7gd, c6gn).
_GRAVITON = re.compile(r"^[a-z]+\d+[a-z-]*g[a-z-]*\.")
_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}


def ami_type(instance_type: str) -> str:
    return "BOTTLEROCKET_ARM_64" if _GRAVITON.match(instance_type) else "BOTTLEROCKET_x86_64"


@dataclass(frozen=True)
class NodeGroupArgs:
    context: AwsContext
    # What the console shows for the group, its instances and volumes.
    display_name: str
    cluster_name: pulumi.Input[str]
    kubernetes_version: str
    cluster_security_group_id: pulumi.Input[str]
    node_security_group_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    instance_type: str
    node_count: int
    volume_gb: int
    labels: Mapping[str, str]
    taints: Sequence[Toleration]
    # Bottlerocket TOML; None for the defaults.
    settings_toml: str | None
    depends_on: Sequence[pulumi.Resource]


class NodeGroup(pulumi.ComponentResource):
    node_group: aws.eks.NodeGroup

    def __init__(self, name: str, args: NodeGroupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:aws:NodeGroup", name, None, opts)
        context = args.context
        options = context.options(self)
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=service_trust_policy("ec2.amazonaws.com"),
            description=f"EKS nodes of {args.display_name}",
            tags=context.tagged(args.display_name),
            opts=options,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-{policy}", role=role.name, policy_arn=context.managed_policy(policy), opts=options
            )
            for policy in _NODE_POLICIES
        ]

        volumes = [
            aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name=device,
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=size, volume_type="gp3", encrypted="true", delete_on_termination="true"
                ),
            )
            for device, size in ((_OS_DEVICE, _OS_VOLUME_GB), (_DATA_DEVICE, args.volume_gb))
        ]
        instance_tags = context.tagged(args.display_name)
        template = aws.ec2.LaunchTemplate(
            f"{name}-template",
            description=f"EKS nodes of {args.display_name}",
            block_device_mappings=volumes,
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
            ),
            vpc_security_group_ids=[args.cluster_security_group_id, args.node_security_group_id],
            user_data=user_data(args.settings_toml) if args.settings_toml else None,
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=instance_tags)
                for kind in ("instance", "volume", "network-interface")
            ],
            update_default_version=True,
            tags=context.tagged(args.display_name),
            opts=options,
        )
        self.node_group = aws.eks.NodeGroup(
            f"{name}-group",
            cluster_name=args.cluster_name,
            version=args.kubernetes_version,
            node_role_arn=role.arn,
            subnet_ids=list(args.subnet_ids),
            ami_type=ami_type(args.instance_type),
            capacity_type="ON_DEMAND",
            instance_types=[args.instance_type],
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                desired_size=args.node_count, min_size=args.node_count, max_size=args.node_count
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            labels=dict(sorted(args.labels.items())),
            taints=[
                aws.eks.NodeGroupTaintArgs(
                    key=taint.key, value=taint.value, effect=_EFFECTS[taint.effect or "NoSchedule"]
                )
                for taint in args.taints
            ],
            tags=context.tagged(args.display_name),
            opts=context.options(self, depends_on=[*attachments, *args.depends_on]),
        )
        self.register_outputs({"nodeGroup": self.node_group.node_group_name})
