"""The network: a new VPC over several zones, or an existing VPC's subnets.

A new VPC gets, per zone, a private subnet (nodes, pods, RDS, internal load
balancers) and a public one (NAT, internet-facing load balancers), each tagged
so the AWS Load Balancer Controller finds them. Pods take VPC addresses (VPC
CNI), so the private subnets get most of the range.

A new VPC also gets an S3 gateway endpoint on every private route table:
persist is Materialize's main data path, and through the endpoint it costs
nothing, where through NAT every gigabyte is billed as NAT data processing
(https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html).
With `flowLogs` (the default) its traffic is logged to CloudWatch.

`interfaceEndpoints` adds interface endpoints (PrivateLink) for AWS APIs in
the private subnets, with private DNS, so the service's usual name resolves to
addresses in the VPC and the SDKs need no change. They take AWS API traffic
(STS for IRSA, ECR pulls, the load balancer controller's EC2 and ELB calls)
off the NAT. They do not make NAT optional: Materialize's and the charts'
images come from registries outside AWS (docker.io, quay.io, ...), so a
cluster without NAT would also need those images mirrored into ECR.

Either way the network also holds the security group every node (and so every
pod) carries: RDS admits Postgres from it, and it exists before the cluster
does, so the database never waits for the cluster. Interfaces the VPC CNI
leaves behind with that group are deleted at destroy (interface_cleanup.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.settings.aws import AwsSettings
from components.targets.aws.context import AwsContext
from components.targets.aws.iam import document, service_trust_policy
from components.targets.aws.interface_cleanup import InterfaceCleanup, InterfaceCleanupArgs

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
    # logEncryption: kms: the key every log group of ours is encrypted with.
    logs_key_arn: pulumi.Input[str] | None = None


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    public_subnet_ids: list[pulumi.Output[str]]
    node_security_group_id: pulumi.Output[str]
    # What nodes need before they boot: routes out through NAT to pull images.
    egress: list[pulumi.Resource]
    # Node groups depend on it: it runs at destroy once they are gone.
    interface_cleanup: pulumi.Resource

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:aws:Network", name, None, opts)
        context, settings = args.context, args.settings
        self.egress = []
        # The subnets and route tables a destroy-time cleanup must run before.
        self._network: list[pulumi.Resource] = []
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
        self.interface_cleanup = InterfaceCleanup(
            f"{name}-interface-cleanup",
            InterfaceCleanupArgs(
                context=context, security_group_id=nodes.id, subnets_and_groups=[nodes, *self._network]
            ),
            opts=pulumi.ResourceOptions(parent=self),
        ).command
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
        private_route_tables: list[aws.ec2.RouteTable] = []
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
            self._network.append(public)
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
            association = aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}", subnet_id=private.id, route_table_id=private_routes.id, opts=options
            )
            private_route_tables.append(private_routes)
            self._network += [private, association]
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

        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{context.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in private_route_tables],
            tags=context.tagged(f"{cluster}-s3"),
            opts=options,
        )
        if settings.interface_endpoints:
            self._interface_endpoints(name, args, vpc)
        if settings.flow_logs:
            self._flow_logs(name, args, vpc)

    def _interface_endpoints(self, name: str, args: NetworkArgs, vpc: aws.ec2.Vpc) -> None:
        """One endpoint per configured service, with an interface in every private subnet."""
        context, settings, cluster = args.context, args.settings, args.cluster_name
        options = context.options(self)
        # The endpoints' interfaces only answer HTTPS; every client (nodes, pods,
        # which take VPC addresses) is in the VPC. No egress rule: the provider
        # drops AWS's default allow-all one (pulumi_aws 7.51.1, ec2.SecurityGroup,
        # "NOTE on Egress rules"), and an endpoint starts no connection.
        group = aws.ec2.SecurityGroup(
            f"{name}-endpoints",
            vpc_id=vpc.id,
            description=f"Interface VPC endpoints of {cluster}: HTTPS from the VPC",
            tags=context.tagged(f"{cluster}-endpoints"),
            opts=options,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-https",
            security_group_id=group.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=settings.vpc_cidr,
            description="HTTPS from the VPC",
            tags=context.tagged(f"{cluster}-endpoints-https"),
            opts=options,
        )
        for service in settings.interface_endpoints:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{context.region}.{service}",
                vpc_endpoint_type="Interface",
                # Private DNS needs the VPC's DNS support and hostnames, both on above.
                private_dns_enabled=True,
                subnet_ids=self.private_subnet_ids,
                security_group_ids=[group.id],
                tags=context.tagged(f"{cluster}-{service}"),
                opts=options,
            )

    def _flow_logs(self, name: str, args: NetworkArgs, vpc: aws.ec2.Vpc) -> None:
        """Every accepted and rejected flow of the VPC, into a group with the stack's log retention."""
        context, cluster = args.context, args.cluster_name
        options = context.options(self)
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=f"/aws/vpc/{cluster}/flow-logs",
            retention_in_days=args.settings.log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags=context.tagged(f"{cluster}-flow-logs"),
            opts=options,
        )
        # The service delivers as this role; the trust is limited to this
        # account's flow logs (the confused-deputy conditions of
        # https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html).
        source_arn = f"arn:{context.partition}:ec2:{context.region}:{context.account_id}:vpc-flow-log/*"
        role = aws.iam.Role(
            f"{name}-flow-logs",
            assume_role_policy=service_trust_policy(
                "vpc-flow-logs.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": context.account_id},
                    "ArnLike": {"aws:SourceArn": source_arn},
                },
            ),
            description=f"VPC flow logs of {cluster}",
            tags=context.tagged(f"{cluster}-flow-logs"),
            opts=options,
        )
        delivery = aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.id,
            policy=group.arn.apply(
                lambda arn: document(
                    [
                        {
                            "Effect": "Allow",
                            "Action": [
                                "logs:CreateLogStream",
                                "logs:PutLogEvents",
                                "logs:DescribeLogGroups",
                                "logs:DescribeLogStreams",
                            ],
                            "Resource": [arn, f"{arn}:*"],
                        }
                    ]
                )
            ),
            opts=options,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=600,
            tags=context.tagged(f"{cluster}-flow-logs"),
            opts=context.options(self, depends_on=[delivery]),
        )
