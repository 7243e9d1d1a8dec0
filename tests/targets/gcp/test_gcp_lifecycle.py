"""The GCP target's destroy, upgrade and security guarantees (issue 16), under mocks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.targets.gcp.apis import required_apis
from components.targets.gcp.local_ssds import BUNDLED_LOCAL_SSDS
from tests.harness.graph import waits_for
from tests.harness.stack import Evaluation, evaluate, operator_values
from tests.support.reference_data import reference_text
from tests.targets.gcp.stack import (
    BUCKET,
    CLUSTER,
    FIREWALL,
    NAT,
    PEERING,
    PROJECT_ID,
    REGION,
    SERVICE_ACCOUNT,
    SQL_DATABASE,
    SQL_INSTANCE,
    SUBNETWORK,
    gcp_stack,
    pool,
    with_gcp,
)

ROOT = Path(__file__).resolve().parents[3]
TOPIC = "gcp:pubsub/topic:Topic"
SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"
SUBSCRIPTION_IAM = "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember"
ACCOUNT_IAM = "gcp:serviceaccount/iAMMember:IAMMember"
PROJECT_IAM = "gcp:projects/iAMMember:IAMMember"
SERVICE = "gcp:projects/service:Service"
ADDRESS = "gcp:compute/address:Address"


@pytest.fixture(scope="module")
def gcp() -> Evaluation:
    return evaluate(gcp_stack())


def test_the_peering_is_deleted_after_cloud_sql_so_the_vpc_can_go(gcp: Evaluation) -> None:
    # pulumi_gcp 10.2.0 servicenetworking/connection.py: ABANDON leaves the
    # peering in place, "which will block deletion of the network".
    assert gcp.one(PEERING).inputs["deletionPolicy"] == "DELETE"
    # Destroy runs in reverse dependency order: the instance goes first.
    assert waits_for(gcp, gcp.one(SQL_INSTANCE), gcp.one(PEERING))


def test_databases_go_with_the_instance_instead_of_racing_open_connections(gcp: Evaluation) -> None:
    for database in gcp.of_type(SQL_DATABASE):
        assert database.inputs["deletionPolicy"] == "ABANDON"


@pytest.mark.parametrize(("machine", "count"), sorted(BUNDLED_LOCAL_SSDS.items()))
def test_every_known_lssd_type_sends_its_bundled_count(machine: str, count: int) -> None:
    disk = "hyperdisk-balanced"
    evaluation = evaluate(with_gcp(materializeMachineType=machine, materializeDiskType=disk))
    config = pool(evaluation, "materialize").inputs["nodeConfig"]
    assert config["localNvmeSsdBlockConfig"] == {"localSsdCount": count}


def test_the_bundled_counts_are_googles() -> None:
    # The "Titanium SSD" column of cloud.google.com/compute/docs/general-purpose-machines.
    assert BUNDLED_LOCAL_SSDS["c4a-highmem-8-lssd"] == 2
    assert BUNDLED_LOCAL_SSDS["c4a-standard-72-lssd"] == 16
    assert BUNDLED_LOCAL_SSDS["c4-highmem-32-lssd"] == 5
    assert BUNDLED_LOCAL_SSDS["c4d-standard-8-lssd"] == 1
    assert "c4a-highcpu-8-lssd" not in BUNDLED_LOCAL_SSDS  # no such type


def test_an_unknown_lssd_type_takes_the_given_count() -> None:
    evaluation = evaluate(
        with_gcp(
            materializeMachineType="c3-standard-8-lssd", materializeDiskType="pd-balanced", materializeLocalSsdCount=2
        )
    )
    assert pool(evaluation, "materialize").inputs["nodeConfig"]["localNvmeSsdBlockConfig"] == {"localSsdCount": 2}


def test_pools_ignore_the_ephemeral_storage_block_gke_reports(gcp: Evaluation) -> None:
    for name in ("system", "materialize"):
        assert "nodeConfig.ephemeralStorageLocalSsdConfig" in pool(gcp, name).options["ignoreChanges"]


def test_materialize_nodes_upgrade_blue_green_and_system_nodes_surge(gcp: Evaluation) -> None:
    assert pool(gcp, "materialize").inputs["upgradeSettings"] == {
        "strategy": "BLUE_GREEN",
        "blueGreenSettings": {"autoscaledRolloutPolicy": {"waitForDrainDuration": "259200s"}},
    }
    assert pool(gcp, "system").inputs["upgradeSettings"] == {"strategy": "SURGE", "maxSurge": 1, "maxUnavailable": 0}
    tuned = evaluate(with_gcp(upgradeWaitForDrainHours=24, upgradeSoakHours=2))
    assert pool(tuned, "materialize").inputs["upgradeSettings"]["blueGreenSettings"] == {
        "autoscaledRolloutPolicy": {"waitForDrainDuration": "86400s"},
        "nodePoolSoakDuration": "7200s",
    }


def test_the_cluster_publishes_upgrade_events_the_operator_subscribes_to(gcp: Evaluation) -> None:
    topic = gcp.one(TOPIC)
    pubsub = gcp.one(CLUSTER).inputs["notificationConfig"]["pubsub"]
    assert pubsub["enabled"] is True and pubsub["filter"] == {"eventTypes": ["UPGRADE_EVENT"]}
    assert gcp.one(CLUSTER).options["propertyDependencies"]["notificationConfig"] == [topic.urn]
    assert topic.inputs["name"] == "materialize-gke-upgrades" and topic.inputs["project"] == PROJECT_ID
    subscription = gcp.one(SUBSCRIPTION)
    assert subscription.inputs["project"] == PROJECT_ID
    assert subscription.inputs["expirationPolicy"] == {"ttl": ""}
    assert subscription.inputs["messageRetentionDuration"] == "86400s"


def test_the_operator_identity_may_pull_read_node_pools_and_nothing_else(gcp: Evaluation) -> None:
    account = next(r for r in gcp.of_type(SERVICE_ACCOUNT) if r.inputs["accountId"] == "materialize-operator")
    member = account.state["member"]
    [subscriber] = gcp.of_type(SUBSCRIPTION_IAM)
    assert (subscriber.inputs["role"], subscriber.inputs["member"]) == ("roles/pubsub.subscriber", member)
    roles = sorted(r.inputs["role"] for r in gcp.of_type(PROJECT_IAM) if r.inputs["member"] == member)
    assert roles == ["roles/container.clusterViewer"]
    [identity] = gcp.of_type(ACCOUNT_IAM)
    assert identity.inputs["role"] == "roles/iam.workloadIdentityUser"
    assert identity.inputs["member"] == f"serviceAccount:{PROJECT_ID}.svc.id.goog[materialize/orchestratord]"
    assert identity.inputs["serviceAccountId"] == account.state["name"]
    assert waits_for(gcp, identity, gcp.one(CLUSTER))
    # The operator chart is installed only once its identity works.
    release = next(r for r in gcp.of_type("kubernetes:helm.sh/v3:Release") if "operator" in r.inputs["chart"])
    assert waits_for(gcp, release, identity)


def _paths(node: Any, prefix: str = "") -> set[str]:
    if isinstance(node, dict) and node:
        return {p for key, value in node.items() for p in _paths(value, f"{prefix}.{key}" if prefix else key)}
    return {prefix}


def test_the_trigger_chart_values_are_keys_of_the_chart(gcp: Evaluation) -> None:
    values = operator_values(gcp)
    trigger = values["operator"]["cloudProvider"]["providers"]["gcp"]
    assert trigger == {
        "enabled": True,
        "nodeUpgradeRolloutTrigger": {
            "enabled": True,
            "notificationSubscription": f"projects/{PROJECT_ID}/subscriptions/materialize-operator-gke-upgrades",
            "clusterName": "materialize-gke",
            "clusterLocation": REGION,
            "watchedNodePools": ["materialize-materialize"],
        },
    }
    assert gcp.one(SUBSCRIPTION).inputs["name"] == "materialize-operator-gke-upgrades"
    assert values["serviceAccount"]["annotations"] == {
        "iam.gke.io/gcp-service-account": f"materialize-operator@{PROJECT_ID}.iam.gserviceaccount.com"
    }
    assert values["operator"]["args"]["installV1CRD"] is True
    # The data plane's own cloudProvider keys stay.
    assert values["operator"]["cloudProvider"]["type"] == "gcp"
    reference = yaml.safe_load(reference_text("operator-values.7aa0d202.yaml"))
    known = _paths(reference) | {"serviceAccount.annotations"}
    ours = _paths({"operator": {"cloudProvider": {"providers": {"gcp": {k: v for k, v in trigger.items()}}}}})
    ours = {p.rsplit(".watchedNodePools", 1)[0] + ".watchedNodePools" if "watchedNodePools" in p else p for p in ours}
    assert ours <= known, ours - known
    assert reference["serviceAccount"]["name"] == "orchestratord"


def test_without_the_v1_crd_there_is_no_trigger() -> None:
    evaluation = evaluate(gcp_stack(crdVersion="v1alpha1"))
    assert evaluation.of_type(TOPIC) == [] and evaluation.of_type(SUBSCRIPTION) == []
    assert "notificationConfig" not in evaluation.one(CLUSTER).inputs
    values = operator_values(evaluation)
    assert "providers" not in values["operator"]["cloudProvider"] and "serviceAccount" not in values


def test_apis_are_enabled_never_disabled_and_come_first(gcp: Evaluation) -> None:
    services = gcp.of_type(SERVICE)
    assert sorted(s.inputs["service"] for s in services) == list(required_apis(pubsub=True))
    assert "pubsub.googleapis.com" in required_apis(pubsub=True)
    assert "pubsub.googleapis.com" not in required_apis(pubsub=False)
    for service in services:
        assert service.inputs["disableOnDestroy"] is False
    for resource in (gcp.one(CLUSTER), gcp.one(SQL_INSTANCE), gcp.one(BUCKET)):
        assert waits_for(gcp, resource, services[0])


def test_the_bucket_has_no_soft_delete_and_versions_like_aws(gcp: Evaluation) -> None:
    inputs = gcp.one(BUCKET).inputs
    assert inputs["softDeletePolicy"] == {"retentionDurationSeconds": 0}
    assert inputs["versioning"] == {"enabled": True}
    assert inputs["lifecycleRules"] == [
        {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 7}},
        {"action": {"type": "Delete"}, "condition": {"withState": "ARCHIVED", "daysSinceNoncurrentTime": 7}},
    ]
    unversioned = evaluate(with_gcp(bucketVersioning=False)).one(BUCKET).inputs
    assert unversioned["versioning"] == {"enabled": False} and len(unversioned["lifecycleRules"]) == 1


def test_flow_logs_sql_audit_flags_and_nat_ports(gcp: Evaluation) -> None:
    assert gcp.one(SUBNETWORK).inputs["logConfig"] == {
        "aggregationInterval": "INTERVAL_5_SEC",
        "flowSampling": 0.5,
        "metadata": "INCLUDE_ALL_METADATA",
    }
    assert "logConfig" not in evaluate(with_gcp(flowLogs=False)).one(SUBNETWORK).inputs
    flags = gcp.one(SQL_INSTANCE).inputs["settings"]["databaseFlags"]
    assert {f["name"]: f["value"] for f in flags} == {
        "log_connections": "on",
        "log_disconnections": "on",
        "log_lock_waits": "on",
        "log_min_duration_statement": "1000",
    }
    nat = gcp.one(NAT).inputs
    assert nat["enableDynamicPortAllocation"] is True and nat["enableEndpointIndependentMapping"] is False
    assert nat["natIpAllocateOption"] == "AUTO_ONLY" and gcp.of_type(ADDRESS) == []


def test_static_egress_ips_feed_cloud_nat() -> None:
    evaluation = evaluate(with_gcp(natStaticIpCount=2))
    addresses = evaluation.of_type(ADDRESS)
    assert len(addresses) == 2
    nat = evaluation.one(NAT).inputs
    assert nat["natIpAllocateOption"] == "MANUAL_ONLY"
    assert nat["natIps"] == [a.state["selfLink"] for a in addresses]
    assert evaluation.outputs["gcp"]["natEgressIps"] == [a.state["address"] for a in addresses]


def test_pools_take_their_own_zones() -> None:
    evaluation = evaluate(with_gcp(materializeZones=["us-central1-a", "us-central1-b"]))
    assert pool(evaluation, "materialize").inputs["nodeLocations"] == ["us-central1-a", "us-central1-b"]
    assert "nodeLocations" not in pool(evaluation, "system").inputs


def test_maintenance_window_and_exclusions_reach_the_cluster() -> None:
    evaluation = evaluate(
        with_gcp(
            maintenanceWindow={
                "start": "2026-01-03T03:00:00Z",
                "end": "2026-01-03T07:00:00+00:00",
                "recurrence": "FREQ=WEEKLY;BYDAY=SA,SU",
            },
            maintenanceExclusions=[
                {"name": "year-end", "start": "2026-12-20T00:00:00Z", "end": "2027-01-05T00:00:00Z"}
            ],
        )
    )
    assert evaluation.one(CLUSTER).inputs["maintenancePolicy"] == {
        "recurringWindow": {
            "startTime": "2026-01-03T03:00:00Z",
            "endTime": "2026-01-03T07:00:00Z",
            "recurrence": "FREQ=WEEKLY;BYDAY=SA,SU",
        },
        "maintenanceExclusions": [
            {
                "exclusionName": "year-end",
                "startTime": "2026-12-20T00:00:00Z",
                "endTime": "2027-01-05T00:00:00Z",
                "exclusionOptions": {"scope": "NO_MINOR_OR_NODE_UPGRADES"},
            }
        ],
    }


def test_shared_vpc_firewall_rules_go_to_the_host_project() -> None:
    evaluation = evaluate(
        with_gcp(
            existingNetwork="projects/network-host-project/global/networks/shared",
            existingSubnetwork="gke-nodes",
            existingPodsRange="gke-pods",
            existingServicesRange="gke-services",
        )
    )
    for firewall in evaluation.of_type(FIREWALL):
        assert firewall.inputs["project"] == "network-host-project", firewall.name
    own = evaluate(gcp_stack()).of_type(FIREWALL)
    assert own and all(firewall.inputs["project"] == PROJECT_ID for firewall in own)
