"""A support stack under Pulumi mocks: what it registers and what stays secret.

That installs never load the control plane: tests/foundation/test_cloud_sdk_isolation.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from tests.harness.mocks import RecordingMonitor
from tests.harness.stack import Evaluation, byo_config, evaluate
from tools import plan
from tools.stack_files import ROOT, read_stack_config

REPLICA = "pulumi-python:dynamic/controlplane:SupportReplica"
SET = "pulumi-python:dynamic/controlplane:ReplicaSet"
URL = "postgres://mz_system:Pw-From-Vault-1@environmentd.internal:6875/materialize?sslmode=require"


def example() -> dict[str, Any]:
    return dict(read_stack_config("support").values)


def evaluated(config: dict[str, Any] | None = None, secret_keys: tuple[str, ...] = ()) -> Evaluation:
    return evaluate(config if config is not None else example(), secret_keys=secret_keys, stack="support")


def test_the_example_registers_one_component_with_a_replica_and_a_set() -> None:
    evaluation = evaluated()
    component = evaluation.one("materialize:controlplane:SupportReplicas", "support")
    replica = evaluation.one(REPLICA, "replica-quickstart.support_boost")
    replica_set = evaluation.one(SET, "set-analytics.support_burst")
    assert replica.parent == replica_set.parent == component.urn
    assert len(evaluation.registered) == 3
    assert {k: replica.inputs[k] for k in ("cluster", "name", "size", "billedAs", "internal", "expiresAt")} == {
        "cluster": "quickstart",
        "name": "support_boost",
        "size": "100cc",
        "billedAs": "support-free",
        "internal": True,
        "expiresAt": "2026-12-05T00:00:00Z",
    }
    assert replica_set.inputs["members"] == ["support_burst-1", "support_burst-2"]
    assert replica_set.inputs["replicationFactor"] == 2
    assert evaluation.outputs["supportReplicas"]["quickstart.support_boost"]["replicaId"].startswith("u")
    assert (
        evaluation.outputs["supportReplicaSets"]["analytics.support_burst"]["members"] == replica_set.inputs["members"]
    )


@pytest.mark.parametrize("token", [REPLICA, SET])
def test_replicas_are_replaced_delete_first_and_keep_the_connection_secret(token: str) -> None:
    resource = evaluated().of_type(token)[0]
    assert resource.options["deleteBeforeReplace"] is True
    assert resource.options["additionalSecretOutputs"] == ["connection"]
    assert resource.is_secret("connection")
    assert resource.is_secret("__provider")
    assert resource.inputs["connection"]["portForward"]["namespace"] == "materialize-main"


def test_a_url_stays_secret_in_inputs_outputs_and_the_plan(capsys: pytest.CaptureFixture[str]) -> None:
    config = example()
    config["support"] = {**config["support"], "connection": {"url": URL}}
    evaluation = evaluated(config, secret_keys=("support",))
    for resource in evaluation.of_type(REPLICA) + evaluation.of_type(SET):
        assert resource.inputs["connection"] == {"url": URL}
        assert resource.is_secret("connection")
    assert "Pw-From-Vault" not in repr(evaluation.outputs)


def test_evaluating_twice_gives_identical_inputs() -> None:
    assert evaluated().desired_state() == evaluated().desired_state()


def test_bad_support_config_registers_nothing() -> None:
    config = example()
    config["support"] = {**config["support"], "replicas": [{**config["support"]["replicas"][0], "name": "r2"}]}
    monitor = RecordingMonitor(None)  # type: ignore[arg-type]
    with pytest.raises(pulumi.RunError, match=r"materialize:support\.replicas\[0\]\.name: 'r2' is not allowed"):
        evaluate(config, secret_keys=(), stack="support", monitor=monitor)
    assert monitor.registered == []


def test_an_install_stack_that_also_sets_support_is_refused() -> None:
    with pytest.raises(pulumi.RunError, match="materialize:target: an install setting"):
        evaluate({**byo_config(), "support": example()["support"]}, stack="support")


def test_the_plan_prints_the_replicas_and_never_the_connection(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["--stack", "support"]) == 0
    out = capsys.readouterr().out
    assert "replica-quickstart.support_boost  (quickstart.support_boost size=100cc billedAs=support-free" in out
    assert "members=support_burst-1,support_burst-2" in out
    assert "portForward" not in out and "kube/config" not in out


def test_the_plan_asks_for_an_encrypted_part_of_the_support_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    text = (ROOT / "stacks" / "Pulumi.support.yaml").read_text()
    start = text.index("      portForward:")
    end = text.index("    replicas:")
    encrypted = text[:start] + "      url:\n        secure: v1:AAAA\n" + text[end:]
    (tmp_path / "stacks" / "Pulumi.enc.yaml").write_text(encrypted)
    assert plan.main(["--stack", "enc"], root=tmp_path) == 1
    assert "encrypted values cannot be read offline: support" in capsys.readouterr().err
