"""The VPC: a regional subnet with pod and Service ranges, Cloud NAT, and
private services access for Cloud SQL, or an existing network that has them.

GKE's nodes have private addresses only: Google's APIs and Artifact Registry
are reached through Private Google Access on the subnet, everything else
(Materialize's images on Docker Hub, sources and sinks) through Cloud NAT.
Cloud SQL gets its private address from a range reserved in this VPC and
peered to Google's service producer network.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.settings import GcpSettings
from components.targets.gcp.context import GcpContext

PODS_RANGE = "pods"
SERVICES_RANGE = "services"
SERVICE_NETWORKING = "servicenetworking.googleapis.com"


@dataclass(frozen=True)
class NetworkRef:
    """What the cluster and the database need to know about the VPC, new or existing."""

    # projects/<project>/global/networks/<name>
    network: pulumi.Input[str]
    # projects/<project>/regions/<region>/subnetworks/<name>
    subnetwork: pulumi.Input[str]
    pods_range: str
    services_range: str
    # The reserved range Cloud SQL takes its address from; None: Google picks
    # one of the network's private-services ranges.
    private_services_range: pulumi.Input[str] | None
    # Cloud SQL can be created once this exists (the peering to Google's services).
    private_services_ready: Sequence[pulumi.Resource] = ()
    # Nodes can pull images from outside Google once this exists.
    egress_ready: Sequence[pulumi.Resource] = ()


def existing_network(ctx: GcpContext, settings: GcpSettings) -> NetworkRef:
    """An existing VPC: nothing is created; its NAT and private services access are the owner's."""
    assert settings.existing_network and settings.existing_subnetwork
    assert settings.existing_pods_range and settings.existing_services_range
    network = settings.existing_network
    if "/" not in network:
        network = f"projects/{ctx.project}/global/networks/{network}"
    # A Shared VPC's subnets live in its host project, not the cluster's.
    host_project = network.split("/")[1]
    return NetworkRef(
        network=network,
        subnetwork=f"projects/{host_project}/regions/{ctx.region}/subnetworks/{settings.existing_subnetwork}",
        pods_range=settings.existing_pods_range,
        services_range=settings.existing_services_range,
        private_services_range=None,
    )


@dataclass(frozen=True)
class NetworkArgs:
    context: GcpContext
    settings: GcpSettings


class GcpNetwork(pulumi.ComponentResource):
    ref: NetworkRef

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:gcp:Network", name, None, opts)
        ctx, settings = args.context, args.settings

        network = gcp.compute.Network(
            f"{name}-vpc",
            name=ctx.name("vpc"),
            project=ctx.project,
            # Custom mode: only the subnet below, no automatic one per region.
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            opts=ctx.options(self),
        )
        subnet = gcp.compute.Subnetwork(
            f"{name}-subnet",
            name=ctx.name("nodes"),
            project=ctx.project,
            region=ctx.region,
            network=network.id,
            ip_cidr_range=settings.subnet_cidr,
            secondary_ip_ranges=[
                gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=PODS_RANGE, ip_cidr_range=settings.pods_cidr),
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=SERVICES_RANGE, ip_cidr_range=settings.services_cidr
                ),
            ],
            # Private nodes reach Google's APIs (GKE, logging, Artifact Registry) without NAT.
            private_ip_google_access=True,
            opts=ctx.options(self),
        )
        router = gcp.compute.Router(
            f"{name}-router",
            name=ctx.name("router"),
            project=ctx.project,
            region=ctx.region,
            network=network.id,
            opts=ctx.options(self),
        )
        nat = gcp.compute.RouterNat(
            f"{name}-nat",
            name=ctx.name("nat"),
            project=ctx.project,
            region=ctx.region,
            router=router.name,
            nat_ip_allocate_option="AUTO_ONLY",
            # Nodes and pods alike (pods' own addresses come from the secondary range).
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
            opts=ctx.options(self, pulumi.ResourceOptions(depends_on=[subnet])),
        )

        reserved = ipaddress.ip_network(settings.private_services_cidr)
        private_services_range = gcp.compute.GlobalAddress(
            f"{name}-private-services-range",
            name=ctx.name("private-services"),
            project=ctx.project,
            network=network.id,
            purpose="VPC_PEERING",
            address_type="INTERNAL",
            address=str(reserved.network_address),
            prefix_length=reserved.prefixlen,
            labels=dict(ctx.labels),
            opts=ctx.options(self),
        )
        connection = gcp.servicenetworking.Connection(
            f"{name}-private-services",
            network=network.id,
            service=SERVICE_NETWORKING,
            reserved_peering_ranges=[private_services_range.name],
            # Google keeps the peering busy for days after the last Cloud SQL
            # instance is deleted, so deleting it would fail the destroy; it
            # goes with the VPC instead.
            deletion_policy="ABANDON",
            opts=ctx.options(self),
        )

        self.ref = NetworkRef(
            network=network.id,
            subnetwork=subnet.id,
            pods_range=PODS_RANGE,
            services_range=SERVICES_RANGE,
            private_services_range=private_services_range.name,
            private_services_ready=(connection,),
            egress_ready=(nat,),
        )
        self.register_outputs({"network": network.id, "subnetwork": subnet.id, "nat": nat.name})
