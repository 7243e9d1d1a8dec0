"""What makes a first `up` work from any runner and later ones survive Azure's own changes (issue 17)."""

from __future__ import annotations

import ipaddress
import itertools
import shutil
import typing
import uuid

import pulumi
import pytest
import yaml

from components.settings.azure import WeekDay
from components.targets.azure import kubeconfig, regions
from components.targets.azure.cluster import POOL_CREATION_FIELDS
from components.targets.azure.roles import ROLE_ASSIGNMENT_NAMESPACE, role_assignment_name
from tests.harness.mocks import RealisticMocks, RecordingMonitor
from tests.harness.stack import Evaluation, evaluate
from tests.targets.azure.stack import (
    ACCOUNT,
    ADMIN_GROUP,
    AKS_RBAC_CLUSTER_ADMIN,
    CI_PRINCIPAL,
    CLUSTER,
    CONFIGURATION,
    DAEMON_SET,
    DATABASE,
    K8S_PROVIDER,
    LOCK,
    MAINTENANCE,
    NSG,
    POOL,
    ROLE,
    SERVER,
    azure_stack,
    with_azure,
)
from tools.offline import azure_mocks

ISSUED_ARGS = [
    "get-token",
    "--environment",
    "AzureUSGovernmentCloud",
    "--server-id",
    "6dae42f8-4368-4678-94ff-3960e28e3630",
    "--client-id",
    "80faf920-1908-4b52-b5ef-a8e7bedfc67a",
    "--tenant-id",
    azure_mocks.TENANT_ID,
    "--login",
    "devicecode",
]


@pytest.fixture(scope="module")
def stack() -> Evaluation:
    return evaluate(azure_stack(instances=[{"name": "main"}, {"name": "analytics"}, {"name": "batch"}]))


def test_every_pool_boots_from_a_managed_disk_so_the_nvme_disk_stays_for_swap(stack: Evaluation) -> None:
    pool = stack.one(POOL)
    assert (pool.inputs["osDiskType"], pool.inputs["osDiskSizeGB"]) == ("Managed", 100)
    [system] = stack.one(CLUSTER).inputs["agentPoolProfiles"]
    assert (system["osDiskType"], system["osDiskSizeGB"]) == ("Managed", 100)
    # AKS cannot change a pool's OS disk: a new one replaces the fixed-name pool, old one first.
    assert {"osDiskType", "osDiskSizeGB"} <= set(pool.options["replaceOnChanges"])
    assert pool.options["deleteBeforeReplace"] is True
    bigger = evaluate(with_azure(osDiskSizeGb=256))
    assert bigger.one(POOL).inputs["osDiskSizeGB"] == 256


def test_the_disk_types_are_real_sdk_values() -> None:
    from pulumi_azure_native.containerservice import OSDiskType

    assert OSDiskType("Managed") is OSDiskType.MANAGED


def test_server_configuration_and_databases_are_applied_one_at_a_time(stack: Evaluation) -> None:
    server = stack.one(SERVER)
    configuration = stack.one(CONFIGURATION)
    assert configuration.options["propertyDependencies"]["serverName"] == [server.urn]
    chain = [configuration, *(stack.one(DATABASE, f"azure-postgres-{name}") for name in ("main", "analytics", "batch"))]
    for earlier, later in itertools.pairwise(chain):
        assert earlier.urn in later.dependencies, f"{later.name} does not wait for {earlier.name}"
    # Nothing else on the server runs beside them: each waits for all before it.
    for index, resource in enumerate(chain[1:], start=1):
        assert not {r.urn for r in chain[index + 1 :]} & set(resource.dependencies)


def test_zones_and_grown_storage_azure_changes_are_ignored(stack: Evaluation) -> None:
    server = stack.one(SERVER)
    assert server.options["ignoreChanges"] == [
        "availabilityZone",
        "highAvailability.standbyAvailabilityZone",
        "storage.storageSizeGB",
    ]
    # The program names no zone (the SDK sends '', pulumi_azure_native 3.29.0
    # dbforpostgresql/server.py and _inputs.py): Azure's pick, read back by a
    # refresh, differs from it and must stay.
    assert server.inputs["availabilityZone"] == "" and server.state["availabilityZone"] == "1"
    ha = evaluate(with_azure(postgresHighAvailability=True)).one(SERVER)
    assert ha.inputs["highAvailability"] == {"mode": "ZoneRedundant"}
    assert ha.state["highAvailability"]["standbyAvailabilityZone"] == "2"


