"""The EBS CSI driver add-on, its IRSA role and the gp3 default StorageClass, on the registered graph."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.targets.aws.block_storage import CONTROLLER_TOLERATIONS
from tests.harness.graph import may_wait_for, waits_for
from tests.harness.kubernetes_objects import validate_strict
from tests.harness.mocks import Registered
from tests.harness.stack import Evaluation
from tests.targets.aws.stack import ADDON, CLUSTER, NODE_GROUP, OIDC, RELEASE, ROLE, STORAGE_CLASS, ending

ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def _ebs_addon(evaluation: Evaluation) -> Registered:
    found = [r for r in evaluation.of_type(ADDON) if r.inputs["addonName"] == "aws-ebs-csi-driver"]
    assert len(found) == 1, [r.inputs["addonName"] for r in evaluation.of_type(ADDON)]
    return found[0]


def _ebs_role(evaluation: Evaluation) -> Registered:
    return ending(evaluation, ROLE, "-block-storage-ebs-csi")


def test_the_addon_runs_under_its_own_role(example: Evaluation) -> None:
    addon = _ebs_addon(example)
    role = _ebs_role(example)
    assert addon.inputs["serviceAccountRoleArn"] == role.state["arn"]
    assert ":role/" in role.state["arn"]
    assert waits_for(example, addon, role)


def test_only_the_controller_service_account_may_assume_the_role(example: Evaluation) -> None:
    trust: dict[str, Any] = json.loads(_ebs_role(example).inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    oidc = example.one(OIDC)
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": oidc.state["arn"]}
    issuer = oidc.inputs["url"].removeprefix("https://")
    assert statement["Condition"] == {
        "StringEquals": {
            f"{issuer}:sub": "system:serviceaccount:kube-system:ebs-csi-controller-sa",
            f"{issuer}:aud": "sts.amazonaws.com",
        }
    }


def test_the_managed_driver_policy_is_attached_before_the_addon(example: Evaluation) -> None:
    role = _ebs_role(example)
    attachments = [r for r in example.of_type(ATTACHMENT) if r.inputs["role"] == role.state["name"]]
    assert [a.inputs["policyArn"] for a in attachments] == [
        "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
    ]
    assert waits_for(example, _ebs_addon(example), attachments[0])


def test_the_addon_waits_for_the_system_nodes_only(example: Evaluation) -> None:
    addon = _ebs_addon(example)
    assert waits_for(example, addon, ending(example, NODE_GROUP, "-system-nodes-group"))
    assert not may_wait_for(example, addon, ending(example, NODE_GROUP, "-materialize-nodes-group"))


_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}


def _tolerates(toleration: dict[str, str], taint: dict[str, str]) -> bool:
    """Kubernetes' matching: an empty key with Exists matches every key, an empty effect every effect."""
    if toleration.get("effect") and toleration["effect"] != taint["effect"]:
        return False
    if toleration.get("operator") == "Exists":
        return not toleration.get("key") or toleration["key"] == taint["key"]
    return toleration.get("key") == taint["key"] and toleration.get("value") == taint.get("value")


def test_the_controller_cannot_land_on_the_materialize_nodes(example: Evaluation) -> None:
    (taint,) = ending(example, NODE_GROUP, "-materialize-nodes-group").inputs["taints"]
    as_kubernetes = {**taint, "effect": _EFFECTS[taint["effect"]]}
    assert not [t for t in CONTROLLER_TOLERATIONS if _tolerates(t, as_kubernetes)]
    # The matcher itself: the chart's NoExecute toleration would match a NoExecute taint.
    assert _tolerates(CONTROLLER_TOLERATIONS[1], {**as_kubernetes, "effect": "NoExecute"})


def test_gp3_is_a_valid_encrypted_default_class_bound_at_scheduling(example: Evaluation) -> None:
    (storage_class,) = example.of_type(STORAGE_CLASS)
    validate_strict(storage_class)
    inputs = storage_class.inputs
    assert inputs["metadata"] == {
        "name": "gp3",
        "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
    }
    assert inputs["provisioner"] == "ebs.csi.aws.com"
    assert inputs["parameters"] == {
        "type": "gp3",
        "encrypted": "true",
        # Read by the destroy-time volume cleanup (test_volume_cleanup.py).
        "tagSpecification_1": f"materialize.cloud/cluster={example.one(CLUSTER).inputs['name']}",
        "tagSpecification_2": "materialize.cloud/claim-namespace={{ .PVCNamespace }}",
    }
    assert inputs["volumeBindingMode"] == "WaitForFirstConsumer"
    assert inputs["allowVolumeExpansion"] is True
    assert inputs["reclaimPolicy"] == "Delete"
    assert waits_for(example, storage_class, _ebs_addon(example))


def test_prometheus_claims_its_volume_from_gp3_after_the_class_exists(example: Evaluation) -> None:
    (monitoring,) = [r for r in example.of_type(RELEASE) if r.inputs["chart"] == "kube-prometheus-stack"]
    spec = monitoring.inputs["values"]["prometheus"]["prometheusSpec"]
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["storageClassName"] == "gp3"
    assert waits_for(example, monitoring, example.one(STORAGE_CLASS))


@pytest.mark.parametrize("chart", ["cert-manager", "materialize-operator"])
def test_the_system_components_do_not_wait_for_the_ebs_addon(example: Evaluation, chart: str) -> None:
    # Issue 14: only monitoring needs volumes; the operator's chain does not grow by the add-on's create time.
    (release,) = [r for r in example.of_type(RELEASE) if r.inputs["chart"] == chart]
    assert not may_wait_for(example, release, _ebs_addon(example))
    assert not may_wait_for(example, release, example.one(STORAGE_CLASS))
