"""The network: a VNet with an AKS subnet and a delegated Postgres subnet, NAT
egress through one static IP, and the private DNS zone the server registers in.

With an existing VNet nothing is created here: the three ids from settings are
handed on, and the customer's subnets already carry NAT, the storage service
endpoint and the Postgres delegation.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure

from components.settings.azure import AzureSettings
from components.targets.azure.home import Home

POSTGRES_DELEGATION = "Microsoft.DBforPostgreSQL/flexibleServers"
POSTGRES_PORTS = ["5432", "6432"]
# Azure's own platform traffic (health probes from the host's virtual IP), as an NSG service tag.
AZURE_LOAD_BALANCER = "AzureLoadBalancer"
DENY_PRIORITY = 4000


@dataclass(frozen=True)
class NetworkArgs:
    home: Home
    settings: AzureSettings


class Network(pulumi.ComponentResource):
    aks_subnet_id: pulumi.Output[str]
    postgres_subnet_id: pulumi.Output[str]
    postgres_dns_zone_id: pulumi.Output[str]
    # Resources the Postgres server needs before it can be created (the zone's VNet link).
    postgres_ready: list[pulumi.Resource]
    # The NAT gateway's address, None with an existing VNet (its egress is the customer's).
    egress_ip: pulumi.Output[str] | None

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:azure:Network", name, None, opts)
        settings = args.settings
        self.postgres_ready = []
        self.egress_ip = None
        if settings.existing_network:
            # Settings validation guarantees all three are set together.
            assert settings.existing_aks_subnet_id is not None
            assert settings.existing_postgres_subnet_id and settings.existing_postgres_dns_zone_id
            self.aks_subnet_id = pulumi.Output.from_input(settings.existing_aks_subnet_id)
            self.postgres_subnet_id = pulumi.Output.from_input(settings.existing_postgres_subnet_id)
            self.postgres_dns_zone_id = pulumi.Output.from_input(settings.existing_postgres_dns_zone_id)
        else:
            self._create(name, args)
        self.register_outputs(
            {
                "aksSubnetId": self.aks_subnet_id,
                "postgresSubnetId": self.postgres_subnet_id,
                "postgresDnsZoneId": self.postgres_dns_zone_id,
            }
        )

    def _create(self, name: str, args: NetworkArgs) -> None:
        home, settings = args.home, args.settings
        names = home.names
        child = pulumi.ResourceOptions(parent=self)
        placed = {"resource_group_name": home.resource_group, "location": home.location, "tags": home.tagged()}

        egress = azure.network.PublicIPAddress(
            f"{name}-nat-ip",
            public_ip_address_name=names.of("nat-ip"),
            sku={"name": "Standard", "tier": "Regional"},
            public_ip_allocation_method="Static",
            public_ip_address_version="IPv4",
            **placed,
            opts=child,
        )
        nat = azure.network.NatGateway(
            f"{name}-nat",
            nat_gateway_name=names.of("nat"),
            sku={"name": "Standard"},
            public_ip_addresses=[{"id": egress.id}],
            idle_timeout_in_minutes=4,
            **placed,
            opts=child,
        )
        vnet = azure.network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=names.of("vnet"),
            address_space={"address_prefixes": [settings.vnet_cidr]},
            # No inline subnets: they are resources of their own below, which
            # the provider leaves alone when it updates the VNet.
            **placed,
            opts=child,
        )
        aks_subnet = azure.network.Subnet(
            f"{name}-aks-subnet",
            subnet_name=names.of("aks"),
            resource_group_name=home.resource_group,
            virtual_network_name=vnet.name,
            address_prefix=settings.aks_subnet_cidr,
            nat_gateway={"id": nat.id},
            # Lets the storage account admit this subnet, and only it.
            service_endpoints=[{"service": "Microsoft.Storage"}],
            opts=child,
        )
        postgres_rules = azure.network.NetworkSecurityGroup(
            f"{name}-postgres-nsg",
            network_security_group_name=names.of("postgres-nsg"),
            security_rules=_postgres_rules(settings),
            **placed,
            opts=child,
        )
        postgres_subnet = azure.network.Subnet(
            f"{name}-postgres-subnet",
            subnet_name=names.of("postgres"),
            resource_group_name=home.resource_group,
            virtual_network_name=vnet.name,
            address_prefix=settings.postgres_subnet_cidr,
            delegations=[{"name": "flexible-servers", "service_name": POSTGRES_DELEGATION}],
            network_security_group={"id": postgres_rules.id},
            # The server archives WAL and backups to Azure Storage.
            service_endpoints=[{"service": "Microsoft.Storage"}],
            # One subnet write at a time: Azure refuses concurrent changes to one VNet.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[aks_subnet]),
        )
        zone = azure.privatedns.PrivateZone(
            f"{name}-postgres-dns",
            private_zone_name=names.postgres_dns_zone,
            resource_group_name=home.resource_group,
            location="global",
            tags=home.tagged(),
            opts=child,
        )
        link = azure.privatedns.VirtualNetworkLink(
            f"{name}-postgres-dns-link",
            virtual_network_link_name=names.of("vnet"),
            private_zone_name=zone.name,
            resource_group_name=home.resource_group,
            location="global",
            virtual_network={"id": vnet.id},
            # The server writes its own record; VMs must not register here.
            registration_enabled=False,
            tags=home.tagged(),
            opts=child,
        )
        self.aks_subnet_id = aks_subnet.id
        self.postgres_subnet_id = postgres_subnet.id
        self.postgres_dns_zone_id = zone.id
        self.postgres_ready = [link]
        self.egress_ip = egress.ip_address.apply(lambda ip: ip or "")


def _postgres_rules(settings: AzureSettings) -> list[azure.network.SecurityRuleArgs]:
    """Only the AKS nodes reach Postgres; the server's own subnet keeps talking to itself (HA replication).

    The deny below names the `VirtualNetwork` tag, which also covers the
    host's virtual IP 168.63.129.16 (MicrosoftDocs/azure-docs
    articles/virtual-network/service-tags-overview.md@0006b738, the
    VirtualNetwork row), and that address is where Azure's platform probes
    and the `AzureLoadBalancer` tag come from. The default rule admitting
    them, AllowAzureLoadBalancerInBound, sits at 65001, after the deny
    (learn.microsoft.com/azure/virtual-network/network-security-groups-overview,
    default security rules), so the program admits the tag itself first.
    """
    return [
        azure.network.SecurityRuleArgs(
            name="allow-aks-postgres",
            priority=100,
            direction="Inbound",
            access="Allow",
            protocol="Tcp",
            source_address_prefix=settings.aks_subnet_cidr,
            source_port_range="*",
            destination_address_prefix=settings.postgres_subnet_cidr,
            destination_port_ranges=POSTGRES_PORTS,
        ),
        azure.network.SecurityRuleArgs(
            name="allow-postgres-subnet",
            priority=110,
            direction="Inbound",
            access="Allow",
            protocol="*",
            source_address_prefix=settings.postgres_subnet_cidr,
            source_port_range="*",
            destination_address_prefix=settings.postgres_subnet_cidr,
            destination_port_range="*",
        ),
        azure.network.SecurityRuleArgs(
            name="allow-azure-load-balancer",
            priority=DENY_PRIORITY - 100,
            direction="Inbound",
            access="Allow",
            protocol="*",
            source_address_prefix=AZURE_LOAD_BALANCER,
            source_port_range="*",
            destination_address_prefix="*",
            destination_port_range="*",
        ),
        azure.network.SecurityRuleArgs(
            name="deny-other-vnet-inbound",
            priority=DENY_PRIORITY,
            direction="Inbound",
            access="Deny",
            protocol="*",
            source_address_prefix="VirtualNetwork",
            source_port_range="*",
            destination_address_prefix="*",
            destination_port_range="*",
        ),
    ]