def test_role_assignment_names_are_the_uuid5_of_scope_role_and_principal(stack: Evaluation) -> None:
    roles = stack.of_type(ROLE)
    assert len(roles) == 1 + 1 + 3  # subnet, deployer, one per instance
    for role in roles:
        inputs = role.inputs
        expected = uuid.uuid5(
            ROLE_ASSIGNMENT_NAMESPACE,
            "\n".join(part.lower() for part in (inputs["scope"], inputs["roleDefinitionId"], inputs["principalId"])),
        )
        assert inputs["roleAssignmentName"] == str(expected), role.name
        # A replacement must not meet the assignment it replaces (RoleAssignmentExists).
        assert role.options["deleteBeforeReplace"] is True, role.name
    assert len({role.inputs["roleAssignmentName"] for role in roles}) == len(roles)
    again = evaluate(azure_stack(instances=[{"name": "main"}, {"name": "analytics"}, {"name": "batch"}]))
    assert {r.name: r.inputs["roleAssignmentName"] for r in again.of_type(ROLE)} == {
        r.name: r.inputs["roleAssignmentName"] for r in roles
    }


def test_role_assignment_name_depends_on_every_part() -> None:
    base = role_assignment_name("/s/1/rg", "/roles/a", "p")
    assert base == role_assignment_name("/S/1/RG", "/ROLES/A", "P")
    assert (
        len({base, role_assignment_name("/s/2/rg", "/roles/a", "p"), role_assignment_name("/s/1/rg", "/roles/b", "p")})
        == 3
    )
    assert base != role_assignment_name("/s/1/rg", "/roles/a", "q")


def test_named_admins_get_cluster_admin_and_the_deployer_keeps_theirs() -> None:
    evaluation = evaluate(
        with_azure(
            clusterAdmins=[
                {"objectId": ADMIN_GROUP, "type": "Group"},
                {"objectId": CI_PRINCIPAL, "type": "ServicePrincipal"},
            ]
        )
    )
    cluster = evaluation.one(CLUSTER)
    admins = {
        r.inputs["principalId"]: r
        for r in evaluation.of_type(ROLE)
        if r.inputs["roleDefinitionId"].endswith(AKS_RBAC_CLUSTER_ADMIN)
    }
    assert set(admins) == {ADMIN_GROUP, CI_PRINCIPAL, azure_mocks.DEPLOYER_OBJECT_ID}
    assert admins[ADMIN_GROUP].inputs["principalType"] == "Group"
    assert admins[CI_PRINCIPAL].inputs["principalType"] == "ServicePrincipal"
    for admin in admins.values():
        assert admin.options["propertyDependencies"]["scope"] == [cluster.urn]
        assert admin.urn in evaluation.one(K8S_PROVIDER).dependencies
    # Another person or pipeline running `up` does not move the first deployer's assignment.
    deployer = admins[azure_mocks.DEPLOYER_OBJECT_ID]
    assert deployer.options["ignoreChanges"] == ["principalId", "roleAssignmentName"]
    assert all(not admins[p].options.get("ignoreChanges") for p in (ADMIN_GROUP, CI_PRINCIPAL))


def test_the_deployer_can_be_left_out_when_admins_are_named() -> None:
    evaluation = evaluate(
        with_azure(deployerClusterAdmin=False, clusterAdmins=[{"objectId": CI_PRINCIPAL, "type": "ServicePrincipal"}])
    )
    principals = [r.inputs["principalId"] for r in evaluation.of_type(ROLE)]
    assert CI_PRINCIPAL in principals and azure_mocks.DEPLOYER_OBJECT_ID not in principals


@pytest.mark.parametrize(
    ("mode", "extra"),
    [("azurecli", []), ("workloadidentity", []), ("msi", []), ("spn", ["--use-azurerm-env-vars"])],
)
def test_kubeconfig_signs_in_with_the_configured_mode(mode: str, extra: list[str]) -> None:
    evaluation = evaluate(with_azure(kubeloginMode=mode))
    document = yaml.safe_load(evaluation.one(K8S_PROVIDER).inputs["kubeconfig"])
    exec_ = document["users"][0]["user"]["exec"]
    assert exec_["command"] == "kubelogin" and exec_["interactiveMode"] == "Never"
    assert exec_["args"] == [
        "get-token",
        "--login",
        mode,
        "--environment",
        "AzurePublicCloud",
        "--server-id",
        "6dae42f8-4368-4678-94ff-3960e28e3630",
        "--tenant-id",
        azure_mocks.TENANT_ID,
        *extra,
    ]


