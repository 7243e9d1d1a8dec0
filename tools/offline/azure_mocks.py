"""Provider-computed outputs for the Azure target, as azure-native returns them.

Per type token, what the engine hands back after a create: the inputs plus
what Azure Resource Manager fills in (object ids and client ids of
identities, the cluster's API server FQDN and OIDC issuer, the server's FQDN,
the storage account's endpoints, provisioning states, ...). Values are derived
from names, never random, so two evaluations agree.

Resource ids are the shared mocks' (tools/offline/mocks.py decides them for
every cloud), not ARM paths.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

import yaml
from pulumi.runtime import mocks as pulumi_mocks

from tools.offline.stable import stable_hex

SUBSCRIPTION_ID = "5f1c6e0a-8d3b-4c2e-9a71-0b4d2e6f8a13"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
# The signed-in user (or service principal) running the program.
DEPLOYER_OBJECT_ID = "0c7d3a52-41e6-4b1f-8d9a-6e2f4b8c1d07"
DEPLOYER_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
KUBERNETES_PATCH = "5"

# API server FQDNs of the clusters created so far, for the credentials invoke.
_CLUSTERS: dict[tuple[str, str], str] = {}


def _uuid(*parts: str) -> str:
    digest = stable_hex(*parts, length=32)
    return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"


def _arm(args: pulumi_mocks.MockResourceArgs, name_input: str, kind: str, extra: Mapping[str, Any]) -> dict[str, Any]:
    state = dict(args.inputs)
    state.update(
        {
            "name": args.inputs.get(name_input, f"{args.name}{stable_hex(args.name, length=6)}"),
            "type": kind,
            "azureApiVersion": "2025-01-01",
            **extra,
        }
    )
    return state


def _network(kind: str, name_input: str) -> Callable[[pulumi_mocks.MockResourceArgs], dict[str, Any]]:
    def build(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
        return _arm(
            args,
            name_input,
            kind,
            {
                "provisioningState": "Succeeded",
                "etag": f'W/"{_uuid(args.name, "etag")}"',
                "resourceGuid": _uuid(args.name, "guid"),
            },
        )

    return build


def _public_ip(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    octets = bytes.fromhex(stable_hex(args.name, "ip", length=6))
    return {
        **_network("Microsoft.Network/publicIPAddresses", "publicIpAddressName")(args),
        "ipAddress": f"20.{octets[0]}.{octets[1]}.{octets[2] % 254 + 1}",
        "idleTimeoutInMinutes": 4,
    }


def _identity(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    return _arm(
        args,
        "resourceName",
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        {
            "principalId": _uuid(args.name, "principal"),
            "clientId": _uuid(args.name, "client"),
            "tenantId": TENANT_ID,
        },
    )


def _role_assignment(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    # Auto-named with a GUID when the program gives none.
    name = args.inputs.get("roleAssignmentName") or _uuid(args.name, "assignment")
    return {
        **dict(args.inputs),
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "principalType": args.inputs.get("principalType", "User"),
        "createdOn": "2026-01-01T00:00:00Z",
        "updatedOn": "2026-01-01T00:00:00Z",
        "createdBy": DEPLOYER_OBJECT_ID,
        "azureApiVersion": "2022-04-01",
    }


def _managed_cluster(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    inputs = args.inputs
    name = inputs["resourceName"]
    location = inputs["location"]
    fqdn = f"{inputs['dnsPrefix']}-{stable_hex(name, 'fqdn', length=8)}.hcp.{location}.azmk8s.io"
    _CLUSTERS[(inputs["resourceGroupName"], name)] = fqdn
    tenant = (inputs.get("aadProfile") or {}).get("tenantID", TENANT_ID)
    # The program lists identity ids; Azure answers with a map of id -> its ids.
    identity = dict(inputs.get("identity") or {})
    identity["userAssignedIdentities"] = {
        resource_id: {"clientId": _uuid(resource_id, "client"), "principalId": _uuid(resource_id, "principal")}
        for resource_id in identity.get("userAssignedIdentities") or []
    }
    return _arm(
        args,
        "resourceName",
        "Microsoft.ContainerService/ManagedClusters",
        {
            "identity": identity,
            "provisioningState": "Succeeded",
            "powerState": {"code": "Running"},
            "fqdn": fqdn,
            "azurePortalFQDN": fqdn.replace(".hcp.", ".portal.hcp."),
            "currentKubernetesVersion": f"{inputs['kubernetesVersion']}.{KUBERNETES_PATCH}",
            "nodeResourceGroup": f"MC_{inputs['resourceGroupName']}_{name}_{location}",
            "maxAgentPools": 100,
            "oidcIssuerProfile": {
                "enabled": True,
                "issuerURL": f"https://{location}.oic.prod-aks.azure.com/{tenant}/{_uuid(name, 'issuer')}/",
            },
            "identityProfile": {
                "kubeletidentity": {
                    "clientId": _uuid(name, "kubelet-client"),
                    "objectId": _uuid(name, "kubelet-object"),
                    "resourceId": f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/MC_{inputs['resourceGroupName']}"
                    f"_{name}_{location}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}-agentpool",
                }
            },
            "resourceUID": stable_hex(name, "uid", length=24),
        },
    )


def _agent_pool(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    version = args.inputs.get("orchestratorVersion", "")
    return _arm(
        args,
        "agentPoolName",
        "Microsoft.ContainerService/managedClusters/agentPools",
        {
            "provisioningState": "Succeeded",
            "powerState": {"code": "Running"},
            "currentOrchestratorVersion": f"{version}.{KUBERNETES_PATCH}",
            "nodeImageVersion": "AKSUbuntu-2204gen2arm64containerd-202610.20.0",
            "etag": _uuid(args.name, "etag"),
        },
    )


def _maintenance_configuration(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    state = _arm(args, "configName", "Microsoft.ContainerService/managedClusters/maintenanceConfigurations", {})
    window = dict(state.get("maintenanceWindow") or {})
    # Without a start date AKS takes the day the window was created.
    window.setdefault("startDate", "2026-10-20")
    return {**state, "maintenanceWindow": window}


def _server(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    name = args.inputs["serverName"]
    # Azure picks the zones when the program names none (the SDK sends ''), the standby's in another zone.
    high_availability = dict(args.inputs.get("highAvailability") or {"mode": "Disabled"})
    high_availability["state"] = "NotEnabled" if high_availability.get("mode") == "Disabled" else "Healthy"
    if high_availability.get("mode") == "ZoneRedundant":
        high_availability["standbyAvailabilityZone"] = high_availability.get("standbyAvailabilityZone") or "2"
    state = _arm(
        args,
        "serverName",
        "Microsoft.DBforPostgreSQL/flexibleServers",
        {
            "fullyQualifiedDomainName": f"{name}.postgres.database.azure.com",
            "state": "Ready",
            "minorVersion": "6",
            "replicationRole": "Primary",
            "replicaCapacity": 5,
            "availabilityZone": args.inputs.get("availabilityZone") or "1",
            "highAvailability": high_availability,
        },
    )
    # Azure never returns the administrator password.
    state.pop("administratorLoginPassword", None)
    return state


def _configuration(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    return _arm(
        args,
        "configurationName",
        "Microsoft.DBforPostgreSQL/flexibleServers/configurations",
        {"dataType": "Boolean", "allowedValues": "on,off", "defaultValue": "on", "isDynamicConfig": True},
    )


def _storage_account(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    name = args.inputs["accountName"]
    location = args.inputs["location"]
    return _arm(
        args,
        "accountName",
        "Microsoft.Storage/storageAccounts",
        {
            "provisioningState": "Succeeded",
            "primaryLocation": location,
            "statusOfPrimary": "available",
            "creationTime": "2026-01-01T00:00:00Z",
            "primaryEndpoints": {
                "blob": f"https://{name}.blob.core.windows.net/",
                "dfs": f"https://{name}.dfs.core.windows.net/",
                "web": f"https://{name}.z13.web.core.windows.net/",
            },
        },
    )


def _container(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    return _arm(
        args,
        "containerName",
        "Microsoft.Storage/storageAccounts/blobServices/containers",
        {
            "etag": f'"0x{stable_hex(args.name, "etag", length=15).upper()}"',
            "lastModifiedTime": "2026-01-01T00:00:00Z",
            "leaseState": "Available",
            "leaseStatus": "Unlocked",
            "hasImmutabilityPolicy": False,
            "hasLegalHold": False,
            "deleted": False,
        },
    )


OUTPUTS: dict[str, Callable[[pulumi_mocks.MockResourceArgs], dict[str, Any]]] = {
    "pulumi:providers:azure-native": lambda a: dict(a.inputs),
    "azure-native:resources:ResourceGroup": lambda a: _arm(
        a, "resourceGroupName", "Microsoft.Resources/resourceGroups", {"properties": {"provisioningState": "Succeeded"}}
    ),
    "azure-native:network:PublicIPAddress": _public_ip,
    "azure-native:network:NatGateway": _network("Microsoft.Network/natGateways", "natGatewayName"),
    "azure-native:network:VirtualNetwork": _network("Microsoft.Network/virtualNetworks", "virtualNetworkName"),
    "azure-native:network:Subnet": _network("Microsoft.Network/virtualNetworks/subnets", "subnetName"),
    "azure-native:network:NetworkSecurityGroup": _network(
        "Microsoft.Network/networkSecurityGroups", "networkSecurityGroupName"
    ),
    "azure-native:privatedns:PrivateZone": lambda a: _arm(
        a,
        "privateZoneName",
        "Microsoft.Network/privateDnsZones",
        {"provisioningState": "Succeeded", "numberOfRecordSets": 1, "maxNumberOfRecordSets": 25000},
    ),
    "azure-native:privatedns:VirtualNetworkLink": lambda a: _arm(
        a,
        "virtualNetworkLinkName",
        "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
        {"provisioningState": "Succeeded", "virtualNetworkLinkState": "Completed"},
    ),
    "azure-native:managedidentity:UserAssignedIdentity": _identity,
    "azure-native:managedidentity:FederatedIdentityCredential": lambda a: _arm(
        a,
        "federatedIdentityCredentialResourceName",
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
        {},
    ),
    "azure-native:authorization:RoleAssignment": _role_assignment,
    "azure-native:authorization:ManagementLockByScope": lambda a: _arm(
        a, "lockName", "Microsoft.Authorization/locks", {}
    ),
    "azure-native:containerservice:ManagedCluster": _managed_cluster,
    "azure-native:containerservice:AgentPool": _agent_pool,
    "azure-native:containerservice:MaintenanceConfiguration": _maintenance_configuration,
    "azure-native:dbforpostgresql:Server": _server,
    "azure-native:dbforpostgresql:Database": lambda a: _arm(
        a, "databaseName", "Microsoft.DBforPostgreSQL/flexibleServers/databases", {}
    ),
    "azure-native:dbforpostgresql:Configuration": _configuration,
    "azure-native:storage:StorageAccount": _storage_account,
    "azure-native:storage:BlobContainer": _container,
}


def _client_config(args: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "clientId": DEPLOYER_CLIENT_ID,
        "objectId": DEPLOYER_OBJECT_ID,
        "subscriptionId": SUBSCRIPTION_ID,
        "tenantId": TENANT_ID,
    }


def _user_credentials(args: Mapping[str, Any]) -> dict[str, Any]:
    """The cluster-user kubeconfig AKS returns for an Entra ID cluster in exec format."""
    name = args["resourceName"]
    fqdn = _CLUSTERS[(args["resourceGroupName"], name)]
    certificate = base64.b64encode(
        f"-----BEGIN CERTIFICATE-----\n{stable_hex(name, 'ca', length=64)}\n-----END CERTIFICATE-----\n".encode()
    ).decode()
    user = f"clusterUser_{args['resourceGroupName']}_{name}"
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": name, "cluster": {"server": f"https://{fqdn}:443", "certificate-authority-data": certificate}}
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": user}}],
        "current-context": name,
        "users": [
            {
                "name": user,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "kubelogin",
                        "args": [
                            "get-token",
                            "--environment",
                            "AzurePublicCloud",
                            "--server-id",
                            "6dae42f8-4368-4678-94ff-3960e28e3630",
                            "--client-id",
                            "80faf920-1908-4b52-b5ef-a8e7bedfc67a",
                            "--tenant-id",
                            TENANT_ID,
                            "--login",
                            "devicecode",
                        ],
                        "provideClusterInfo": False,
                    }
                },
            }
        ],
    }
    value = base64.b64encode(yaml.safe_dump(kubeconfig).encode()).decode()
    return {"kubeconfigs": [{"name": "clusterUser", "value": value}]}


INVOKES: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "azure-native:authorization:getClientConfig": _client_config,
    "azure-native:containerservice:listManagedClusterUserCredentials": _user_credentials,
}
