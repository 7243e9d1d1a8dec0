"""Instances that match the operator: the license key's environment id, readiness
that only a finished rollout of this `up` satisfies, and every authenticator's
backend Secret."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from typing import Any

import pulumi
import pytest

from components.dataplane.environment_id import license_key_environment_id
from components.dataplane.rollout import wait_for_annotation
from tests.harness.mocks import RealisticMocks, RecordingMonitor
from tests.harness.stack import LICENSE_KEY, Evaluation, backend, evaluate, example_stack
from tests.harness.wait_for import satisfied
from tools.stack_files import read_stack_config, stack_names

V1 = "kubernetes:materialize.cloud/v1:Materialize"
V1ALPHA1 = "kubernetes:materialize.cloud/v1alpha1:Materialize"
NIL = "00000000-0000-0000-0000-000000000000"
PINNED = "5b2f8e3c-1d4a-4e6b-9c7d-0a1b2c3d4e5f"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def license_jwt(**claims: Any) -> str:
    """A key shaped like Materialize's (src/license-keys/src/lib.rs `Payload`), with a fake signature."""
    payload = {
        "sub": "org-1",
        "iss": "Materialize, Inc.",
        "exp": 1893456000,
        "nbf": 1767225600,
        "iat": 1767225600,
        "jti": str(uuid.uuid4()),
        "version": 1,
        "max_credit_consumption_rate": 24.0,
        "expiration_behavior": "Disable",
        **claims,
    }
    header = _b64(json.dumps({"alg": "PS256", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(payload).encode())}.{_b64(b'not-a-real-signature')}"


def stack(**overrides: Any) -> dict[str, Any]:
    return example_stack("byo", **overrides)


def instance(**fields: Any) -> dict[str, Any]:
    return {**stack()["instances"][0], **fields}


def cr(evaluation: Evaluation, token: str = V1) -> Any:
    return evaluation.one(token)


def refused_before_anything(
    config: dict[str, Any], previous: dict[str, Any] | None = None
) -> tuple[str, RecordingMonitor]:
    monitor = RecordingMonitor(RealisticMocks())
    with pytest.raises(pulumi.RunError) as raised:
        evaluate(config, previous_outputs=previous, monitor=monitor)
    return str(raised.value), monitor


# --- identity -----------------------------------------------------------------


def test_a_key_without_an_id_keeps_the_derived_id() -> None:
    derived = evaluate(stack()).outputs["instances"]["analytics"]["environmentId"]
    for key in (license_jwt(aud=NIL), license_jwt(), "not.a-jwt", "garbage", LICENSE_KEY):
        evaluation = evaluate(stack(licenseKey=key))
        assert cr(evaluation).inputs["spec"]["environmentId"] == derived, key


def test_a_key_that_pins_an_id_gives_the_instance_that_id() -> None:
    evaluation = evaluate(stack(licenseKey=license_jwt(aud=PINNED)))
    assert cr(evaluation).inputs["spec"]["environmentId"] == PINNED
    assert evaluation.outputs["instances"]["analytics"]["environmentId"] == PINNED


def test_an_explicit_id_equal_to_the_keys_is_accepted() -> None:
    evaluation = evaluate(stack(licenseKey=license_jwt(aud=PINNED), instances=[instance(environmentId=PINNED)]))
    assert cr(evaluation).inputs["spec"]["environmentId"] == PINNED


def test_an_explicit_id_that_differs_from_the_keys_is_refused_before_anything_is_registered() -> None:
    other = "6f1c2b0e-3d4a-4b5c-9d8e-7f6a5b4c3d2e"
    message, monitor = refused_before_anything(
        stack(licenseKey=license_jwt(aud=PINNED), instances=[instance(environmentId=other)])
    )
    assert "materialize:instances[analytics].environmentId" in message
    assert other in message and PINNED in message and "materialize:licenseKey" in message
    assert "remove environmentId" in message
    assert monitor.registered == []


def test_several_instances_sharing_a_key_that_pins_an_id_are_refused() -> None:
    instances = [{"name": "one"}, {"name": "two"}]
    message, monitor = refused_before_anything(
        stack(
            licenseKey=license_jwt(aud=PINNED),
            instances=instances,
            metadataBackendUrl="postgres://materialize@db.example.internal:5432/{instance}?sslmode=require",
            persistBackendUrl="s3://bucket/{instance}?region=us-east-1",
        )
    )
    assert "materialize:licenseKey" in message and "one, two" in message and PINNED in message
    assert monitor.registered == []


def test_a_key_whose_id_is_not_a_uuid_is_refused() -> None:
    message, monitor = refused_before_anything(stack(licenseKey=license_jwt(aud="env-1")))
    assert "materialize:licenseKey" in message and "not a UUID" in message
    assert monitor.registered == []


def test_the_key_is_read_as_the_operator_reads_it() -> None:
    # The operator trims the key before validating it, and a nil id means "any environment".
    assert license_key_environment_id(f"  {license_jwt(aud=PINNED)}\n") == uuid.UUID(PINNED)
    assert license_key_environment_id(license_jwt(aud=NIL)) is None
    assert license_key_environment_id("a.b.c") is None


def deployed(evaluation: Evaluation) -> dict[str, Any]:
    return {key: value for key, value in evaluation.outputs.items() if key not in evaluation.secret_outputs}


def test_the_guard_refuses_an_id_change_caused_by_a_new_license_key() -> None:
    before = deployed(evaluate(stack(licenseKey=license_jwt(aud=PINNED))))
    other = str(uuid.UUID(int=uuid.UUID(PINNED).int + 1))
    message, monitor = refused_before_anything(stack(licenseKey=license_jwt(aud=other)), before)
    assert "materialize:instances[analytics].environmentId" in message and "can never change" in message
    assert f"use the key issued for {PINNED}" in message
    assert [r.type for r in monitor.registered] == ["pulumi:pulumi:StackReference"]


def test_the_guard_refuses_a_key_that_pins_an_id_on_an_instance_deployed_with_the_derived_one() -> None:
    before = deployed(evaluate(stack()))
    message, _ = refused_before_anything(stack(licenseKey=license_jwt(aud=PINNED)), before)
    assert "can never change" in message and PINNED in message


# --- readiness ----------------------------------------------------------------


def evaluated_cr(crd_version: str, strategy: str, **overrides: Any) -> Any:
    token = V1 if crd_version == "v1" else V1ALPHA1
    return cr(
        evaluate(stack(crdVersion=crd_version, instances=[instance(rolloutStrategy=strategy)], **overrides)), token
    )


def live(resource: Any) -> dict[str, Any]:
    """The object as the provider watches it: what was sent plus the status the operator wrote."""
    return {**resource.inputs, "status": resource.state["status"]}


def stale(new: Any, old: Any) -> dict[str, Any]:
    """The new spec right after `up` applied it, before the operator noticed: the old status."""
    return {**new.inputs, "status": copy.deepcopy(old.state["status"])}


STRATEGIES = ["WaitUntilReady", "ImmediatelyPromoteCausingDowntime"]


@pytest.mark.parametrize("crd_version", ["v1", "v1alpha1"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_only_the_completed_rollout_of_the_requested_image_satisfies_the_wait(crd_version: str, strategy: str) -> None:
    old, new = (evaluated_cr(crd_version, strategy, version=v) for v in ("v26.36.0", "v26.37.0"))
    wait_for = new.inputs["metadata"]["annotations"]["pulumi.com/waitFor"]
    expressions = json.loads(wait_for)
    assert "condition=UpToDate" in expressions
    assert (
        f"jsonpath={{.status.lastCompletedRolloutEnvironmentdImageRef}}={new.inputs['spec']['environmentdImageRef']}"
        in (expressions)
    )
    if crd_version == "v1alpha1":
        assert f"jsonpath={{.status.lastCompletedRolloutRequest}}={new.inputs['spec']['requestRollout']}" in expressions
    # The previous version's UpToDate=True does not end the wait; the finished rollout does.
    assert not satisfied(wait_for, stale(new, old))
    assert satisfied(wait_for, live(new))


def test_v1alpha1_waits_for_the_requested_rollout_even_with_the_same_image() -> None:
    old = evaluated_cr("v1alpha1", "WaitUntilReady")
    resized = cr(
        evaluate(
            stack(
                crdVersion="v1alpha1",
                instances=[instance(environmentdResources={"requests": {"cpu": "4", "memory": "8Gi"}})],
            )
        ),
        V1ALPHA1,
    )
    wait_for = resized.inputs["metadata"]["annotations"]["pulumi.com/waitFor"]
    assert not satisfied(wait_for, stale(resized, old))
    assert satisfied(wait_for, live(resized))


@pytest.mark.parametrize("crd_version", ["v1", "v1alpha1"])
def test_a_cancelled_or_failed_rollout_does_not_satisfy_the_wait(crd_version: str) -> None:
    new = evaluated_cr(crd_version, "WaitUntilReady")
    wait_for = new.inputs["metadata"]["annotations"]["pulumi.com/waitFor"]
    # RolloutTimeout marks the request completed but leaves UpToDate False.
    for reason in ("RolloutTimeout", "FailedDeploy"):
        obj = live(new)
        obj["status"]["conditions"] = [{"type": "UpToDate", "status": "False", "reason": reason}]
        assert not satisfied(wait_for, obj), reason


@pytest.mark.parametrize("crd_version", ["v1", "v1alpha1"])
def test_manually_promoted_instances_wait_for_the_documented_ready_to_promote_state(crd_version: str) -> None:
    new = evaluated_cr(crd_version, "ManuallyPromote")
    wait_for = new.inputs["metadata"]["annotations"]["pulumi.com/waitFor"]
    assert json.loads(wait_for) == ["jsonpath={.status.conditions[0].reason}=ReadyToPromote"]
    staged = live(new)
    staged["status"]["conditions"] = [{"type": "UpToDate", "status": "Unknown", "reason": "ReadyToPromote"}]
    assert satisfied(wait_for, staged)
    # A rollout still applying, or the previous generation's Applied, does not end it.
    for reason in ("Applying", "Applied"):
        staged["status"]["conditions"][0]["reason"] = reason
        assert not satisfied(wait_for, staged)


def test_the_wait_refuses_values_its_parser_would_split() -> None:
    with pytest.raises(ValueError, match="waitFor"):
        wait_for_annotation("WaitUntilReady", "registry.example/environmentd:v1=2", None)


def test_the_wait_timeout_is_an_hour_by_default_and_set_per_instance() -> None:
    assert cr(evaluate(stack())).inputs["metadata"]["annotations"]["pulumi.com/timeoutSeconds"] == "3600"
    longer = evaluate(stack(instances=[instance(readyTimeoutMinutes=240)]))
    assert cr(longer).inputs["metadata"]["annotations"]["pulumi.com/timeoutSeconds"] == str(240 * 60)


@pytest.mark.parametrize("minutes", [0, 4, 24 * 60 + 1])
def test_a_wait_timeout_outside_what_a_rollout_can_take_is_refused(minutes: int) -> None:
    message, monitor = refused_before_anything(stack(instances=[instance(readyTimeoutMinutes=minutes)]))
    assert "materialize:instances[0].readyTimeoutMinutes" in message
    assert monitor.registered == []


# --- authenticators -----------------------------------------------------------


@pytest.mark.parametrize(
    ("authenticator", "has_password"), [("Password", True), ("Sasl", True), ("Oidc", True), ("None", False)]
)
def test_the_mz_system_password_goes_to_every_authenticator_that_uses_it(
    authenticator: str, has_password: bool
) -> None:
    evaluation = evaluate(stack(instances=[instance(authenticator=authenticator)]))
    assert ("external_login_password_mz_system" in backend(evaluation, "analytics")) is has_password
    assert cr(evaluation).inputs["spec"]["authenticatorKind"] == authenticator
    connection = evaluation.outputs["connectionStrings"]["analytics"]
    assert connection.startswith("postgres://mz_system:" if has_password else "postgres://materialize@")


# --- RBAC ---------------------------------------------------------------------


INSTALL_STACKS = [name for name in stack_names() if "support" not in read_stack_config(name).values]


@pytest.mark.parametrize("name", INSTALL_STACKS)
def test_every_example_stacks_instances_have_rbac_on(name: str) -> None:
    evaluation = evaluate(example_stack(name))
    resources = evaluation.of_type(V1) + evaluation.of_type(V1ALPHA1)
    assert resources
    assert all(r.inputs["spec"]["enableRbac"] is True for r in resources)


def test_an_instance_can_turn_rbac_off() -> None:
    evaluation = evaluate(stack(instances=[instance(rbac=False)]))
    assert cr(evaluation).inputs["spec"]["enableRbac"] is False