def test_login_args_keep_the_cloud_aks_named() -> None:
    # A sovereign cloud's kubeconfig names its own environment; the device-code client is dropped.
    args = kubeconfig.login_args(ISSUED_ARGS, "azurecli")
    assert args[args.index("--environment") + 1] == "AzureUSGovernmentCloud"
    assert "--client-id" not in args and "devicecode" not in args


def test_missing_kubelogin_is_refused_before_anything_is_created(monkeypatch: pytest.MonkeyPatch) -> None:
    # Outside the mocks the check runs; here it is made to run against an empty PATH.
    monkeypatch.setattr(kubeconfig, "_under_mocks", lambda: False)
    monkeypatch.setattr(shutil, "which", lambda command: None)
    monitor = RecordingMonitor(RealisticMocks())
    with pytest.raises(
        pulumi.RunError, match=r"materialize:azure\.kubeloginMode: .*kubelogin, which is not on the PATH"
    ):
        evaluate(azure_stack(), monitor=monitor)
    assert [r.type for r in monitor.registered] == ["pulumi:pulumi:StackReference"]


def test_present_kubelogin_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kubeconfig, "_under_mocks", lambda: False)
    monkeypatch.setattr(shutil, "which", lambda command: f"/usr/local/bin/{command}")
    kubeconfig.require_kubelogin()


def test_locks_follow_protect_data_unless_set_on_their_own() -> None:
    assert len(evaluate(azure_stack()).of_type(LOCK)) == 2
    no_locks = evaluate(with_azure(deleteLocks=False))
    assert not no_locks.of_type(LOCK)
    assert no_locks.one(SERVER).protect  # Pulumi's own protection stays
    locked_throwaway = evaluate({**with_azure(deleteLocks=True), "protectData": False})
    assert len(locked_throwaway.of_type(LOCK)) == 2


# The host's virtual IP: the source of Azure's platform probes, and part of
# both service tags (MicrosoftDocs/azure-docs articles/virtual-network/
# service-tags-overview.md@0006b738: AzureLoadBalancer "translates to the
# virtual IP address of the host (168.63.129.16)", VirtualNetwork includes
# "the virtual IP address of the host").
HOST_VIP = "168.63.129.16"
# The NSG rules Azure adds to every group (learn.microsoft.com/azure/
# virtual-network/network-security-groups-overview, default security rules).
DEFAULT_INBOUND = [
    {"name": "AllowVnetInBound", "priority": 65000, "access": "Allow", "sourceAddressPrefix": "VirtualNetwork"},
    {
        "name": "AllowAzureLoadBalancerInBound",
        "priority": 65001,
        "access": "Allow",
        "sourceAddressPrefix": "AzureLoadBalancer",
    },
    {"name": "DenyAllInBound", "priority": 65500, "access": "Deny", "sourceAddressPrefix": "*"},
]


def _source_matches(prefix: str, source: str, vnet: str) -> bool:
    address = ipaddress.ip_address(source)
    if prefix == "*":
        return True
    if prefix == "AzureLoadBalancer":
        return source == HOST_VIP
    if prefix == "VirtualNetwork":
        return address in ipaddress.ip_network(vnet) or source == HOST_VIP
    return address in ipaddress.ip_network(prefix)


def _port_matches(rule: dict[str, object], port: int) -> bool:
    listed = rule.get("destinationPortRanges")
    ranges = (
        [str(value) for value in listed] if isinstance(listed, list) else [str(rule.get("destinationPortRange", "*"))]
    )
    return "*" in ranges or str(port) in ranges


