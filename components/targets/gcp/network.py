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

from components.settings.gcp import GcpSettings
from components.targets.gcp.context import GcpContext

PODS_RANGE = "pods"
SERVICES_RANGE = "services"
SERVICE_NETWORKING = "servicenetworking.googleapis.com"


@dataclass(frozen=True)
class NetworkRef:
    """What the cluster and the database need to know about the VPC, new or existing."""

    # projects/<project>/global/networks/<name>
    network: pulumi.Input[str]
    # The project that owns the network: a Shared VPC's host project, whose
    # admins own its firewall rules.
    project: str
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
    # Cloud NAT's reserved addresses, if any (otherwise Google picks and may change them).
    egress_ips: Sequence[pulumi.Output[str]] = ()


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
        project=host_project,
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
            # Who talked to whom, for audits and incident response (Cloud Logging bills by volume).
            log_config=(
                gcp.compute.SubnetworkLogConfigArgs(
                    aggregation_interval="INTERVAL_5_SEC",
                    flow_sampling=settings.flow_log_sampling,
                    metadata="INCLUDE_ALL_METADATA",
                )
                if settings.flow_logs
                else None
            ),
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
        # Fixed egress addresses, for sources and sinks that allowlist them.
        egress_ips = [
            gcp.compute.Address(
                f"{name}-egress-ip-{index}",
                name=ctx.name(f"nat-egress-{index}"),
                project=ctx.project,
                region=ctx.region,
                address_type="EXTERNAL",
                network_tier="PREMIUM",
                labels=dict(ctx.labels),
                opts=ctx.options(self, pulumi.ResourceOptions(protect=ctx.protect)),
            )
            for index in range(settings.nat_static_ip_count)
        ]
        nat = gcp.compute.RouterNat(
            f"{name}-nat",
            name=ctx.name("nat"),
            project=ctx.project,
            region=ctx.region,
            router=router.name,
            nat_ip_allocate_option="MANUAL_ONLY" if egress_ips else "AUTO_ONLY",
            nat_ips=[address.self_link for address in egress_ips] or None,
            # Nodes and pods alike (pods' own addresses come from the secondary range).
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            # A node running many clusterd pods opens many connections to the
            # same sources and to S3-style endpoints: ports grow with use
            # instead of a fixed 64 per VM (which would drop connections).
            # Dynamic allocation excludes endpoint-independent mapping.
            enable_dynamic_port_allocation=True,
            enable_endpoint_independent_mapping=False,
            min_ports_per_vm=64,
            max_ports_per_vm=32768,
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
            # Deleted with the stack: ABANDON would only forget it, and the
            # peering it leaves in place blocks the deletion of the VPC (the
            # provider's own docs for deletion_policy say so). Cloud SQL
            # depends on it, so a destroy deletes the instance first. Google
            # may still count the deleted instance as a user of the peering
            # for a while; then `pulumi destroy` stops here with "Producer
            # services ... are still using this connection" and succeeds when
            # run again later (docs/gcp.md).
            deletion_policy="DELETE",
            opts=ctx.options(self),
        )

        self.ref = NetworkRef(
            network=network.id,
            project=ctx.project,
            subnetwork=subnet.id,
            pods_range=PODS_RANGE,
            services_range=SERVICES_RANGE,
            private_services_range=private_services_range.name,
            private_services_ready=(connection,),
            egress_ready=(nat,),
            egress_ips=tuple(address.address for address in egress_ips),
        )
        self.register_outputs({"network": network.id, "subnetwork": subnet.id, "nat": nat.name})
