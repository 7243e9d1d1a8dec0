"""The azure example stack, evaluated under mocks: assertions on the registered graph."""

from __future__ import annotations

import base64
import subprocess
import sys

import pulumi
import pytest
import yaml

from components.metadata_url import parse_metadata_url
from components.persist_url import parse_persist_url
from components.settings.azure import AzureSettings
from tests.harness.graph import may_wait_for, waits_for
from tests.harness.kubernetes_objects import is_plain_object, validate_strict
from tests.harness.mocks import RealisticMocks, RecordingMonitor
from tests.harness.stack import Evaluation, backend, evaluate, named, operator_values, paths_holding
from tests.targets.azure.stack import (
    ACCOUNT,
    ADMIN_GROUP,
    AKS_RBAC_CLUSTER_ADMIN,
    CI_PRINCIPAL,
    CLUSTER,
    CONFIGURATION,
    CONTAINER,
    DAEMON_SET,
    DATABASE,
    DNS_LINK,
    DNS_ZONE,
    FEDERATION,
    IDENTITY,
    K8S_PROVIDER,
    LOCK,
    MATERIALIZE,
    NAT,
    NETWORK_CONTRIBUTOR,
    NSG,
    POOL,
    PUBLIC_IP,
    RANDOM_PASSWORD,
    RESOURCE_GROUP,
    ROLE,
    SERVER,
    SERVICE,
    STORAGE_BLOB_DATA_CONTRIBUTOR,
    SUBNET,
    VNET,
    azure_stack,
    depends_on,
    taggable,
    with_azure,
)
from tools.offline import azure_mocks
from tools.stack_files import ROOT, read_stack_config

TAGS = {"app": "materialize", "environment": "example"}
# A public range a runner could come from (not a documentation range, which settings refuse).
RUNNER_RANGE = "20.62.128.0/24"
EXISTING = "/subscriptions/5f1c6e0a-8d3b-4c2e-9a71-0b4d2e6f8a13/resourceGroups/network-rg/providers/Microsoft.Network"


@pytest.fixture(scope="module")
def stack() -> Evaluation:
    return evaluate(azure_stack())


@pytest.fixture(scope="module")
def two() -> Evaluation:
    return evaluate(azure_stack(instances=[{"name": "main"}, {"name": "analytics", "namespace": "mz-analytics"}]))


def identity_of(evaluation: Evaluation, instance: str) -> pulumi.Resource:
    return evaluation.one(IDENTITY, f"azure-{instance}-blob-identity")


def test_example_stack_needs_only_the_license_key(stack: Evaluation) -> None:
    assert read_stack_config("azure").encrypted == frozenset()
    assert stack.outputs["target"] == "azure"
    assert stack.outputs["azure"] == {
        "resourceGroup": "materialize-rg",
        "clusterName": "materialize-aks",
        "storageAccount": stack.one(ACCOUNT).inputs["accountName"],
        "postgresHost": stack.one(SERVER).state["fullyQualifiedDomainName"],
    }
    assert "kubeconfig" in stack.secret_outputs and "connectionStrings" in stack.secret_outputs
    assert len(stack.of_type(MATERIALIZE)) == 1


def test_components_are_typed_and_parent_every_resource(stack: Evaluation) -> None:
    target = stack.one("materialize:azure:Target")
    ours = {target.urn}
    for resource in stack.registered:
        if resource.parent in ours:
            ours.add(resource.urn)
    mine = [r for r in stack.registered if r.urn in ours and r is not target]
    assert all(r.name.startswith("azure-") for r in mine)
    assert {r.type for r in stack.registered if r.type.startswith("azure-native:")} <= {r.type for r in mine}
    assert {r.type for r in mine if r.type.startswith("materialize:")} == {
        "materialize:azure:Network",
        "materialize:azure:Postgres",
        "materialize:azure:Storage",
        "materialize:azure:Cluster",
        "materialize:azure:InstanceBlobAccess",
        "materialize:targets:DiskSetup",
        "materialize:targets:ClusterDns",
    }