def _nsg_admits(rules: list[dict[str, object]], source: str, port: int, vnet: str) -> str:
    """The first matching inbound rule by priority, as an NSG evaluates them; its name and access."""
    inbound = [rule for rule in rules if rule.get("direction", "Inbound") == "Inbound"] + DEFAULT_INBOUND
    for rule in sorted(inbound, key=lambda rule: int(str(rule["priority"]))):
        if _source_matches(str(rule["sourceAddressPrefix"]), source, vnet) and _port_matches(rule, port):
            return f"{rule['access']}:{rule['name']}"
    raise AssertionError("DenyAllInBound always matches")


def test_postgres_subnet_admits_azure_platform_probes_and_the_aks_nodes_only(stack: Evaluation) -> None:
    rules = stack.one(NSG).inputs["securityRules"]
    vnet = "10.1.0.0/16"
    # Without its own allow, the VirtualNetwork deny would take the probe first.
    assert _nsg_admits(rules, HOST_VIP, 5432, vnet) == "Allow:allow-azure-load-balancer"
    assert _nsg_admits(rules, "10.1.0.7", 5432, vnet) == "Allow:allow-aks-postgres"
    assert _nsg_admits(rules, "10.1.0.7", 22, vnet).startswith("Deny:")
    # Another subnet of the VNet (or a peered one) is refused, as before.
    assert _nsg_admits(rules, "10.1.32.9", 5432, vnet) == "Deny:deny-other-vnet-inbound"
    without = [rule for rule in rules if rule["name"] != "allow-azure-load-balancer"]
    assert _nsg_admits(without, HOST_VIP, 5432, vnet) == "Deny:deny-other-vnet-inbound"


def _stack_with(overrides: dict[str, object]) -> dict[str, object]:
    """The example stack with top-level keys changed, and `azure` keys merged into its own."""
    top = {key: value for key, value in overrides.items() if key != "azure"}
    azure = overrides.get("azure", {})
    assert isinstance(azure, dict)
    return {**with_azure(**azure), **top}


def test_pools_span_the_three_zones_of_a_zone_region(stack: Evaluation) -> None:
    # The example: eastus2.
    [system] = stack.one(CLUSTER).inputs["agentPoolProfiles"]
    pool = stack.one(POOL)
    assert system["availabilityZones"] == ["1", "2", "3"]
    assert pool.inputs["availabilityZones"] == ["1", "2", "3"]
    # AKS sets zones and host encryption at a pool's creation only: the
    # Materialize pool is replaced, the system pool (inside the cluster) keeps what it has.
    assert {"availabilityZones", "enableEncryptionAtHost"} <= set(pool.options["replaceOnChanges"])
    ignored = stack.one(CLUSTER).options["ignoreChanges"]
    assert {f"agentPoolProfiles[0].{field}" for field in POOL_CREATION_FIELDS} <= set(ignored)


@pytest.mark.parametrize(
    ("overrides", "zones"),
    [
        # Not keyed to protectData, which a teardown turns off first.
        ({"protectData": False}, ["1", "2", "3"]),
        ({"region": "westus"}, None),
        ({"azure": {"zones": []}}, None),
        ({"azure": {"zones": ["2", "1"]}}, ["1", "2"]),
        ({"region": "westus", "azure": {"zones": ["1"]}}, ["1"]),
    ],
)
def test_zones_follow_the_region_and_the_stack_unless_set(
    overrides: dict[str, object], zones: list[str] | None
) -> None:
    evaluation = evaluate(_stack_with(overrides))
    [system] = evaluation.one(CLUSTER).inputs["agentPoolProfiles"]
    assert system.get("availabilityZones") == zones
    assert evaluation.one(POOL).inputs.get("availabilityZones") == zones


@pytest.mark.parametrize(
    ("overrides", "sku"),
    [
        ({}, "Premium_ZRS"),
        ({"protectData": False}, "Premium_ZRS"),
        # Central US has zones but no Premium block blob ZRS.
        ({"region": "centralus"}, "Premium_LRS"),
        ({"azure": {"storageReplication": "LRS"}}, "Premium_LRS"),
        ({"region": "centralus", "azure": {"storageReplication": "ZRS"}}, "Premium_ZRS"),
    ],
)
def test_persist_storage_is_zone_redundant_where_offered(overrides: dict[str, object], sku: str) -> None:
    assert evaluate(_stack_with(overrides)).one(ACCOUNT).inputs["sku"] == {"name": sku}


