"""The azure example stack and helpers to read its graph."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from tests.harness.mocks import Registered
from tests.harness.stack import Evaluation, example_stack

RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
VNET = "azure-native:network:VirtualNetwork"
SUBNET = "azure-native:network:Subnet"
NAT = "azure-native:network:NatGateway"
PUBLIC_IP = "azure-native:network:PublicIPAddress"
NSG = "azure-native:network:NetworkSecurityGroup"
DNS_ZONE = "azure-native:privatedns:PrivateZone"
DNS_LINK = "azure-native:privatedns:VirtualNetworkLink"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
FEDERATION = "azure-native:managedidentity:FederatedIdentityCredential"
ROLE = "azure-native:authorization:RoleAssignment"
LOCK = "azure-native:authorization:ManagementLockByScope"
CLUSTER = "azure-native:containerservice:ManagedCluster"
POOL = "azure-native:containerservice:AgentPool"
MAINTENANCE = "azure-native:containerservice:MaintenanceConfiguration"
SERVER = "azure-native:dbforpostgresql:Server"
DATABASE = "azure-native:dbforpostgresql:Database"
CONFIGURATION = "azure-native:dbforpostgresql:Configuration"
ACCOUNT = "azure-native:storage:StorageAccount"
CONTAINER = "azure-native:storage:BlobContainer"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
SECRET = "kubernetes:core/v1:Secret"
SERVICE = "kubernetes:core/v1:Service"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
RELEASE = "kubernetes:helm.sh/v3:Release"
MATERIALIZE = "kubernetes:materialize.cloud/v1:Materialize"
K8S_PROVIDER = "pulumi:providers:kubernetes"

STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
# Principals a stack names as cluster admins.
ADMIN_GROUP = "8d6a3f1e-2b4c-4e5d-9f7a-1c2b3d4e5f60"
CI_PRINCIPAL = "3b5e7c9d-1f2a-4b6c-8d0e-2f4a6b8c0d1e"


def azure_stack(**overrides: Any) -> dict[str, Any]:
    return example_stack("azure", **overrides)


def with_azure(**azure: Any) -> dict[str, Any]:
    """The example stack with some `azure` keys changed."""
    config = azure_stack()
    return {**config, "azure": {**config["azure"], **azure}}


def depends_on(evaluation: Evaluation, resource: Registered) -> set[str]:
    """Every URN `resource` waits for, directly or through what it waits for (and its parents' waits)."""
    by_urn = {r.urn: r for r in evaluation.registered}
    seen: set[str] = set()
    pending = list(resource.dependencies)
    while pending:
        urn = pending.pop()
        if urn in seen or urn not in by_urn:
            continue
        seen.add(urn)
        pending += by_urn[urn].dependencies
        # Waiting for a component means waiting for everything in it.
        pending += [r.urn for r in evaluation.registered if r.parent == urn]
    return seen


def sdk_class(token: str) -> type:
    """The pulumi_azure_native class registered under a type token."""
    _, module, name = token.split(":")
    return getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)


def taggable(token: str) -> bool:
    return "tags" in inspect.signature(sdk_class(token)._internal_init).parameters