def test_every_taggable_resource_carries_the_stack_tags(stack: Evaluation) -> None:
    azure_resources = [r for r in stack.registered if r.type.startswith("azure-native:")]
    tagged = [r for r in azure_resources if taggable(r.type)]
    assert {r.type for r in tagged} >= {RESOURCE_GROUP, VNET, NAT, PUBLIC_IP, NSG, DNS_ZONE, DNS_LINK, IDENTITY}
    assert {r.type for r in tagged} >= {CLUSTER, POOL, SERVER, ACCOUNT}
    for resource in tagged:
        assert resource.inputs.get("tags") == TAGS, resource.name
    system_pool = stack.one(CLUSTER).inputs["agentPoolProfiles"][0]
    assert system_pool["tags"] == TAGS


def test_network_has_nat_egress_a_delegated_postgres_subnet_and_a_linked_private_zone(stack: Evaluation) -> None:
    vnet = stack.one(VNET)
    assert vnet.inputs["addressSpace"] == {"addressPrefixes": ["10.1.0.0/16"]}
    assert "subnets" not in vnet.inputs
    ip = stack.one(PUBLIC_IP)
    assert ip.inputs["publicIPAllocationMethod"] == "Static" and ip.inputs["sku"]["name"] == "Standard"
    nat = stack.one(NAT)
    assert nat.options["propertyDependencies"]["publicIpAddresses"] == [ip.urn]

    aks = stack.one(SUBNET, "azure-network-aks-subnet")
    assert aks.inputs["addressPrefix"] == "10.1.0.0/20"
    assert aks.options["propertyDependencies"]["natGateway"] == [nat.urn]
    assert aks.inputs["serviceEndpoints"] == [{"service": "Microsoft.Storage"}]

    postgres = stack.one(SUBNET, "azure-network-postgres-subnet")
    assert postgres.inputs["addressPrefix"] == "10.1.16.0/24"
    assert postgres.inputs["delegations"] == [
        {"name": "flexible-servers", "serviceName": "Microsoft.DBforPostgreSQL/flexibleServers"}
    ]
    rules = {rule["name"]: rule for rule in stack.one(NSG).inputs["securityRules"]}
    assert rules["allow-aks-postgres"]["sourceAddressPrefix"] == "10.1.0.0/20"
    assert rules["allow-aks-postgres"]["destinationPortRanges"] == ["5432", "6432"]
    assert rules["deny-other-vnet-inbound"]["access"] == "Deny"
    assert rules["deny-other-vnet-inbound"]["priority"] > rules["allow-aks-postgres"]["priority"]

    zone = stack.one(DNS_ZONE)
    assert zone.inputs["privateZoneName"].endswith(".postgres.database.azure.com")
    link = stack.one(DNS_LINK)
    assert link.options["propertyDependencies"]["virtualNetwork"] == [vnet.urn]
    assert link.inputs["registrationEnabled"] is False