def test_premium_zrs_regions_all_have_zones() -> None:
    # ZRS spreads copies over a region's zones, so it cannot exist without them.
    assert regions.PREMIUM_ZRS_REGIONS <= regions.ZONE_REGIONS
    assert all(name.isalnum() and name.islower() for name in regions.ZONE_REGIONS)


def test_auto_upgrades_wait_for_weekly_maintenance_windows(stack: Evaluation) -> None:
    configs = {c.inputs["configName"]: c for c in stack.of_type(MAINTENANCE)}
    # The names AKS reads for the upgrade channels (learn.microsoft.com/azure/aks/planned-maintenance).
    assert set(configs) == {"aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule"}
    cluster, pool = stack.one(CLUSTER), stack.one(POOL)
    assert cluster.inputs["autoUpgradeProfile"] == {"upgradeChannel": "patch", "nodeOSUpgradeChannel": "NodeImage"}
    for config in configs.values():
        assert config.options["propertyDependencies"]["resourceName"] == [cluster.urn]
        # After the pool, one at a time.
        assert pool.urn in config.dependencies or configs["aksManagedAutoUpgradeSchedule"].urn in config.dependencies
        window = config.inputs["maintenanceWindow"]
        assert 4 <= window["durationHours"] <= 24 and window["utcOffset"] == "+00:00"
        assert window["schedule"]["weekly"]["intervalWeeks"] == 1
        assert config.options["ignoreChanges"] == ["maintenanceWindow.startDate"]
    assert configs["aksManagedAutoUpgradeSchedule"].urn in configs["aksManagedNodeOSUpgradeSchedule"].dependencies
    kubernetes = configs["aksManagedAutoUpgradeSchedule"].inputs["maintenanceWindow"]
    assert (kubernetes["schedule"]["weekly"]["dayOfWeek"], kubernetes["startTime"]) == ("Sunday", "01:00")
    node_os = configs["aksManagedNodeOSUpgradeSchedule"].inputs["maintenanceWindow"]
    assert (node_os["schedule"]["weekly"]["dayOfWeek"], node_os["startTime"]) == ("Saturday", "01:00")

    custom = evaluate(
        with_azure(
            nodeOsUpgradeWindow={
                "dayOfWeek": "Tuesday",
                "startTime": "22:30",
                "durationHours": 8,
                "utcOffset": "-05:00",
                "intervalWeeks": 2,
            }
        )
    )
    [node_os_config] = [
        c for c in custom.of_type(MAINTENANCE) if c.inputs["configName"] == "aksManagedNodeOSUpgradeSchedule"
    ]
    assert node_os_config.inputs["maintenanceWindow"] == {
        "schedule": {"weekly": {"dayOfWeek": "Tuesday", "intervalWeeks": 2}},
        "startTime": "22:30",
        "durationHours": 8,
        "utcOffset": "-05:00",
    }


def test_week_days_are_the_sdk_values() -> None:
    from pulumi_azure_native.containerservice import WeekDay as SdkWeekDay

    assert set(typing.get_args(WeekDay)) == {day.value for day in SdkWeekDay}


def test_encryption_at_host_is_off_unless_asked_for_and_then_on_every_pool(stack: Evaluation) -> None:
    [system] = stack.one(CLUSTER).inputs["agentPoolProfiles"]
    assert system["enableEncryptionAtHost"] is False and stack.one(POOL).inputs["enableEncryptionAtHost"] is False
    encrypted = evaluate(with_azure(encryptionAtHost=True))
    [system] = encrypted.one(CLUSTER).inputs["agentPoolProfiles"]
    assert system["enableEncryptionAtHost"] is True and encrypted.one(POOL).inputs["enableEncryptionAtHost"] is True


def test_in_cluster_workloads_of_the_target_are_bounded_and_tokenless(stack: Evaluation) -> None:
    # Issue 17 item 8. The azure target creates no workload of its own under
    # components/targets/azure/; its one in-cluster workload is the shared
    # disk setup, which on AKS calls no API (there is no startup taint to lift).
    workloads = stack.of_type(DAEMON_SET) + stack.of_type("kubernetes:batch/v1:Job")
    assert len(workloads) == 1 and workloads[0].name.startswith("azure-disk-setup")
    for workload in workloads:
        pod = workload.inputs["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            resources = container["resources"]
            assert resources["limits"]["memory"] and resources["requests"]["cpu"], container["name"]
