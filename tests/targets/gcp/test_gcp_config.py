"""Bad gcp configuration fails cleanly, names the key, and creates nothing."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from tests.harness.mocks import RealisticMocks, RecordingMonitor
from tests.harness.stack import evaluate
from tests.targets.gcp.stack import gcp_stack, with_gcp


def without_project() -> dict[str, Any]:
    config = gcp_stack()
    return {**config, "gcp": {k: v for k, v in config["gcp"].items() if k != "project"}}


CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("no project", without_project(), ["materialize:gcp.project: required for the gcp target"]),
    ("project id malformed", with_gcp(project="My_Project"), ["materialize:gcp.project", "'My_Project'"]),
    ("not a GCP region", gcp_stack(region="westeurope"), ["materialize:region: 'westeurope' is not a GCP region"]),
    ("region without its number", gcp_stack(region="us-central"), ["materialize:region: 'us-central' is not a GCP"]),
    # A zone is its region, '-' and one letter (the provider's region_from_zone).
    ("zone of two letters", with_gcp(zones=["us-central1-ab"]), ["materialize:gcp.zones", "us-central1-ab"]),
    (
        "zone outside the region",
        with_gcp(zones=["europe-west1-b"]),
        ["materialize:gcp.zones: 'europe-west1-b' is not a zone of region us-central1"],
    ),
    (
        "tag key GCP refuses",
        gcp_stack(tags={"CostCenter": "42"}),
        ["materialize:tags: key 'CostCenter' is not a GCP label key"],
    ),
    (
        "tag value GCP refuses",
        gcp_stack(tags={"owner": "Jane Doe"}),
        ["materialize:tags.owner: 'Jane Doe' is not a GCP label value"],
    ),
    (
        "swap without local SSDs",
        with_gcp(materializeMachineType="n2-highmem-8"),
        ["materialize:gcp.materializeLocalSsdCount: swap needs local SSDs", "n2-highmem-8"],
    ),
    (
        "an instance in the disk setup's namespace",
        gcp_stack(instances=[{"name": "main", "namespace": "disk-setup"}]),
        ["materialize:instances[0]: namespace disk-setup belongs to the nodes' disk setup"],
    ),
    (
        "overlapping ranges",
        with_gcp(servicesCidr="10.0.8.0/24"),
        ["materialize:gcp", "gcp.subnetCidr: 10.0.0.0/20 overlaps gcp.servicesCidr 10.0.8.0/24"],
    ),
    (
        "private services range too small",
        with_gcp(privateServicesCidr="10.60.0.0/28"),
        ["gcp.privateServicesCidr: /28 is not between /16 and /24"],
    ),
    (
        "half an existing network",
        with_gcp(existingNetwork="shared-vpc"),
        ["gcp.existingNetwork: an existing network needs existingNetwork, existingSubnetwork"],
    ),
    (
        "new-VPC ranges with an existing network",
        with_gcp(
            existingNetwork="vpc",
            existingSubnetwork="nodes",
            existingPodsRange="pods",
            existingServicesRange="services",
            podsCidr="10.100.0.0/14",
        ),
        ["gcp.podsCidr: applies to a new VPC only"],
    ),
    (
        "no channel but a version GKE would move",
        with_gcp(releaseChannel="UNSPECIFIED"),
        ["gcp.kubernetesVersion: without a release channel give an exact GKE version"],
    ),
    ("unknown channel", with_gcp(releaseChannel="NIGHTLY"), ["materialize:gcp.releaseChannel", "'NIGHTLY'"]),
    (
        "persistent disk on a Hyperdisk-only machine",
        with_gcp(materializeDiskType="pd-ssd"),
        ["gcp.materializeDiskType: c4a-highmem-8-lssd boots only from Hyperdisk"],
    ),
    (
        "an SSD count on an -lssd machine",
        with_gcp(materializeLocalSsdCount=3),
        ["materialize:gcp.materializeLocalSsdCount: c4a-highmem-8-lssd comes with 2 local SSDs; 3 is not possible"],
    ),
    (
        "an -lssd machine whose bundled count is unknown",
        with_gcp(materializeMachineType="c3-standard-8-lssd", materializeDiskType="pd-balanced"),
        ["materialize:gcp.materializeLocalSsdCount: c3-standard-8-lssd comes with a fixed number of local SSDs"],
    ),
    (
        "no API allowlist",
        {**gcp_stack(), "gcp": {k: v for k, v in gcp_stack()["gcp"].items() if k != "apiAllowedCidrs"}},
        ["materialize:gcp.apiAllowedCidrs: required"],
    ),
    (
        "rollout trigger without the v1 CRD",
        with_gcp(nodeUpgradeRolloutTrigger=True) | {"crdVersion": "v1alpha1"},
        ["materialize:gcp.nodeUpgradeRolloutTrigger: the operator's node upgrade trigger works through the v1"],
    ),
    (
        "a pool zone outside the region",
        with_gcp(materializeZones=["europe-west1-b"]),
        ["materialize:gcp.materializeZones: 'europe-west1-b' is not a zone of region us-central1"],
    ),
    (
        "static egress IPs on an existing network",
        with_gcp(
            existingNetwork="vpc",
            existingSubnetwork="nodes",
            existingPodsRange="pods",
            existingServicesRange="services",
            natStaticIpCount=2,
        ),
        ["materialize:gcp.natStaticIpCount: applies to the VPC this program creates"],
    ),
    (
        "maintenance window ending before it starts",
        with_gcp(
            maintenanceWindow={
                "start": "2026-01-03T05:00:00Z",
                "end": "2026-01-03T03:00:00Z",
                "recurrence": "FREQ=WEEKLY;BYDAY=SA",
            }
        ),
        ["materialize:gcp.maintenanceWindow", "is not after start"],
    ),
    ("more minimum than maximum", with_gcp(materializeMinNodes=5), ["gcp.materializeMinNodes: 5 is more than"]),
    ("old Postgres", with_gcp(postgresVersion="14"), ["materialize:gcp.postgresVersion", "'14'"]),
    ("empty API allowlist", with_gcp(apiAllowedCidrs=[]), ["materialize:gcp.apiAllowedCidrs: required"]),
    (
        "documentation range in the API allowlist",
        with_gcp(apiAllowedCidrs=["10.0.0.0/8", "203.0.113.0/24"]),
        ["materialize:gcp.apiAllowedCidrs[1]: '203.0.113.0/24' is in 203.0.113.0/24, a documentation range (RFC 5737)"],
    ),
    ("misspelt gcp key", with_gcp(projct="x"), ["materialize:gcp.projct: unknown key", "'project'"]),
]


@pytest.mark.parametrize(("config", "expected"), [(c, e) for _, c, e in CASES], ids=[name for name, _, _ in CASES])
def test_bad_gcp_config_is_refused_before_anything_is_created(config: dict[str, Any], expected: list[str]) -> None:
    monitor = RecordingMonitor(RealisticMocks())
    with pytest.raises(pulumi.RunError) as raised:
        evaluate(config, monitor=monitor)
    # At most the read of this stack's own last outputs (the upgrade guard) happened.
    assert [r.type for r in monitor.registered] in ([], ["pulumi:pulumi:StackReference"])
    message = str(raised.value)
    assert message.startswith("invalid stack configuration:")
    assert "Traceback" not in message
    for fragment in expected:
        assert fragment in message, f"{fragment!r} missing from:\n{message}"


def test_swap_off_needs_no_local_ssds() -> None:
    evaluation = evaluate(with_gcp(materializeMachineType="n2-highmem-8") | {"swap": False})
    assert evaluation.outputs["target"] == "gcp"
