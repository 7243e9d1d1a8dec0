"""The targets list: every target's CI config is one the program accepts, and the list is complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from policy.materialize_policies import POLICIES
from tests.nightly.fakes import ENVIRON
from tests.policy.harness import Analyzer
from tools.nightly.naming import short_name_prefix, stack_name
from tools.nightly.targets import TARGETS, Requirement, ci_config, deep_merge, select_targets, target_named
from tools.offline.evaluate import evaluate
from tools.stack_files import read_stack_config, stack_names

RUN_ID = "20250102t0300-77-1"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("target", [t.name for t in TARGETS])
def test_the_ci_config_of_every_target_evaluates_and_passes_the_policy_pack(target: str) -> None:
    """Unknown keys, bad sizes, names too long for the stack name or a policy the overrides break fail here,
    not at 3 a.m.: the program is evaluated under mocks and every resource goes through the pack's analyzer,
    as `up` does (without the production tag, which night stacks never carry)."""
    stack = stack_name(target, RUN_ID)
    config = ci_config(target_named(target), stack, RUN_ID, ENVIRON)
    evaluation = evaluate(config.values, secret_keys=sorted(config.secret_keys), stack=stack)
    assert Analyzer(POLICIES).run(evaluation.registered) == []
    if target != "local":
        # Not vacuous: the same resources, marked production, break the protection rule (protectData is off),
        # and on aws the Multi-AZ rule (night stacks are not tagged production, so RDS has one zone).
        flagged = Analyzer(POLICIES, stack_tags={"environment": "production"}).run(evaluation.registered)
        multi_az = {"rds-multi-az-in-production"} if target == "aws" else set()
        assert {d.policy for d in flagged} == {"protect-stateful-resources", *multi_az}

    assert set(evaluation.outputs["instances"]) == {i["name"] for i in config.values["instances"]}
    assert config.values["protectData"] is False
    assert config.values["licenseKey"] == ENVIRON["MATERIALIZE_LICENSE_KEY"]
    if target != "local":
        assert "kubeconfig" in evaluation.outputs  # where the run's cluster access comes from


def test_every_example_install_stack_is_a_nightly_target() -> None:
    """A new target joins the nightly by adding itself to TARGETS; bring-your-own needs infrastructure we lack."""
    installs = {}
    for name in stack_names():
        target = read_stack_config(name).values.get("target")
        if target is not None:  # stacks without a target (control-plane functions) install nothing
            installs[name] = target
    assert {t.example_stack for t in TARGETS} == {name for name, target in installs.items() if target != "byo"}
    for target in TARGETS:
        assert installs[target.example_stack] == target.name
    assert len({t.name for t in TARGETS}) == len(TARGETS)


def test_targets_that_name_resources_from_a_prefix_get_one_unique_to_the_stack() -> None:
    gcp = ci_config(target_named("gcp"), stack_name("gcp", RUN_ID), RUN_ID, ENVIRON).values["gcp"]
    azure = ci_config(target_named("azure"), stack_name("azure", RUN_ID), RUN_ID, ENVIRON).values["azure"]
    assert gcp["namePrefix"] == short_name_prefix(stack_name("gcp", RUN_ID))
    assert azure["namePrefix"] == short_name_prefix(stack_name("azure", RUN_ID))
    assert gcp["namePrefix"] != short_name_prefix(stack_name("gcp", "20250103t0300"))
    assert gcp["project"] == "nightly-project-1"


def test_overrides_keep_the_example_and_change_only_what_they_name() -> None:
    aws = ci_config(target_named("aws"), stack_name("aws", RUN_ID), RUN_ID, ENVIRON).values
    assert aws["aws"]["postgresVersion"] == "17"  # from the example
    assert aws["aws"]["materializeInstanceType"] == "r7gd.xlarge"  # the override
    assert aws["tags"] == {
        "project": "materialize",
        "environment": "nightly",
        "nightly-run": RUN_ID,
        "nightly-stack": stack_name("aws", RUN_ID),
    }
    narrowed = ci_config(
        target_named("aws"), "s", RUN_ID, {**ENVIRON, "NIGHTLY_API_ALLOWED_CIDRS": "198.51.100.7/32, 192.0.2.0/24"}
    )
    assert narrowed.values["aws"]["apiAllowedCidrs"] == ["198.51.100.7/32", "192.0.2.0/24"]


def test_deep_merge_merges_mappings_and_replaces_everything_else() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 1}
    assert deep_merge(base, {"a": {"y": [3]}, "c": 2}) == {"a": {"x": 1, "y": [3]}, "b": 1, "c": 2}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 1}


def test_requirements_say_what_is_missing(tmp_path: Path) -> None:
    present = {"MATERIALIZE_LICENSE_KEY": "k", "AWS_PROFILE": "ci"}
    everything = target_named("aws").unmet(present, lambda c: f"/bin/{c}", tmp_path)
    assert everything == []
    nothing = target_named("aws").unmet({}, lambda c: None, tmp_path)
    assert nothing == [
        "the Pulumi CLI: pulumi not on PATH",
        "a Materialize license key: set MATERIALIZE_LICENSE_KEY",
        "AWS credentials: set AWS_ACCESS_KEY_ID or AWS_PROFILE or AWS_WEB_IDENTITY_TOKEN_FILE",
        "the AWS CLI: aws not on PATH",
    ]
    kind = Requirement("a kind cluster", kube_context="kind-materialize")
    assert kind.unmet({}, lambda c: None, tmp_path) == "a kind cluster: no context 'kind-materialize' in ~/.kube/config"
    (tmp_path / ".kube").mkdir()
    (tmp_path / ".kube" / "config").write_text("contexts:\n- name: kind-materialize\n")
    assert kind.unmet({}, lambda c: None, tmp_path) is None


def test_selecting_targets_keeps_list_order_and_refuses_unknown_names() -> None:
    assert [t.name for t in select_targets("gcp, aws")] == ["aws", "gcp"]
    assert select_targets("") == list(TARGETS)
    with pytest.raises(KeyError, match="no nightly target 'ibm'"):
        select_targets("aws,ibm")
