"""The persist store: one Premium BlockBlob storage account, reached only from
the AKS subnet and only with Entra ID tokens (workload identity).

Materialize's Azure URL takes no prefix, so every instance gets a container
of its own (see instance_access.py); the account holds nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_azure_native as azure

from components.targets.azure.home import Home
from components.targets.azure.names import unique_suffix
from components.targets.azure.protection import delete_lock


@dataclass(frozen=True)
class StorageArgs:
    home: Home
    aks_subnet_id: pulumi.Input[str]
    protect: bool
    # LRS or ZRS (regions.py decides the default).
    replication: Literal["LRS", "ZRS"]
    # A CanNotDelete lock on the account.
    lock: bool


class BlobStorage(pulumi.ComponentResource):
    account: azure.storage.StorageAccount
    account_name: pulumi.Output[str]
    protect: bool

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:azure:Storage", name, None, opts)
        home = args.home
        self.protect = args.protect
        account_name = pulumi.Output.all(home.subscription_id, home.resource_group).apply(
            lambda parts: home.names.storage_account(unique_suffix(parts[0], parts[1], home.names.prefix))
        )
        self.account = azure.storage.StorageAccount(
            f"{name}-account",
            account_name=account_name,
            resource_group_name=home.resource_group,
            location=home.location,
            # Premium block blobs: persist's many small, latency-bound writes.
            kind="BlockBlobStorage",
            sku=azure.storage.SkuArgs(name=f"Premium_{args.replication}"),
            minimum_tls_version="TLS1_2",
            enable_https_traffic_only=True,
            allow_blob_public_access=False,
            # No account keys and so no SAS: Entra ID (workload identity) only.
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            allow_cross_tenant_replication=False,
            # Reachable over the public endpoint, but its firewall admits the
            # AKS subnet's service endpoint and nothing else.
            public_network_access="Enabled",
            network_rule_set=azure.storage.NetworkRuleSetArgs(
                default_action=azure.storage.DefaultAction.DENY,
                bypass="None",
                virtual_network_rules=[
                    azure.storage.VirtualNetworkRuleArgs(
                        virtual_network_resource_id=args.aks_subnet_id, action=azure.storage.Action.ALLOW
                    )
                ],
                ip_rules=[],
            ),
            tags=home.tagged(),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        if args.lock:
            delete_lock(f"{name}-lock", self.account.id, "persist data (storage account)", self)
        self.account_name = self.account.name
        self.register_outputs({"accountName": self.account_name})