def test_server_is_private_tls_only_and_backed_up(stack: Evaluation) -> None:
    server = stack.one(SERVER)
    inputs = server.inputs
    assert int(inputs["version"]) >= 15
    assert inputs["network"]["publicNetworkAccess"] == "Disabled"
    dependencies = server.options["propertyDependencies"]["network"]
    assert stack.one(SUBNET, "azure-network-postgres-subnet").urn in dependencies
    assert stack.one(DNS_ZONE).urn in dependencies
    # The zone must be linked to the VNet before the server can use it.
    assert stack.one(DNS_LINK).urn in server.dependencies
    assert inputs["backup"]["backupRetentionDays"] >= 7
    assert inputs["backup"]["geoRedundantBackup"] == "Disabled"
    assert inputs["highAvailability"] == {"mode": "Disabled"}
    assert inputs["sku"] == {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"}
    assert server.is_secret("administratorLoginPassword")

    transport = stack.one(CONFIGURATION)
    assert transport.inputs["configurationName"] == "require_secure_transport"
    assert transport.inputs["value"] == "on" and transport.inputs["source"] == "user-override"
    assert transport.options["propertyDependencies"]["serverName"] == [server.urn]


def test_optional_server_resilience_reaches_the_server() -> None:
    evaluation = evaluate(
        with_azure(postgresHighAvailability=True, postgresGeoRedundantBackup=True, postgresBackupRetentionDays=14)
    )
    inputs = evaluation.one(SERVER).inputs
    assert inputs["highAvailability"] == {"mode": "ZoneRedundant"}
    assert inputs["backup"] == {"backupRetentionDays": 14, "geoRedundantBackup": "Enabled"}


def test_storage_account_is_premium_private_and_keyless(stack: Evaluation) -> None:
    account = stack.one(ACCOUNT)
    inputs = account.inputs
    assert inputs["kind"] == "BlockBlobStorage"
    # A production stack in eastus2, which offers Premium ZRS (regions.py).
    assert inputs["sku"] == {"name": "Premium_ZRS"}
    assert inputs["minimumTlsVersion"] == "TLS1_2"
    assert inputs["enableHttpsTrafficOnly"] is True
    assert inputs["allowBlobPublicAccess"] is False
    assert inputs["allowSharedKeyAccess"] is False
    rules = inputs["networkRuleSet"]
    assert rules["defaultAction"] == "Deny" and rules["ipRules"] == [] and rules["bypass"] == "None"
    [vnet_rule] = rules["virtualNetworkRules"]
    assert vnet_rule["action"] == "Allow"
    assert account.options["propertyDependencies"]["networkRuleSet"] == [
        stack.one(SUBNET, "azure-network-aks-subnet").urn
    ]
    assert evaluate(with_azure(storageReplication="LRS")).one(ACCOUNT).inputs["sku"] == {"name": "Premium_LRS"}


def test_each_instance_has_its_own_container_identity_and_role(two: Evaluation) -> None:
    for instance, namespace in (("main", "materialize-main"), ("analytics", "mz-analytics")):
        container = two.one(CONTAINER, f"azure-{instance}-blob-container")
        assert container.inputs["containerName"] == f"mz-{instance}"
        assert container.inputs["publicAccess"] == "None"
        identity = identity_of(two, instance)
        role = two.one(ROLE, f"azure-{instance}-blob-role")
        # Scoped to this container, nothing wider and nothing else.
        assert role.options["propertyDependencies"]["scope"] == [container.urn]
        assert role.inputs["scope"] not in {r.inputs.get("scope") for r in two.of_type(ROLE) if r is not role}
        assert role.inputs["roleDefinitionId"] == (
            f"/subscriptions/{azure_mocks.SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/"
            f"{STORAGE_BLOB_DATA_CONTRIBUTOR}"
        )
        assert role.inputs["principalId"] == identity.state["principalId"]
        assert role.inputs["principalType"] == "ServicePrincipal"

        credential = two.one(FEDERATION, f"azure-{instance}-blob-federation")
        assert credential.inputs["subject"] == f"system:serviceaccount:{namespace}:{instance}"
        assert credential.inputs["audiences"] == ["api://AzureADTokenExchange"]
        assert credential.inputs["issuer"] == two.one(CLUSTER).state["oidcIssuerProfile"]["issuerURL"]
        assert credential.inputs["resourceName"] == identity.inputs["resourceName"]


def test_instance_resources_carry_the_workload_identity(two: Evaluation) -> None:
    for instance in ("main", "analytics"):
        spec = named(two, MATERIALIZE, instance).inputs["spec"]
        client_id = identity_of(two, instance).state["clientId"]
        assert spec["serviceAccountAnnotations"] == {"azure.workload.identity/client-id": client_id}
        assert spec["podLabels"] == {"azure.workload.identity/use": "true"}


def test_persist_urls_name_the_instance_container_without_a_query(two: Evaluation) -> None:
    account = two.one(ACCOUNT).inputs["accountName"]
    for instance in ("main", "analytics"):
        url = backend(two, instance)["persist_backend_url"]
        assert "?" not in url
        parsed = parse_persist_url(url)
        assert (parsed.scheme, parsed.account, parsed.container) == ("azure", account, f"mz-{instance}")
        assert not parsed.has_secret
        assert url == f"https://{account}.blob.core.windows.net/mz-{instance}"


def test_metadata_urls_reach_each_instance_database_over_tls(two: Evaluation) -> None:
    server = two.one(SERVER)
    password = two.one(RANDOM_PASSWORD, "azure-postgres-admin-password").state["result"]
    for instance, database in (("main", "materialize_main"), ("analytics", "materialize_analytics")):
        assert two.one(DATABASE, f"azure-postgres-{instance}").inputs["databaseName"] == database
        url = parse_metadata_url(backend(two, instance)["metadata_backend_url"])
        assert (url.host, url.port, url.database) == (server.state["fullyQualifiedDomainName"], 5432, database)
        assert (url.user, url.password) == ("materialize", password)
        assert url.sslmode == "require"


def test_instances_wait_for_their_own_pieces_only(two: Evaluation) -> None:
    for instance, other in (("main", "analytics"), ("analytics", "main")):
        resource = named(two, MATERIALIZE, instance)
        waits = set(resource.dependencies)
        for token, name in (
            (DATABASE, f"azure-postgres-{instance}"),
            (CONTAINER, f"azure-{instance}-blob-container"),
            (FEDERATION, f"azure-{instance}-blob-federation"),
            (ROLE, f"azure-{instance}-blob-role"),
        ):
            assert two.one(token, name).urn in waits, name
        assert two.one(CONFIGURATION).urn in waits
        for name in (f"azure-postgres-{other}", f"azure-{other}-blob-container", f"azure-{other}-blob-role"):
            assert not any(r.urn in waits for r in two.registered if r.name == name)


def test_database_and_storage_do_not_wait_for_the_cluster(stack: Evaluation) -> None:
    cluster = {stack.one(CLUSTER).urn, stack.one(POOL).urn}
    for token in (SERVER, ACCOUNT, DATABASE, CONFIGURATION):
        for resource in stack.of_type(token):
            assert not cluster & depends_on(stack, resource), resource.name


def test_aks_cluster_has_workload_identity_cilium_overlay_and_nat_egress(stack: Evaluation) -> None:
    inputs = stack.one(CLUSTER).inputs
    assert inputs["kubernetesVersion"] == "1.35"
    assert inputs["oidcIssuerProfile"] == {"enabled": True}
    assert inputs["securityProfile"] == {"workloadIdentity": {"enabled": True}}
    network = inputs["networkProfile"]
    assert (network["networkPlugin"], network["networkPluginMode"]) == ("azure", "overlay")
    assert (network["networkPolicy"], network["networkDataplane"]) == ("cilium", "cilium")
    assert network["outboundType"] == "userAssignedNATGateway"
    assert (network["serviceCidr"], network["dnsServiceIP"]) == ("10.2.0.0/16", "10.2.0.10")
    # The example names no ranges: the endpoint is open, still behind Entra ID.
    assert "apiServerAccessProfile" not in inputs
    assert inputs["aadProfile"]["managed"] is True and inputs["aadProfile"]["enableAzureRBAC"] is True
    assert inputs["aadProfile"]["tenantID"] == azure_mocks.TENANT_ID
    assert inputs["disableLocalAccounts"] is True
    [system] = inputs["agentPoolProfiles"]
    assert system["mode"] == "System" and system["nodeLabels"] == {"workload": "generic"}
    assert system["minCount"] <= system["count"] <= system["maxCount"]
    assert "agentPoolProfiles[0].count" in stack.one(CLUSTER).options["ignoreChanges"]


def test_authorized_ranges_add_the_nat_gateway_for_in_cluster_clients() -> None:
    evaluation = evaluate(with_azure(apiServerAuthorizedRanges=[RUNNER_RANGE]))
    nat_ip = evaluation.one(PUBLIC_IP).state["ipAddress"]
    assert evaluation.one(CLUSTER).inputs["apiServerAccessProfile"] == {
        "authorizedIPRanges": [RUNNER_RANGE, f"{nat_ip}/32"]
    }


def test_control_plane_identity_may_manage_its_subnet_only(stack: Evaluation) -> None:
    cluster = stack.one(CLUSTER)
    identity = stack.one(IDENTITY, "azure-cluster-identity")
    assert cluster.inputs["identity"] == {
        "type": "UserAssigned",
        "userAssignedIdentities": [cluster.inputs["identity"]["userAssignedIdentities"][0]],
    }
    assert cluster.options["propertyDependencies"]["identity"] == [identity.urn]
    role = stack.one(ROLE, "azure-cluster-subnet-access")
    assert role.options["propertyDependencies"]["scope"] == [stack.one(SUBNET, "azure-network-aks-subnet").urn]
    assert role.inputs["roleDefinitionId"].endswith(f"/roleDefinitions/{NETWORK_CONTRIBUTOR}")
    assert role.inputs["principalId"] == identity.state["principalId"]
    assert role.urn in cluster.dependencies


def test_deployer_administers_the_cluster_through_azure_rbac(stack: Evaluation) -> None:
    admin = stack.one(ROLE, "azure-cluster-deployer-admin")
    assert admin.options["propertyDependencies"]["scope"] == [stack.one(CLUSTER).urn]
    assert admin.inputs["roleDefinitionId"].endswith(f"/roleDefinitions/{AKS_RBAC_CLUSTER_ADMIN}")
    assert admin.inputs["principalId"] == azure_mocks.DEPLOYER_OBJECT_ID
    operator_namespace = named(stack, "kubernetes:core/v1:Namespace", "materialize")
    assert admin.urn in operator_namespace.dependencies
    # Every Kubernetes object goes through the provider, which waits for the role.
    assert admin.urn in stack.one(K8S_PROVIDER).dependencies


def test_kubernetes_rbac_keeps_local_accounts_and_names_admin_groups() -> None:
    group = ADMIN_GROUP
    evaluation = evaluate(with_azure(entraIdRbac=False, adminGroupObjectIds=[group]))
    inputs = evaluation.one(CLUSTER).inputs
    assert inputs["aadProfile"]["enableAzureRBAC"] is False
    assert inputs["aadProfile"]["adminGroupObjectIDs"] == [group]
    assert inputs["disableLocalAccounts"] is False
    assert not [r for r in evaluation.of_type(ROLE) if r.name == "azure-cluster-deployer-admin"]


def test_materialize_pool_is_swap_capable_labelled_and_tainted(stack: Evaluation) -> None:
    pool = stack.one(POOL)
    assert pool.inputs["vmSize"] == "Standard_E4pds_v6"
    assert pool.inputs["mode"] == "User" and pool.inputs["agentPoolName"] == "materialize"
    assert pool.inputs["nodeLabels"] == {"materialize.cloud/swap": "true", "workload": "materialize-instance"}
    assert pool.inputs["nodeTaints"] == ["materialize.cloud/workload=materialize-instance:NoSchedule"]
    assert pool.options["propertyDependencies"]["resourceName"] == [stack.one(CLUSTER).urn]
    # The autoscaler moves the count; an update must not move it back.
    assert pool.inputs["enableAutoScaling"] is True and pool.options["ignoreChanges"] == ["count"]
    values = operator_values(stack)
    assert values["operator"]["clusters"]["swap_enabled"] is True
    assert values["clusterd"] == {
        "nodeSelector": {"workload": "materialize-instance"},
        "tolerations": [
            {
                "key": "materialize.cloud/workload",
                "operator": "Equal",
                "value": "materialize-instance",
                "effect": "NoSchedule",
            }
        ],
    }
    assert values["operator"]["nodeSelector"] == {"workload": "generic"}


def test_disk_setup_runs_in_azure_mode_on_the_materialize_pool_only(stack: Evaluation) -> None:
    daemon_set = stack.one(DAEMON_SET)
    spec = daemon_set.inputs["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"materialize.cloud/swap": "true", "workload": "materialize-instance"}
    [setup] = spec["initContainers"]
    assert setup["args"][:3] == ["swap", "--cloud-provider", "azure"]
    # AKS forbids removing pool taints: no startup taint to lift.
    assert "--remove-taint" not in setup["args"]
    assert stack.one(POOL).urn in daemon_set.dependencies
    # The instance waits for swap on its pool; the operator (on the system pool) does not.
    assert waits_for(stack, stack.one(MATERIALIZE), daemon_set)
    operator_namespace = named(stack, "kubernetes:core/v1:Namespace", "materialize")
    assert not may_wait_for(stack, operator_namespace, daemon_set)
    assert not may_wait_for(stack, operator_namespace, stack.one(POOL))


def test_swap_off_drops_the_label_and_the_disk_setup() -> None:
    evaluation = evaluate(azure_stack(swap=False))
    assert "materialize.cloud/swap" not in evaluation.one(POOL).inputs["nodeLabels"]
    assert not evaluation.of_type(DAEMON_SET)
    assert operator_values(evaluation)["operator"]["clusters"]["swap_enabled"] is False


def test_provider_uses_an_exec_kubeconfig_exported_as_a_secret(stack: Evaluation) -> None:
    provider = stack.one(K8S_PROVIDER)
    assert provider.inputs["clusterIdentifier"] == "azure/materialize-aks"
    assert provider.is_secret("kubeconfig")
    kubeconfig = yaml.safe_load(provider.inputs["kubeconfig"])
    [user] = kubeconfig["users"]
    assert set(user["user"]) == {"exec"}
    assert user["user"]["exec"]["command"] == "kubelogin"
    assert user["user"]["exec"]["args"][:3] == ["get-token", "--login", "azurecli"]
    [cluster] = kubeconfig["clusters"]
    assert cluster["cluster"]["server"] == f"https://{stack.one(CLUSTER).state['fqdn']}:443"
    assert base64.b64decode(cluster["cluster"]["certificate-authority-data"]).startswith(b"-----BEGIN CERTIFICATE")
    assert stack.outputs["kubeconfig"] == provider.inputs["kubeconfig"]
    for resource in stack.registered:
        if resource.type.startswith("kubernetes:"):
            assert resource.provider.startswith(provider.urn + "::"), resource.name


def test_operator_runs_as_azure_in_the_stack_region(stack: Evaluation) -> None:
    assert operator_values(stack)["operator"]["cloudProvider"] == {"type": "azure", "region": "eastus2"}


def test_services_are_internal_load_balancers_by_default(stack: Evaluation) -> None:
    for service in ("main-balancerd-lb", "main-console-lb"):
        resource = named(stack, SERVICE, service)
        assert resource.inputs["spec"]["type"] == "LoadBalancer"
        assert resource.inputs["metadata"]["annotations"] == {
            "service.beta.kubernetes.io/azure-load-balancer-internal": "true"
        }
    config = azure_stack(
        instances=[{"name": "main", "exposure": {"type": "public", "allowedCidrs": ["198.51.100.0/24"]}}]
    )
    public = named(evaluate(config), SERVICE, "main-balancerd-lb")
    assert public.inputs["metadata"]["annotations"] == {}
    assert public.inputs["spec"]["loadBalancerSourceRanges"] == ["198.51.100.0/24"]


def test_data_is_protected_by_default(stack: Evaluation) -> None:
    for token in (RESOURCE_GROUP, SERVER, DATABASE, ACCOUNT, CONTAINER):
        for resource in stack.of_type(token):
            assert resource.protect, resource.name
    assert stack.one(RANDOM_PASSWORD, "azure-postgres-admin-password").protect
    locks = {lock.options["propertyDependencies"]["scope"][0]: lock.inputs for lock in stack.of_type(LOCK)}
    assert set(locks) == {stack.one(SERVER).urn, stack.one(ACCOUNT).urn}
    assert all(lock["level"] == "CanNotDelete" for lock in locks.values())


def test_throwaway_stacks_protect_nothing() -> None:
    evaluation = evaluate(azure_stack(protectData=False))
    assert not [r.name for r in evaluation.registered if r.protect]
    assert not evaluation.of_type(LOCK)


def test_generated_secrets_appear_only_as_secrets(two: Evaluation) -> None:
    passwords = [r.state["result"] for r in two.of_type(RANDOM_PASSWORD)]
    assert len(passwords) == 3 + 1  # the server's admin, mz_system per instance, Grafana's admin (monitoring)
    holding = paths_holding(two, passwords)
    for resource, path in holding:
        assert resource.is_secret(path), f"{resource.name}: {path} holds a password in plain text"
    assert len(holding) >= 4
    assert {"kubeconfig", "connectionStrings"} <= two.secret_outputs


def test_plain_kubernetes_objects_pass_strict_validation(stack: Evaluation) -> None:
    objects = [r for r in stack.registered if is_plain_object(r)]
    assert any(r.type == DAEMON_SET for r in objects)
    for resource in objects:
        validate_strict(resource)


def test_evaluating_twice_gives_identical_inputs(stack: Evaluation) -> None:
    assert evaluate(azure_stack()).desired_state() == stack.desired_state()


def test_existing_resource_group_and_network_are_used_not_created() -> None:
    config = with_azure(
        apiServerAuthorizedRanges=[RUNNER_RANGE],
        resourceGroup="platform-rg",
        existingAksSubnetId=f"{EXISTING}/virtualNetworks/shared/subnets/aks",
        existingPostgresSubnetId=f"{EXISTING}/virtualNetworks/shared/subnets/postgres",
        existingPostgresDnsZoneId=f"{EXISTING}/privateDnsZones/mz.postgres.database.azure.com",
    )
    evaluation = evaluate(config)
    for token in (RESOURCE_GROUP, VNET, SUBNET, NAT, PUBLIC_IP, NSG, DNS_ZONE, DNS_LINK):
        assert not evaluation.of_type(token), token
    server = evaluation.one(SERVER).inputs
    assert server["resourceGroupName"] == "platform-rg"
    assert server["network"]["delegatedSubnetResourceId"] == f"{EXISTING}/virtualNetworks/shared/subnets/postgres"
    assert server["network"]["privateDnsZoneArmResourceId"].endswith("/mz.postgres.database.azure.com")
    subnet = f"{EXISTING}/virtualNetworks/shared/subnets/aks"
    assert evaluation.one(ROLE, "azure-cluster-subnet-access").inputs["scope"] == subnet
    assert evaluation.one(POOL).inputs["vnetSubnetID"] == subnet
    rule = evaluation.one(ACCOUNT).inputs["networkRuleSet"]["virtualNetworkRules"][0]
    assert rule["virtualNetworkResourceId"] == subnet
    # No NAT gateway of ours: the allowlist is exactly what was configured.
    assert evaluation.one(CLUSTER).inputs["apiServerAccessProfile"] == {"authorizedIPRanges": [RUNNER_RANGE]}


@pytest.mark.parametrize(
    ("azure", "message"),
    [
        ({"aksSubnetCidr": "10.9.0.0/20"}, r"azure\.aksSubnetCidr: 10\.9\.0\.0/20 is not inside vnetCidr"),
        ({"podCidr": "10.1.128.0/17"}, r"azure\.podCidr: 10\.1\.128\.0/17 overlaps azure\.vnetCidr"),
        ({"existingAksSubnetId": f"{EXISTING}/virtualNetworks/v/subnets/a"}, r"an existing VNet needs all three"),
        ({"entraIdRbac": False}, r"azure\.adminGroupObjectIds: with entraIdRbac false"),
        ({"postgresSku": "Standard_B2ms", "postgresHighAvailability": True}, r"Burstable sizes"),
        ({"postgresVersion": "14"}, r"materialize:azure\.postgresVersion: '14' is not allowed"),
        ({"materializeMinNodes": 5, "materializeMaxNodes": 2}, r"azure\.materializeMinNodes: 5 is more than"),
        ({"namePrefix": "Materialize"}, r"materialize:azure\.namePrefix"),
        ({"storageReplication": "GRS"}, r"materialize:azure\.storageReplication"),
        ({"kubernetesVersion": "latest"}, r"materialize:azure\.kubernetesVersion"),
        ({"nodeCount": 3}, r"materialize:azure\.nodeCount: unknown key"),
        (
            {"apiServerAuthorizedRanges": ["203.0.113.0/24"]},
            r"materialize:azure\.apiServerAuthorizedRanges\[0\]: '203\.0\.113\.0/24' is in 203\.0\.113\.0/24, "
            r"a documentation range \(RFC 5737\)",
        ),
        (
            {"apiServerAuthorizedRanges": ["10.0.0.0/8", "192.0.2.128/25"]},
            r"apiServerAuthorizedRanges\[1\]: '192\.0\.2\.128/25' is in",
        ),
        (
            {"apiServerAuthorizedRanges": ["203.0.113.7/32"]},
            r"apiServerAuthorizedRanges\[0\]: '203\.0\.113\.7/32' is in 203\.0\.113\.0/24, a documentation",
        ),
        ({"osDiskSizeGb": 16}, r"materialize:azure\.osDiskSizeGb"),
        ({"kubeloginMode": "devicecode"}, r"materialize:azure\.kubeloginMode"),
        ({"clusterAdmins": [{"objectId": "not-a-uuid", "type": "User"}]}, r"materialize:azure\.clusterAdmins"),
        ({"clusterAdmins": [{"objectId": CI_PRINCIPAL, "type": "Robot"}]}, r"materialize:azure\.clusterAdmins"),
        (
            {
                "entraIdRbac": False,
                "adminGroupObjectIds": [ADMIN_GROUP],
                "clusterAdmins": [{"objectId": CI_PRINCIPAL, "type": "User"}],
            },
            r"azure\.clusterAdmins: role assignments authorize only with entraIdRbac",
        ),
        ({"deployerClusterAdmin": False}, r"azure\.deployerClusterAdmin: false with no clusterAdmins leaves nobody"),
        ({"zones": ["1", "1"]}, r"azure\.zones: \['1', '1'\] names a zone twice"),
        ({"zones": ["4"]}, r"materialize:azure\.zones"),
        (
            {"kubernetesUpgradeWindow": {"dayOfWeek": "Sunday", "startTime": "01:00", "durationHours": 2}},
            r"materialize:azure\.kubernetesUpgradeWindow\.durationHours",
        ),
        (
            {"nodeOsUpgradeWindow": {"dayOfWeek": "Sunday", "startTime": "25:00"}},
            r"materialize:azure\.nodeOsUpgradeWindow\.startTime",
        ),
        (
            {"nodeOsUpgradeWindow": {"dayOfWeek": "Funday", "startTime": "01:00"}},
            r"materialize:azure\.nodeOsUpgradeWindow\.dayOfWeek",
        ),
        (
            {"nodeOsUpgradeWindow": {"dayOfWeek": "Monday", "startTime": "01:00", "utcOffset": "UTC"}},
            r"materialize:azure\.nodeOsUpgradeWindow\.utcOffset",
        ),
        ({"encryptionAtHost": "yes please"}, r"materialize:azure\.encryptionAtHost"),
    ],
)
def test_bad_azure_settings_are_refused_before_anything_is_created(azure: dict[str, object], message: str) -> None:
    monitor = RecordingMonitor(RealisticMocks())
    with pytest.raises(pulumi.RunError, match=message):
        evaluate(with_azure(**azure), monitor=monitor)
    assert monitor.registered == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"region": "East US 2"}, r"materialize:region: 'East US 2' is not an Azure location name"),
        ({"instances": [{"name": "a--b"}]}, r"materialize:instances\[0\]\.name: 'a--b' is not allowed on azure"),
        (
            {"instances": [{"name": "main", "namespace": "disk-setup"}]},
            r"materialize:instances\[0\]: namespace disk-setup belongs to the nodes' disk setup",
        ),
    ],
)
def test_values_only_azure_cannot_use_are_refused_before_anything_is_created(
    overrides: dict[str, object], message: str
) -> None:
    monitor = RecordingMonitor(RealisticMocks())
    with pytest.raises(pulumi.RunError, match=message):
        evaluate(azure_stack(**overrides), monitor=monitor)
    # Only the upgrade guard's read of the stack's own outputs happens first.
    assert [r.type for r in monitor.registered] == ["pulumi:pulumi:StackReference"]


def test_every_azure_setting_is_documented() -> None:
    text = (ROOT / "docs" / "azure.md").read_text()
    for info in AzureSettings.model_fields.values():
        assert f"`{info.alias}`" in text, info.alias


def test_an_azure_stack_loads_no_other_cloud_sdk() -> None:
    sdks = ("pulumi_aws", "pulumi_gcp", "pulumi_azure_native")
    code = (
        "import sys; from tools import plan; "
        "assert plan.main(['--stack', 'azure']) == 0; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(sdks)!r}))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "['pulumi_azure_native']"


def test_a_wide_range_around_a_documentation_range_is_allowed() -> None:
    # Like aws: 198.0.0.0/8 also admits real addresses, so only blocks inside an RFC 5737 range are refused.
    cluster = evaluate(with_azure(apiServerAuthorizedRanges=["198.0.0.0/8"])).one(CLUSTER)
    assert "198.0.0.0/8" in cluster.inputs["apiServerAccessProfile"]["authorizedIPRanges"]
