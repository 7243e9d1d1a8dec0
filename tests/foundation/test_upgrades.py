"""Upgrades that cannot go wrong silently: the guard, stable ids, and rollouts."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from tests.harness.mocks import RealisticMocks, RecordingMonitor
from tests.harness.stack import LICENSE_KEY, Evaluation, evaluate
from tools.stack_files import read_stack_config


def stack(**overrides: Any) -> dict[str, Any]:
    return {**read_stack_config("byo").values, "licenseKey": LICENSE_KEY, **overrides}


def deployed(evaluation: Evaluation) -> dict[str, Any]:
    """What the stack would have exported after this evaluation's update."""
    return {key: value for key, value in evaluation.outputs.items() if key not in evaluation.secret_outputs}


def refused(config: dict[str, Any], previous: dict[str, Any]) -> str:
    monitor = RecordingMonitor(RealisticMocks())
    with pytest.raises(pulumi.RunError) as raised:
        evaluate(config, previous_outputs=previous, monitor=monitor)
    # Only the read of the stack's own outputs happened; nothing was created.
    assert [r.type for r in monitor.registered] == ["pulumi:pulumi:StackReference"]
    return str(raised.value)


@pytest.fixture
def at_v26_37() -> dict[str, Any]:
    return deployed(evaluate(stack(version="v26.37.0")))


def test_first_deployment_reads_its_own_stack_outputs() -> None:
    evaluation = evaluate(stack())
    reference = evaluation.one("pulumi:pulumi:StackReference")
    assert reference.read
    assert reference.inputs["name"] == "organization/materialize/dev"


def test_upgrade_within_the_major_version_is_allowed(at_v26_37: dict[str, Any]) -> None:
    evaluation = evaluate(stack(version="v26.38.1"), previous_outputs=at_v26_37)
    assert evaluation.outputs["materializeVersion"] == "v26.38.1"


def test_next_major_version_is_allowed(at_v26_37: dict[str, Any]) -> None:
    evaluate(stack(version="v27.0.0"), previous_outputs=at_v26_37)


def test_downgrade_is_refused(at_v26_37: dict[str, Any]) -> None:
    message = refused(stack(version="v26.36.9"), at_v26_37)
    assert "materialize:version" in message and "v26.36.9" in message and "v26.37.0" in message
    assert "cannot be downgraded" in message


def test_skipping_a_major_version_is_refused(at_v26_37: dict[str, Any]) -> None:
    message = refused(stack(version="v28.0.0"), at_v26_37)
    assert "skips a major version" in message and "v27.x.y" in message


def test_changing_an_environment_id_is_refused(at_v26_37: dict[str, Any]) -> None:
    instances = [{**stack()["instances"][0], "environmentId": "00000000-0000-4000-8000-000000000001"}]
    message = refused(stack(instances=instances), at_v26_37)
    assert "instances[analytics].environmentId" in message and "can never change" in message


def test_switching_crd_version_of_existing_instances_is_refused(at_v26_37: dict[str, Any]) -> None:
    message = refused(stack(crdVersion="v1alpha1"), at_v26_37)
    assert "materialize:crdVersion" in message


def test_environment_id_is_stable_and_unique_per_stack() -> None:
    first, again = evaluate(stack()), evaluate(stack())
    other_stack = evaluate(stack(), stack="staging")
    ids = [e.outputs["instances"]["analytics"]["environmentId"] for e in (first, again, other_stack)]
    assert ids[0] == ids[1] != ids[2]


def test_explicit_environment_id_is_used_as_given() -> None:
    given = "6f1c2b0e-3d4a-4b5c-9d8e-7f6a5b4c3d2e"
    instances = [{**stack()["instances"][0], "environmentId": given}]
    cr = evaluate(stack(instances=instances)).one("kubernetes:materialize.cloud/v1:Materialize")
    assert cr.inputs["spec"]["environmentId"] == given


def v1alpha1_rollout(**overrides: Any) -> str:
    evaluation = evaluate(stack(crdVersion="v1alpha1", **overrides))
    return evaluation.one("kubernetes:materialize.cloud/v1alpha1:Materialize").inputs["spec"]["requestRollout"]


def test_v1alpha1_request_rollout_is_deterministic() -> None:
    assert v1alpha1_rollout() == v1alpha1_rollout()


def test_v1alpha1_rolls_out_when_environmentd_changes() -> None:
    base = v1alpha1_rollout(version="v26.30.0")
    assert v1alpha1_rollout(version="v26.31.0") != base
    instance = {**stack()["instances"][0], "environmentdResources": {"requests": {"cpu": "4"}}}
    assert v1alpha1_rollout(version="v26.30.0", instances=[instance]) != base


def test_v1alpha1_does_not_roll_out_for_balancerd_only_changes() -> None:
    instance = {**stack()["instances"][0], "balancerdReplicas": 3}
    assert v1alpha1_rollout(instances=[instance]) == v1alpha1_rollout()


def test_the_guard_refuses_at_preview_time(at_v26_37: dict[str, Any]) -> None:
    monitor = RecordingMonitor(RealisticMocks())
    with pytest.raises(pulumi.RunError, match="cannot be downgraded"):
        evaluate(stack(version="v26.31.0"), previous_outputs=at_v26_37, preview=True, monitor=monitor)
    assert [r.type for r in monitor.registered] == ["pulumi:pulumi:StackReference"]


def test_preview_of_an_allowed_upgrade_registers_the_whole_graph(at_v26_37: dict[str, Any]) -> None:
    evaluation = evaluate(stack(version="v26.38.0"), previous_outputs=at_v26_37, preview=True)
    assert (
        evaluation.one("kubernetes:materialize.cloud/v1:Materialize")
        .inputs["spec"]["environmentdImageRef"]
        .endswith(":v26.38.0")
    )
