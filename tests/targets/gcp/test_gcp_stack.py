"""The gcp example stack, evaluated under mocks: assertions on the registered graph."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from components.metadata_url import parse_metadata_url
from components.persist_url import parse_persist_url
from components.targets.disk_setup import DEFAULT_STARTUP_TAINT, DISK_SETUP_IMAGE
from tests.harness.graph import may_wait_for, waits_for
from tests.harness.kubernetes_objects import is_plain_object, validate_strict
from tests.harness.stack import (
    Evaluation,
    backend,
    evaluate,
    named,
    operator_values,
    paths_holding,
    strings,
)
from tests.targets.gcp.stack import (
    BUCKET,
    BUCKET_IAM,
    CLUSTER,
    DAEMON_SET,
    FIREWALL,
    GCP_PROVIDER,
    GLOBAL_ADDRESS,
    HMAC_KEY,
    K8S_PROVIDER,
    MATERIALIZE,
    NAMESPACE,
    NAT,
    NETWORK,
    NODE_POOL,
    PEERING,
    PROJECT_IAM,
    PROJECT_ID,
    RANDOM_ID,
    RANDOM_PASSWORD,
    REGION,
    RELEASE,
    ROUTER,
    SECRET,
    SERVICE,
    SERVICE_ACCOUNT,
    SQL_DATABASE,
    SQL_INSTANCE,
    SQL_USER,
    SUBNETWORK,
    descendants,
    gcp_stack,
    pool,
    with_gcp,
)
from tools.offline import mocks as offline_mocks
from tools.offline.gcp_mocks import hmac_secret
from tools.stack_files import read_stack_config

ROOT = Path(__file__).resolve().parents[3]
TAGS = {"team": "data-platform", "environment": "example"}
ARM64 = {"key": "kubernetes.io/arch", "operator": "Equal", "value": "arm64", "effect": "NoSchedule"}
WORKLOAD = {
    "key": "materialize.cloud/workload",
    "operator": "Equal",
    "value": "materialize-instance",
    "effect": "NoSchedule",
}


@pytest.fixture(scope="module")
def gcp() -> Evaluation:
    return evaluate(gcp_stack())


@pytest.fixture(scope="module")
def two() -> Evaluation:
    return evaluate(gcp_stack(instances=[{"name": "main"}, {"name": "ad-hoc"}]))


@pytest.fixture(scope="module")
def throwaway() -> Evaluation:
    return evaluate(gcp_stack(protectData=False))


def test_example_stack_needs_only_the_license_key(gcp: Evaluation) -> None:
    assert read_stack_config("gcp").encrypted == frozenset()
    assert gcp.outputs["target"] == "gcp"
    summary = gcp.outputs["gcp"]
    assert summary["project"] == PROJECT_ID and summary["region"] == REGION
    assert summary["cluster"] == "materialize-gke"
    assert summary["bucket"].startswith("materialize-persist-")
    assert summary["postgres"]["instance"].startswith("materialize-pg-")
    assert "kubeconfig" in gcp.secret_outputs and "gcp" not in gcp.secret_outputs
    assert len(gcp.of_type(MATERIALIZE)) == 1


def test_components_are_typed_and_parent_every_resource(gcp: Evaluation) -> None:
    target = gcp.one("materialize:gcp:Target")
    ours = descendants(gcp, target.urn)
    assert {r.type for r in gcp.registered if r.type.startswith("materialize:gcp:")} == {
        "materialize:gcp:Target",
        "materialize:gcp:Network",
        "materialize:gcp:Cluster",
        "materialize:gcp:NodePools",
        "materialize:gcp:Postgres",
        "materialize:gcp:MetadataDatabase",
        "materialize:gcp:PersistStore",
        "materialize:gcp:Apis",
        "materialize:gcp:NodeUpgradeTrigger",
    }
    assert gcp.one("materialize:targets:DiskSetup").urn in ours
    for resource in gcp.registered:
        if resource.urn in ours and resource is not target:
            assert resource.name.startswith("gcp-"), resource.name
    # Every GCP resource belongs to the target and goes through its explicit provider.
    provider = gcp.one(GCP_PROVIDER)
    assert provider.inputs["project"] == PROJECT_ID and provider.inputs["region"] == REGION
    gcp_resources = [r for r in gcp.registered if r.type.startswith("gcp:")]
    assert len(gcp_resources) > 15
    for resource in gcp_resources:
        assert resource.urn in ours, resource.name
        assert resource.provider.startswith(provider.urn + "::"), resource.name
        if "project" in resource.inputs:
            assert resource.inputs["project"] == PROJECT_ID, resource.name


def test_network_is_a_custom_vpc_with_nat_and_private_services_access(gcp: Evaluation) -> None:
    network = gcp.one(NETWORK)
    assert network.inputs["autoCreateSubnetworks"] is False
    assert network.inputs["name"] == "materialize-vpc"
    subnet = gcp.one(SUBNETWORK)
    assert subnet.inputs["region"] == REGION
    assert subnet.inputs["privateIpGoogleAccess"] is True
    assert subnet.inputs["ipCidrRange"] == "10.0.0.0/20"
    assert subnet.inputs["secondaryIpRanges"] == [
        {"rangeName": "pods", "ipCidrRange": "10.48.0.0/14"},
        {"rangeName": "services", "ipCidrRange": "10.52.0.0/20"},
    ]
    router = gcp.one(ROUTER)
    nat = gcp.one(NAT)
    assert nat.inputs["router"] == router.inputs["name"] and nat.inputs["region"] == REGION
    assert nat.inputs["natIpAllocateOption"] == "AUTO_ONLY"
    assert nat.inputs["sourceSubnetworkIpRangesToNat"] == "ALL_SUBNETWORKS_ALL_IP_RANGES"

    reserved = gcp.one(GLOBAL_ADDRESS)
    assert reserved.inputs["purpose"] == "VPC_PEERING" and reserved.inputs["addressType"] == "INTERNAL"
    assert (reserved.inputs["address"], reserved.inputs["prefixLength"]) == ("10.60.0.0", 16)
    peering = gcp.one(PEERING)
    assert peering.inputs["service"] == "servicenetworking.googleapis.com"
    assert peering.inputs["reservedPeeringRanges"] == [reserved.inputs["name"]]
    assert reserved.urn in peering.dependencies
    # Each of these takes its network from the VPC resource itself.
    for resource in (
        subnet,
        router,
        reserved,
        peering,
        gcp.one(CLUSTER),
        *gcp.of_type(FIREWALL),
        gcp.one(SQL_INSTANCE),
    ):
        field = "settings" if resource.type == SQL_INSTANCE else "network"
        assert network.urn in resource.options["propertyDependencies"][field], resource.name
    assert nat.options["propertyDependencies"]["router"] == [router.urn]


def test_cluster_is_regional_private_and_locked_down(gcp: Evaluation) -> None:
    cluster = gcp.one(CLUSTER)
    inputs = cluster.inputs
    assert inputs["location"] == REGION
    # STABLE 1.34, as Materialize's gcp/examples/simple/main.tf pins: REGULAR's
    # 1.35 line leaves its k8s-<uid>-node-http-hc firewall rule behind on delete.
    assert inputs["releaseChannel"] == {"channel": "STABLE"}
    assert inputs["minMasterVersion"] == "1.34"
    assert inputs["enableL4IlbSubsetting"] is True
    assert inputs["workloadIdentityConfig"] == {"workloadPool": f"{PROJECT_ID}.svc.id.goog"}
    assert inputs["privateClusterConfig"] == {"enablePrivateNodes": True, "enablePrivateEndpoint": False}
    assert inputs["masterAuthorizedNetworksConfig"] == {
        "cidrBlocks": [{"cidrBlock": "0.0.0.0/0", "displayName": "allowed-0"}],
        "gcpPublicCidrsAccessEnabled": False,
    }
    assert inputs["datapathProvider"] == "ADVANCED_DATAPATH"
    assert "networkPolicy" not in inputs  # Dataplane V2 enforces policies itself
    assert inputs["removeDefaultNodePool"] is True
    assert inputs["enableShieldedNodes"] is True
    assert inputs["deletionProtection"] is True
    assert inputs["networkingMode"] == "VPC_NATIVE"
    assert inputs["ipAllocationPolicy"] == {
        "clusterSecondaryRangeName": "pods",
        "servicesSecondaryRangeName": "services",
    }
    assert cluster.options["propertyDependencies"]["subnetwork"] == [gcp.one(SUBNETWORK).urn]
    assert cluster.options["ignoreChanges"] == ["nodeConfig", "addonsConfig.dnsCacheConfig"]


def test_allowed_api_cidrs_become_master_authorized_networks() -> None:
    evaluation = evaluate(with_gcp(apiAllowedCidrs=["100.64.0.0/24", "34.120.7.9/32"]))
    blocks = evaluation.one(CLUSTER).inputs["masterAuthorizedNetworksConfig"]["cidrBlocks"]
    assert [block["cidrBlock"] for block in blocks] == ["100.64.0.0/24", "34.120.7.9/32"]


def test_nodes_run_as_their_own_least_privileged_account(gcp: Evaluation) -> None:
    account = next(r for r in gcp.of_type(SERVICE_ACCOUNT) if r.inputs["accountId"] == "materialize-gke-nodes")
    email = account.state["email"]
    [role] = [r for r in gcp.of_type(PROJECT_IAM) if r.inputs["member"] == f"serviceAccount:{email}"]
    assert role.inputs["role"] == "roles/container.defaultNodeServiceAccount"
    assert role.inputs["member"] == f"serviceAccount:{email}"
    for node_pool in gcp.of_type(NODE_POOL):
        config = node_pool.inputs["nodeConfig"]
        assert config["serviceAccount"] == email
        assert config["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
        assert config["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableIntegrityMonitoring": True}
        assert role.urn in node_pool.dependencies


def test_materialize_pool_has_local_ssds_swap_labels_taints_and_kernel_settings(gcp: Evaluation) -> None:
    materialize = pool(gcp, "materialize")
    config = materialize.inputs["nodeConfig"]
    assert config["machineType"] == "c4a-highmem-8-lssd"
    assert config["diskType"] == "hyperdisk-balanced"
    assert config["imageType"] == "COS_CONTAINERD"
    # The two Titanium SSDs c4a-highmem-8-lssd bundles, as raw blocks for swap:
    # 0 would read back as 2 and plan a replacement of the pool.
    assert config["localNvmeSsdBlockConfig"] == {"localSsdCount": 2}
    assert config["labels"] == {"workload": "materialize-instance", "materialize.cloud/swap": "true"}
    assert config["taints"] == [
        {"key": "materialize.cloud/workload", "value": "materialize-instance", "effect": "NO_SCHEDULE"},
        {"key": DEFAULT_STARTUP_TAINT, "value": "true", "effect": "NO_SCHEDULE"},
    ]
    assert config["linuxNodeConfig"] == {
        "sysctls": {"vm.swappiness": "100", "vm.min_free_kbytes": "1048576", "vm.watermark_scale_factor": "100"}
    }
    assert materialize.inputs["autoscaling"] == {
        "totalMinNodeCount": 1,
        "totalMaxNodeCount": 4,
        "locationPolicy": "BALANCED",
    }
    assert materialize.inputs["management"] == {"autoRepair": True, "autoUpgrade": True}
    assert "version" not in materialize.inputs
    assert materialize.options["deleteBeforeReplace"] is True

    system = pool(gcp, "system")
    config = system.inputs["nodeConfig"]
    assert config["machineType"] == "e2-standard-4" and config["diskType"] == "pd-balanced"
    assert config["labels"] == {"workload": "system"}
    assert "taints" not in config and "localNvmeSsdBlockConfig" not in config and "linuxNodeConfig" not in config


def test_pool_labels_taints_and_the_arm64_toleration_reach_the_chart_values(gcp: Evaluation) -> None:
    values = operator_values(gcp)
    expected = {"nodeSelector": {"workload": "materialize-instance"}, "tolerations": [WORKLOAD, ARM64]}
    for workload in ("environmentd", "clusterd", "balancerd", "console"):
        assert values[workload] == expected, workload
    # The system pool is x86 (e2): no toleration needed there.
    assert values["operator"]["nodeSelector"] == {"workload": "system"}
    assert "tolerations" not in values["operator"]  # unset: the chart keeps its own default
    assert values["operator"]["clusters"]["swap_enabled"] is True
    assert values["operator"]["cloudProvider"]["type"] == "gcp"
    assert values["operator"]["cloudProvider"]["region"] == REGION
    # Every selector matches a pool's labels; every taint is tolerated.
    materialize = pool(gcp, "materialize").inputs["nodeConfig"]
    assert expected["nodeSelector"].items() <= materialize["labels"].items()
    for taint in materialize["taints"]:
        if taint["key"] != DEFAULT_STARTUP_TAINT:
            assert any(t["key"] == taint["key"] and t.get("value") == taint["value"] for t in expected["tolerations"])


def test_an_arm_system_pool_gets_the_arm64_toleration_too() -> None:
    evaluation = evaluate(with_gcp(systemMachineType="c4a-standard-4", systemDiskType="hyperdisk-balanced"))
    values = operator_values(evaluation)
    assert values["operator"]["tolerations"] == [ARM64]
    cert_manager = next(r for r in evaluation.of_type(RELEASE) if r.inputs["chart"] == "cert-manager")
    assert cert_manager.inputs["values"]["tolerations"] == [ARM64]


def test_an_x86_materialize_pool_with_attached_ssds_needs_no_arm64_toleration() -> None:
    evaluation = evaluate(with_gcp(materializeMachineType="n2-highmem-8", materializeLocalSsdCount=2))
    config = pool(evaluation, "materialize").inputs["nodeConfig"]
    assert config["localNvmeSsdBlockConfig"] == {"localSsdCount": 2}
    assert operator_values(evaluation)["clusterd"]["tolerations"] == [WORKLOAD]


def test_disk_setup_runs_on_swap_nodes_removes_the_pools_startup_taint_and_gates_workloads(gcp: Evaluation) -> None:
    daemon_set = gcp.one(DAEMON_SET)
    spec = daemon_set.inputs["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"workload": "materialize-instance", "materialize.cloud/swap": "true"}
    assert spec["nodeSelector"].items() <= pool(gcp, "materialize").inputs["nodeConfig"]["labels"].items()
    assert spec["tolerations"] == [
        WORKLOAD,
        ARM64,
        {"key": DEFAULT_STARTUP_TAINT, "operator": "Exists", "effect": "NoSchedule"},
    ]
    [setup] = spec["initContainers"]
    assert setup["image"] == DISK_SETUP_IMAGE
    assert setup["args"][:3] == ["swap", "--cloud-provider", "gcp"]
    assert setup["args"][setup["args"].index("--taint-key") + 1] == DEFAULT_STARTUP_TAINT
    assert "--remove-taint" in setup["args"]
    # The pool's kernel configuration sets the sysctls; the tool does not.
    assert "--apply-sysctls" not in setup["args"]
    # It uses the cluster's provider, waits for the pool and for NAT (its image is on Docker Hub).
    assert daemon_set.provider.startswith(gcp.one(K8S_PROVIDER).urn + "::")
    assert waits_for(gcp, daemon_set, pool(gcp, "materialize"))
    assert waits_for(gcp, daemon_set, gcp.one(NAT))
    # Materialize's pods start only on set-up swap nodes; the operator needs the system pool and NAT only.
    materialize = gcp.one(MATERIALIZE)
    for needed in (daemon_set, pool(gcp, "materialize"), gcp.one(NAT)):
        assert waits_for(gcp, materialize, needed), needed.name
    operator_namespace = named(gcp, NAMESPACE, "materialize")
    for needed in (pool(gcp, "system"), gcp.one(NAT)):
        assert waits_for(gcp, operator_namespace, needed), needed.name
    for not_needed in (daemon_set, pool(gcp, "materialize")):
        assert not may_wait_for(gcp, operator_namespace, not_needed), not_needed.name


def test_kubeconfig_is_exec_based_secret_and_holds_no_token(gcp: Evaluation) -> None:
    provider = gcp.one(K8S_PROVIDER)
    assert provider.is_secret("kubeconfig")
    assert provider.inputs["clusterIdentifier"] == f"gke/{PROJECT_ID}/{REGION}/materialize-gke"
    assert provider.inputs["enableServerSideApply"] == "true"
    kubeconfig = json.loads(provider.inputs["kubeconfig"])
    [user] = kubeconfig["users"]
    assert set(user["user"]) == {"exec"}
    assert user["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert user["user"]["exec"]["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    [cluster] = kubeconfig["clusters"]
    state = gcp.one(CLUSTER).state
    assert cluster["cluster"]["server"] == f"https://{state['endpoint']}"
    assert cluster["cluster"]["certificate-authority-data"] == state["masterAuth"]["clusterCaCertificate"]
    for credential in ("token", "tokenFile", "client-key-data", "client-certificate-data", "password"):
        assert credential not in user["user"] and credential not in user["user"]["exec"]
    assert gcp.outputs["kubeconfig"] == provider.inputs["kubeconfig"] and "kubeconfig" in gcp.secret_outputs


def test_cloud_sql_is_private_encrypted_backed_up_and_protected(gcp: Evaluation) -> None:
    instance = gcp.one(SQL_INSTANCE)
    settings = instance.inputs["settings"]
    assert int(instance.inputs["databaseVersion"].removeprefix("POSTGRES_")) >= 15
    assert settings["edition"] == "ENTERPRISE" and settings["tier"] == "db-custom-2-8192"
    ip = settings["ipConfiguration"]
    assert ip["ipv4Enabled"] is False
    assert "authorizedNetworks" not in ip
    assert ip["sslMode"] == "ENCRYPTED_ONLY"
    assert ip["privateNetwork"] == gcp.one(SUBNETWORK).inputs["network"]
    assert ip["allocatedIpRange"] == gcp.one(GLOBAL_ADDRESS).inputs["name"]
    backups = settings["backupConfiguration"]
    assert backups["enabled"] is True and backups["pointInTimeRecoveryEnabled"] is True
    assert backups["transactionLogRetentionDays"] >= 1
    assert instance.inputs["deletionProtection"] is True
    assert settings["deletionProtectionEnabled"] is True
    assert instance.protect
    assert gcp.one(PEERING).urn in instance.dependencies
    assert instance.state["publicIpAddress"] == ""
    assert [a["type"] for a in instance.state["ipAddresses"]] == ["PRIVATE"]


def test_cloud_sql_name_carries_a_kept_random_suffix(gcp: Evaluation) -> None:
    instance = gcp.one(SQL_INSTANCE)
    suffix = next(r for r in gcp.of_type(RANDOM_ID) if r.name == "gcp-postgres-name-suffix")
    assert instance.inputs["name"] == f"materialize-pg-{suffix.state['hex']}"
    assert suffix.urn in instance.dependencies
    assert suffix.protect


def test_each_instance_gets_a_database_and_user_with_a_generated_secret_password(two: Evaluation) -> None:
    server = two.one(SQL_INSTANCE)
    for instance, database in (("main", "materialize_main"), ("ad-hoc", "materialize_ad_hoc")):
        db = next(r for r in two.of_type(SQL_DATABASE) if r.inputs["name"] == database)
        user = next(r for r in two.of_type(SQL_USER) if r.inputs["name"] == database)
        assert db.inputs["instance"] == user.inputs["instance"] == server.state["name"]
        assert db.protect
        assert user.is_secret("password")
        assert user.inputs["deletionPolicy"] == "ABANDON"
        url = parse_metadata_url(backend(two, instance)["metadata_backend_url"])
        assert (url.host, url.port, url.database, url.user) == (
            server.state["privateIpAddress"],
            5432,
            database,
            database,
        )
        assert url.password == user.inputs["password"]
        assert url.sslmode == "require"
        secret = named(two, SECRET, f"{instance}-materialize-backend")
        assert secret.is_secret("stringData.metadata_backend_url")
        materialize = named(two, MATERIALIZE, instance)
        assert waits_for(two, materialize, db) and waits_for(two, materialize, user)
    passwords = [r for r in two.of_type(RANDOM_PASSWORD) if r.name.startswith("gcp-postgres-")]
    assert len(passwords) == 2 and all(p.protect for p in passwords)


def test_bucket_is_private_uniform_labelled_and_protected(gcp: Evaluation) -> None:
    bucket = gcp.one(BUCKET)
    assert bucket.inputs["uniformBucketLevelAccess"] is True
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
    assert bucket.inputs["forceDestroy"] is False
    assert bucket.inputs["location"] == REGION.upper()
    assert bucket.inputs["labels"] == TAGS
    assert bucket.protect


def test_persist_account_is_object_admin_on_this_bucket_only(gcp: Evaluation) -> None:
    account = next(r for r in gcp.of_type(SERVICE_ACCOUNT) if r.inputs["accountId"] == "materialize-persist")
    [grant] = gcp.of_type(BUCKET_IAM)
    assert grant.inputs["role"] == "roles/storage.objectAdmin"
    assert grant.inputs["bucket"] == gcp.one(BUCKET).state["name"]
    assert grant.inputs["member"] == account.state["member"]
    # No project-wide grant for it (storage.admin or anything else).
    assert all(r.inputs["member"] != account.state["member"] for r in gcp.of_type(PROJECT_IAM))
    key = gcp.one(HMAC_KEY)
    assert key.inputs["serviceAccountEmail"] == account.state["email"]


def test_persist_url_is_the_hmac_s3_url_per_instance_and_secret(two: Evaluation) -> None:
    key = two.one(HMAC_KEY).state
    bucket = two.one(BUCKET).state["name"]
    for instance in ("main", "ad-hoc"):
        url = backend(two, instance)["persist_backend_url"]
        assert named(two, SECRET, f"{instance}-materialize-backend").is_secret("stringData.persist_backend_url")
        parsed = parse_persist_url(url)
        assert (parsed.bucket, parsed.prefix, parsed.region) == (bucket, instance, REGION)
        assert parsed.endpoint == "https://storage.googleapis.com"
        assert (parsed.access_key_id, parsed.secret_access_key) == (key["accessId"], key["secret"])
        assert url.startswith(f"s3://{key['accessId']}:{quote(key['secret'], safe='')}@{bucket}/{instance}?")
        assert "endpoint=https%3A%2F%2Fstorage.googleapis.com" in url


def test_an_hmac_secret_with_url_special_characters_is_encoded(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "a/b+c=d/EFGH+ijkl=mnop/qrst+uvwx=yz0123"
    make = offline_mocks._OUTPUTS[HMAC_KEY]
    monkeypatch.setitem(offline_mocks._OUTPUTS, HMAC_KEY, lambda args: {**make(args), "secret": secret})
    evaluation = evaluate(gcp_stack())
    url = backend(evaluation, "main")["persist_backend_url"]
    encoded = "a%2Fb%2Bc%3Dd%2FEFGH%2Bijkl%3Dmnop%2Fqrst%2Buvwx%3Dyz0123"
    assert f":{encoded}@" in url
    assert parse_persist_url(url).secret_access_key == secret
    # The raw secret appears nowhere except as a Pulumi secret.
    for resource, path in paths_holding(evaluation, [secret, encoded]):
        assert resource.is_secret(path), f"{resource.name}: {path}"


def test_the_mocked_hmac_secret_has_the_form_gcs_issues() -> None:
    secret = hmac_secret("anything")
    assert len(secret) == 40 and not secret.endswith("=")


def test_generated_secrets_appear_only_as_secrets(two: Evaluation) -> None:
    values = [r.state["result"] for r in two.of_type(RANDOM_PASSWORD)] + [two.one(HMAC_KEY).state["secret"]]
    holding = paths_holding(two, [*values, *(quote(value, safe="") for value in values)])
    for resource, path in holding:
        assert resource.is_secret(path), f"{resource.name}: {path} holds a secret in plain text"
    assert len(holding) >= 6
    for release in two.of_type(RELEASE):
        for _, text in strings(release.inputs["values"]):
            assert not any(value in text for value in values)


def test_every_labelable_resource_carries_the_tags(gcp: Evaluation) -> None:
    assert gcp.one(GLOBAL_ADDRESS).inputs["labels"] == TAGS
    assert gcp.one(CLUSTER).inputs["resourceLabels"] == TAGS
    assert gcp.one(CLUSTER).inputs["nodeConfig"]["resourceLabels"] == TAGS
    for node_pool in gcp.of_type(NODE_POOL):
        assert node_pool.inputs["nodeConfig"]["resourceLabels"] == TAGS
    assert gcp.one(SQL_INSTANCE).inputs["settings"]["userLabels"] == TAGS
    assert gcp.one(BUCKET).inputs["labels"] == TAGS


def test_data_is_protected_by_default(gcp: Evaluation) -> None:
    protected = {r.type for r in gcp.registered if r.protect}
    assert protected == {SQL_INSTANCE, SQL_DATABASE, BUCKET, RANDOM_ID, RANDOM_PASSWORD}
    assert gcp.one(CLUSTER).inputs["deletionProtection"] is True


def test_throwaway_stacks_protect_nothing(throwaway: Evaluation) -> None:
    assert not [r.name for r in throwaway.registered if r.protect]
    instance = throwaway.one(SQL_INSTANCE)
    assert instance.inputs["deletionProtection"] is False
    assert instance.inputs["settings"]["deletionProtectionEnabled"] is False
    assert throwaway.one(BUCKET).inputs["forceDestroy"] is True
    assert throwaway.one(CLUSTER).inputs["deletionProtection"] is False


def test_database_and_bucket_do_not_wait_for_the_cluster(gcp: Evaluation) -> None:
    cluster = gcp.one(CLUSTER)
    for stateful in (gcp.one(SQL_INSTANCE), gcp.one(BUCKET), gcp.one(HMAC_KEY), *gcp.of_type(SQL_DATABASE)):
        assert not waits_for(gcp, stateful, cluster), stateful.name
        for node_pool in gcp.of_type(NODE_POOL):
            assert not waits_for(gcp, stateful, node_pool), stateful.name
    # The cluster does not wait for them either, nor for NAT or the peering.
    for other in (gcp.one(SQL_INSTANCE), gcp.one(BUCKET), gcp.one(NAT), gcp.one(PEERING)):
        assert not waits_for(gcp, cluster, other), other.name
    # The instance waits for what it reads: its database, user, bucket and grant.
    materialize = named(gcp, MATERIALIZE, "main")
    for needed in (gcp.one(BUCKET), gcp.one(BUCKET_IAM), gcp.one(SQL_USER), gcp.one(SQL_DATABASE)):
        assert waits_for(gcp, materialize, needed), needed.name


def test_load_balancers_are_internal_by_default_and_public_only_with_an_allowlist(gcp: Evaluation) -> None:
    for service in ("main-balancerd-lb", "main-console-lb"):
        registered = named(gcp, SERVICE, service)
        assert registered.inputs["metadata"]["annotations"] == {"networking.gke.io/load-balancer-type": "Internal"}
        assert registered.inputs["spec"]["type"] == "LoadBalancer"
    public = evaluate(
        gcp_stack(instances=[{"name": "main", "exposure": {"type": "public", "allowedCidrs": ["203.0.113.0/24"]}}])
    )
    service = named(public, SERVICE, "main-balancerd-lb")
    assert "networking.gke.io/load-balancer-type" not in (service.inputs["metadata"].get("annotations") or {})
    assert service.inputs["spec"]["loadBalancerSourceRanges"] == ["203.0.113.0/24"]


def test_health_checks_may_reach_the_nodes(gcp: Evaluation) -> None:
    firewall = gcp.one(FIREWALL, "gcp-gke-health-checks")
    nodes = next(r for r in gcp.of_type(SERVICE_ACCOUNT) if r.inputs["accountId"] == "materialize-gke-nodes")
    assert firewall.inputs["direction"] == "INGRESS"
    assert set(firewall.inputs["sourceRanges"]) >= {"35.191.0.0/16", "130.211.0.0/22"}
    assert firewall.inputs["targetServiceAccounts"] == [nodes.state["email"]]
    assert firewall.inputs["allows"] == [{"protocol": "tcp", "ports": ["10256", "30000-32767"]}]


def test_an_existing_network_is_used_as_given() -> None:
    evaluation = evaluate(
        with_gcp(
            existingNetwork="shared-vpc",
            existingSubnetwork="gke-nodes",
            existingPodsRange="gke-pods",
            existingServicesRange="gke-services",
            apiAllowedCidrs=["10.0.0.0/8"],
        )
    )
    for token in (NETWORK, SUBNETWORK, ROUTER, NAT, GLOBAL_ADDRESS, PEERING):
        assert not evaluation.of_type(token), token
    network = f"projects/{PROJECT_ID}/global/networks/shared-vpc"
    cluster = evaluation.one(CLUSTER).inputs
    assert cluster["network"] == network
    assert cluster["subnetwork"] == f"projects/{PROJECT_ID}/regions/{REGION}/subnetworks/gke-nodes"
    assert cluster["ipAllocationPolicy"] == {
        "clusterSecondaryRangeName": "gke-pods",
        "servicesSecondaryRangeName": "gke-services",
    }
    ip = evaluation.one(SQL_INSTANCE).inputs["settings"]["ipConfiguration"]
    assert ip["privateNetwork"] == network and "allocatedIpRange" not in ip
    assert {f.inputs["network"] for f in evaluation.of_type(FIREWALL)} == {network}


def test_a_shared_vpc_subnet_is_looked_up_in_the_host_project() -> None:
    evaluation = evaluate(
        with_gcp(
            existingNetwork="projects/network-host-project/global/networks/shared",
            existingSubnetwork="gke-nodes",
            existingPodsRange="gke-pods",
            existingServicesRange="gke-services",
        )
    )
    cluster = evaluation.one(CLUSTER).inputs
    assert cluster["network"] == "projects/network-host-project/global/networks/shared"
    assert cluster["subnetwork"] == f"projects/network-host-project/regions/{REGION}/subnetworks/gke-nodes"


def test_swap_off_leaves_out_the_disk_setup_and_its_taint() -> None:
    evaluation = evaluate(gcp_stack(swap=False))
    assert not evaluation.of_type(DAEMON_SET)
    config = pool(evaluation, "materialize").inputs["nodeConfig"]
    assert config["labels"] == {"workload": "materialize-instance"}
    assert [t["key"] for t in config["taints"]] == ["materialize.cloud/workload"]
    assert "linuxNodeConfig" not in config
    assert operator_values(evaluation)["operator"]["clusters"]["swap_enabled"] is False
    # Still waits for NAT before pulling images from outside Google.
    assert waits_for(evaluation, named(evaluation, NAMESPACE, "materialize"), evaluation.one(NAT))


def test_a_pinned_version_without_a_channel_pins_the_nodes_too() -> None:
    evaluation = evaluate(with_gcp(releaseChannel="UNSPECIFIED", kubernetesVersion="1.35.8-gke.1036000"))
    assert evaluation.one(CLUSTER).inputs["releaseChannel"] == {"channel": "UNSPECIFIED"}
    assert evaluation.one(CLUSTER).inputs["minMasterVersion"] == "1.35.8-gke.1036000"
    for node_pool in evaluation.of_type(NODE_POOL):
        assert node_pool.inputs["version"] == "1.35.8-gke.1036000"
        assert node_pool.inputs["management"]["autoUpgrade"] is False


def test_zones_and_node_limits_reach_the_cluster_and_pools() -> None:
    evaluation = evaluate(
        with_gcp(zones=["us-central1-a", "us-central1-b"], materializeMinNodes=0, materializeMaxNodes=8)
    )
    assert evaluation.one(CLUSTER).inputs["nodeLocations"] == ["us-central1-a", "us-central1-b"]
    autoscaling = pool(evaluation, "materialize").inputs["autoscaling"]
    assert (autoscaling["totalMinNodeCount"], autoscaling["totalMaxNodeCount"]) == (0, 8)


def test_every_plain_kubernetes_object_passes_strict_validation(two: Evaluation) -> None:
    plain = [r for r in two.registered if is_plain_object(r)]
    assert {DAEMON_SET, SECRET, SERVICE, NAMESPACE} <= {r.type for r in plain}
    for resource in plain:
        validate_strict(resource)


def test_evaluating_twice_gives_identical_inputs() -> None:
    config = gcp_stack(instances=[{"name": "main"}, {"name": "ad-hoc"}])
    assert evaluate(config).desired_state() == evaluate(config).desired_state()


def test_evaluating_the_gcp_stack_loads_no_other_cloud_sdk() -> None:
    code = (
        "import sys; from tools import plan; "
        "assert plan.main(['--stack', 'gcp']) == 0; "
        "print(sorted(m for m in sys.modules if m in ('pulumi_aws', 'pulumi_azure_native', 'pulumi_gcp')))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "['pulumi_gcp']"


def test_services_ignore_the_annotations_gke_controllers_write(gcp: Evaluation) -> None:
    services = gcp.of_type("kubernetes:core/v1:Service")
    assert services
    for service in services:
        ignored = service.options["ignoreChanges"]
        assert 'metadata.annotations["cloud.google.com/neg-status"]' in ignored
        assert 'metadata.annotations["service.kubernetes.io/backend-service"]' in ignored
        # What the program itself sets is never ignored.
        for key in service.inputs["metadata"]["annotations"]:
            assert f'metadata.annotations["{key}"]' not in ignored
