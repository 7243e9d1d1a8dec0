"""The network: a new VPC over several zones, or an existing VPC's subnets.

A new VPC gets, per zone, a private subnet (nodes, pods, RDS, internal load
balancers) and a public one (NAT, internet-facing load balancers), each tagged
so the AWS Load Balancer Controller finds them. Pods take VPC addresses (VPC
CNI), so the private subnets get most of the range.

Either way the network also holds the security group every node (and so every
pod) carries: RDS admits Postgres from it, and it exists before the cluster
does, so the database never waits for the cluster.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.settings import AwsSettings
from components.targets.aws.context import AwsContext

# One private subnet per zone takes an eighth of the VPC; the last eighth is
# split into the public subnets (six zones at most fit either way).
_PRIVATE_SPLIT = 3
_PUBLIC_SPLIT = 6


def subnet_cidrs(vpc_cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """(private, public) CIDRs for `zones` zones of a VPC."""
    network = ipaddress.ip_network(vpc_cidr)
    eighths = list(network.subnets(prefixlen_diff=_PRIVATE_SPLIT))
    private = [str(block) for block in eighths[:zones]]
    public = [str(block) for block in list(eighths[-1].subnets(prefixlen_diff=_PUBLIC_SPLIT - _PRIVATE_SPLIT))[:zones]]
    return private, public


@dataclass(frozen=True)
class NetworkArgs:
    context: AwsContext
    settings: AwsSettings
    cluster_name: str
    zones: Sequence[str]


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    public_subnet_ids: list[pulumi.Output[str]]
    node_security_group_id: pulumi.Output[str]
    # What nodes need before they boot: routes out through NAT to pull images.
    egress: list[pulumi.Resource]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:aws:Network", name, None, opts)
        context, settings = args.context, args.settings
        self.egress = []
        if settings.existing_vpc_id is not None:
            self.vpc_id = pulumi.Output.from_input(settings.existing_vpc_id)
            self.private_subnet_ids = [pulumi.Output.from_input(s) for s in settings.existing_private_subnet_ids]
            self.public_subnet_ids = []
        else:
            self._new_vpc(name, args)

        # No rules of its own: nodes also carry the cluster security group,
        # whose rules let them talk to each other and to the control plane.
        # This one only names "a node of this cluster" for other rules. It has
        # no kubernetes.io/cluster tag: the load balancer controller must keep
        # adding its rules to the cluster security group.
        nodes = aws.ec2.SecurityGroup(
            f"{name}-nodes",
            vpc_id=self.vpc_id,
            description=f"Nodes and pods of EKS cluster {args.cluster_name}",
            tags=context.tagged(f"{args.cluster_name}-nodes"),
            opts=context.options(self),
        )
        self.node_security_group_id = nodes.id
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "privateSubnetIds": self.private_subnet_ids,
                "publicSubnetIds": self.public_subnet_ids,
                "nodeSecurityGroupId": self.node_security_group_id,
            }
        )

    def _new_vpc(self, name: str, args: NetworkArgs) -> None:
        context, settings, cluster = args.context, args.settings, args.cluster_name
        options = context.options(self)
        cluster_tag = {f"kubernetes.io/cluster/{cluster}": "shared"}
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=settings.vpc_cidr,
            # EKS needs both for its private endpoint and for node registration.
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=context.tagged(cluster),
            opts=options,
        )
        self.vpc_id = vpc.id
        gateway = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags=context.tagged(f"{cluster}-igw"), opts=options
        )
        public_routes = aws.ec2.RouteTable(
            f"{name}-public", vpc_id=vpc.id, tags=context.tagged(f"{cluster}-public"), opts=options
        )
        internet = aws.ec2.Route(
            f"{name}-public-internet",
            route_table_id=public_routes.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=gateway.id,
            opts=options,
        )

        private_cidrs, public_cidrs = subnet_cidrs(settings.vpc_cidr, len(args.zones))
        self.private_subnet_ids, self.public_subnet_ids = [], []
        nat_gateways: list[aws.ec2.NatGateway] = []
        for index, zone in enumerate(args.zones):
            public = aws.ec2.Subnet(
                f"{name}-public-{zone}",
                vpc_id=vpc.id,
                availability_zone=zone,
                cidr_block=public_cidrs[index],
                # Nothing launched here needs a public address but the NAT, which brings its own.
                map_public_ip_on_launch=False,
                tags=context.tagged(f"{cluster}-public-{zone}", {**cluster_tag, "kubernetes.io/role/elb": "1"}),
                opts=options,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{zone}", subnet_id=public.id, route_table_id=public_routes.id, opts=options
            )
            self.public_subnet_ids.append(public.id)
            if settings.nat_gateways == "perZone" or index == 0:
                address = aws.ec2.Eip(
                    f"{name}-nat-{zone}", domain="vpc", tags=context.tagged(f"{cluster}-nat-{zone}"), opts=options
                )
                nat_gateways.append(
                    aws.ec2.NatGateway(
                        f"{name}-nat-{zone}",
                        allocation_id=address.id,
                        subnet_id=public.id,
                        tags=context.tagged(f"{cluster}-nat-{zone}"),
                        opts=context.options(self, depends_on=[internet]),
                    )
                )

            private = aws.ec2.Subnet(
                f"{name}-private-{zone}",
                vpc_id=vpc.id,
                availability_zone=zone,
                cidr_block=private_cidrs[index],
                tags=context.tagged(
                    f"{cluster}-private-{zone}", {**cluster_tag, "kubernetes.io/role/internal-elb": "1"}
                ),
                opts=options,
            )
            private_routes = aws.ec2.RouteTable(
                f"{name}-private-{zone}", vpc_id=vpc.id, tags=context.tagged(f"{cluster}-private-{zone}"), opts=options
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}", subnet_id=private.id, route_table_id=private_routes.id, opts=options
            )
            self.egress.append(
                aws.ec2.Route(
                    f"{name}-private-{zone}-nat",
                    route_table_id=private_routes.id,
                    destination_cidr_block="0.0.0.0/0",
                    # A single NAT serves every zone; per zone, each its own.
                    nat_gateway_id=nat_gateways[-1].id,
                    opts=options,
                )
            )
            self.private_subnet_ids.append(private.id)
