"""One target's night, with a stand-in for the Automation API stack: order, failures, destroy, retries."""

from __future__ import annotations

import inspect
import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from pulumi.automation import Stack

from tests.nightly.fakes import (
    ENVIRON,
    KUBECONFIG,
    LICENSE,
    PASSWORD,
    FakeStack,
    Night,
    cli_error,
    cloud_outputs,
)
from tools.nightly.lifecycle import PHASES, TargetResult, run_target, summarize_error, unready_policy_packs
from tools.nightly.probe import ProbeError
from tools.nightly.ready import NotReadyError
from tools.nightly.retry import RetryPolicy
from tools.nightly.runner import run_targets
from tools.nightly.targets import target_named

RUN_ID = "20250102t0300-77-1"
AWS = target_named("aws")


def night_for(target: str = "aws", **stack_options: object) -> Night:
    events: list[str] = []
    stack = FakeStack(f"ci-{target}-{RUN_ID}", events, **stack_options)  # type: ignore[arg-type]
    return Night(stack=stack, events=events)


def outcomes(result: TargetResult) -> dict[str, str]:
    return {phase.phase: phase.outcome for phase in result.phases}


def test_a_good_night_runs_every_phase_in_order_and_leaves_nothing() -> None:
    night = night_for()
    result = run_target(AWS, RUN_ID, night.services())

    assert [p.phase for p in result.phases] == list(PHASES)
    assert result.passed
    assert result.stack == f"ci-aws-{RUN_ID}"
    name = result.stack
    assert night.events == [
        f"{name}:up",
        f"{name}:ready:main",
        f"{name}:probe:main",
        f"{name}:support:main",
        f"{name}:preview",
        f"{name}:destroy",
        f"{name}:remove",
    ]
    up_options = dict(night.stack.calls)["up"]
    assert up_options["policy_packs"] == ["/repo/policy"]
    assert night.stack.calls[-1] == ("remove", {"stack_name": name})
    # Progress lines name the target, the phase, the time and the verdict.
    assert "[aws] up ... 0m00s ok" in night.progress
    assert "[aws] remove ... 0m00s ok" in night.progress


def test_the_stack_gets_the_example_config_with_ci_overrides_as_the_cli_would_hand_it_over() -> None:
    night = night_for()
    run_target(AWS, RUN_ID, night.services())
    config = night.stack.config

    assert config["materialize:target"].value == "aws"
    assert config["materialize:protectData"].value == "false"
    license_key = config["materialize:licenseKey"]
    assert license_key.value == LICENSE and license_key.secret
    assert not any(value.secret for key, value in config.items() if key != "materialize:licenseKey")
    # Structured keys are whole JSON documents set at the top level, never with --path.
    assert all(not call[1]["path"] for call in night.stack.calls if call[0] == "set_config")
    aws = json.loads(config["materialize:aws"].value)
    assert aws["natGateways"] == "single" and aws["zoneCount"] == 2
    assert aws["kubernetesVersion"] == "1.35"  # kept from the example, still a string
    tags = json.loads(config["materialize:tags"].value)
    assert tags["nightly-run"] == RUN_ID and tags["nightly-stack"] == f"ci-aws-{RUN_ID}"
    instances = json.loads(config["materialize:instances"].value)
    assert instances[0]["exposure"]["type"] == "internal" and instances[0]["balancerdReplicas"] == 1


def test_a_failed_up_still_destroys_and_removes_the_stack() -> None:
    night = night_for()
    night.stack.scripts["up"].errors.append(cli_error("creating EKS Node Group: InvalidParameterException: bad AMI"))
    result = run_target(AWS, RUN_ID, night.services())

    assert not result.passed
    assert outcomes(result) == {
        "preflight": "passed",
        "configure": "passed",
        "up": "failed",
        "ready": "skipped",
        "probe": "skipped",
        "support": "skipped",
        "preview": "skipped",
        "destroy": "passed",
        "remove": "passed",
    }
    assert night.stack.ops() == ["up", "destroy", "remove"]
    up = next(p for p in result.phases if p.phase == "up")
    assert up.detail == "creating EKS Node Group: InvalidParameterException: bad AMI"
    assert any(line.startswith("[aws] up ... 0m00s FAILED: creating EKS Node Group") for line in night.progress)


def test_a_failed_probe_skips_the_preview_but_destroys() -> None:
    night = night_for()
    night.probe_errors.append(ProbeError("could not connect to 127.0.0.1:40001 within 300s (31 attempts)"))
    result = run_target(AWS, RUN_ID, night.services())

    assert outcomes(result)["probe"] == "failed"
    assert outcomes(result)["preview"] == "skipped"
    assert night.stack.ops() == ["up", "destroy", "remove"]


def test_a_failed_support_check_skips_the_preview_but_destroys() -> None:
    night = night_for()
    night.support_errors.append(RuntimeError("cannot specify INTERNAL or BILLED AS as non-internal user"))
    result = run_target(AWS, RUN_ID, night.services())

    assert outcomes(result)["probe"] == "passed"
    assert outcomes(result)["support"] == "failed"
    assert "non-internal user" in next(p for p in result.phases if p.phase == "support").detail
    assert outcomes(result)["preview"] == "skipped"
    assert night.stack.ops() == ["up", "destroy", "remove"]


def test_an_instance_that_never_gets_ready_is_not_probed() -> None:
    night = night_for()
    night.ready_errors.append(NotReadyError("Materialize materialize-main/main not ready after 1200s"))
    result = run_target(AWS, RUN_ID, night.services())

    assert outcomes(result)["ready"] == "failed"
    assert outcomes(result)["probe"] == "skipped"
    assert not [c for c in night.checked if c[0] == "probe"]
    assert night.stack.ops() == ["up", "destroy", "remove"]


def test_a_perpetual_diff_fails_the_target_and_it_is_still_destroyed() -> None:
    night = night_for(change_summary={"same": 80, "update": 1, "replace": 2})
    result = run_target(AWS, RUN_ID, night.services())

    assert not result.passed
    preview = next(p for p in result.phases if p.phase == "preview")
    assert preview.outcome == "failed"
    assert "replace 2, update 1" in preview.detail
    assert night.stack.ops() == ["up", "preview", "destroy", "remove"]


def test_reads_in_the_preview_are_not_changes() -> None:
    night = night_for(change_summary={"same": 80, "read": 3})
    result = run_target(AWS, RUN_ID, night.services())
    assert result.passed
    assert next(p for p in result.phases if p.phase == "preview").detail == "no changes (read 3, same 80)"


def test_an_allow_listed_destroy_error_is_retried_with_backoff() -> None:
    night = night_for()
    night.stack.scripts["destroy"].errors += [
        cli_error("deleting EC2 Security Group (sg-0abc): DependencyViolation: resource has a dependent object"),
        cli_error("deleting EC2 Subnet (subnet-0abc): DependencyViolation: has dependencies"),
    ]
    result = run_target(AWS, RUN_ID, night.services())

    assert result.passed
    assert night.stack.ops() == ["up", "preview", "destroy", "destroy", "destroy", "remove"]
    assert night.clock.sleeps == [60.0, 180.0]
    assert "[aws] destroy: transient error (aws-dependency-violation), attempt 2 of 3" in night.progress


def test_an_error_off_the_allow_list_is_not_retried_and_the_stack_is_kept_for_the_sweep() -> None:
    night = night_for()
    night.stack.scripts["destroy"].errors.append(cli_error("deleting RDS DB Instance: AccessDenied: not authorized"))
    result = run_target(AWS, RUN_ID, night.services())

    assert night.stack.ops() == ["up", "preview", "destroy"]
    assert night.clock.sleeps == []
    assert outcomes(result)["destroy"] == "failed"
    remove = next(p for p in result.phases if p.phase == "remove")
    assert remove.outcome == "skipped" and "leak sweep" in remove.detail


def test_retries_stop_after_the_allowed_attempts() -> None:
    night = night_for()
    night.stack.scripts["destroy"].errors += [cli_error("AnotherOperationInProgress: busy")] * 5
    result = run_target(AWS, RUN_ID, night.services(retry=RetryPolicy(attempts=3, delays=(5.0,))))

    assert night.stack.ops().count("destroy") == 3
    assert night.clock.sleeps == [5.0, 5.0]
    assert outcomes(result)["destroy"] == "failed"


def test_an_unmet_preflight_creates_nothing() -> None:
    night = night_for()
    environ = {key: value for key, value in ENVIRON.items() if key != "MATERIALIZE_LICENSE_KEY"}
    result = run_target(AWS, RUN_ID, night.services(environ=environ))

    assert night.opened == [] and night.stack.calls == []
    preflight = result.phases[0]
    assert preflight.outcome == "failed" and "MATERIALIZE_LICENSE_KEY" in preflight.detail
    assert [(p.phase, p.outcome) for p in result.phases[-2:]] == [("destroy", "skipped"), ("remove", "skipped")]


def test_a_policy_pack_without_its_virtualenv_fails_the_preflight(tmp_path: Path) -> None:
    night = night_for()
    pack = tmp_path / "policy"
    pack.mkdir()
    services = replace(night.services(), policy_packs=(str(pack),), policy_pack_problems=unready_policy_packs)
    result = run_target(AWS, RUN_ID, services)

    assert night.opened == []
    assert result.phases[0].outcome == "failed"
    assert f"python3 -m venv {pack}/venv" in result.phases[0].detail

    (pack / "venv" / "bin").mkdir(parents=True)
    (pack / "venv" / "bin" / "python").touch()
    assert unready_policy_packs([str(pack)]) == []


def test_a_failure_while_configuring_an_opened_stack_still_removes_it() -> None:
    night = night_for()
    night.stack.scripts["set_config"].errors.append(cli_error("invalid configuration key"))
    result = run_target(AWS, RUN_ID, night.services())

    assert outcomes(result)["configure"] == "failed"
    assert night.stack.ops() == ["destroy", "remove"]


def test_an_interrupted_night_still_destroys_before_the_interrupt_propagates() -> None:
    night = night_for()
    night.stack.scripts["up"].errors.append(KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        run_target(AWS, RUN_ID, night.services())
    assert night.stack.ops() == ["up", "destroy", "remove"]


def test_secrets_never_reach_the_report_or_the_log() -> None:
    night = night_for()
    night.probe_errors.append(ProbeError(f"login as mz_system with {PASSWORD} refused; license {LICENSE}"))
    result = run_target(AWS, RUN_ID, night.services())

    probe = next(p for p in result.phases if p.phase == "probe")
    assert probe.detail == "login as mz_system with **** refused; license ****"
    for text in (*night.progress, *night.log):
        assert PASSWORD not in text and LICENSE not in text


def test_cloud_targets_reach_the_cluster_with_the_exported_kubeconfig() -> None:
    night = night_for()
    run_target(AWS, RUN_ID, night.services())
    kind, instance, access = night.checked[0]
    assert (kind, access.kubeconfig, access.context) == ("ready", KUBECONFIG, None)
    assert (instance.namespace, instance.exposure, instance.crd_version) == ("materialize-main", "internal", "v1")


def test_the_local_target_reaches_its_cluster_with_its_own_kube_context(tmp_path: Path) -> None:
    (tmp_path / ".kube").mkdir()
    (tmp_path / ".kube" / "config").write_text("contexts:\n- name: kind-materialize\n  context: {}\n")
    local_outputs = {key: value for key, value in cloud_outputs().items() if key != "kubeconfig"}
    night = night_for("local", outputs=local_outputs)
    result = run_target(target_named("local"), RUN_ID, night.services(home=tmp_path))

    assert result.passed, result.phases
    _, instance, access = night.checked[0]
    assert access.kubeconfig == str(tmp_path / ".kube" / "config")
    assert access.context == "kind-materialize"
    assert instance.exposure == "clusterIP"


def test_the_calls_made_to_the_stack_are_valid_automation_api_calls() -> None:
    """The stand-in accepts anything; the real Stack's signatures must accept what the night passed."""
    night = night_for()
    run_target(AWS, RUN_ID, night.services())
    for op, options in night.stack.calls:
        if op == "remove":
            continue
        inspect.signature(getattr(Stack, op)).bind(None, **options)


def test_one_target_failing_never_stops_another_and_both_are_destroyed() -> None:
    # Both `up`s must be running at once to pass the barrier: the targets run in parallel.
    barrier = threading.Barrier(2, timeout=10)
    nights = {name: night_for(name, up_hook=barrier.wait) for name in ("aws", "gcp")}
    nights["aws"].stack.scripts["up"].errors.append(cli_error("creating EKS Cluster: ResourceLimitExceeded"))

    results = run_targets(
        [target_named("aws"), target_named("gcp")], RUN_ID, lambda target: nights[target.name].services()
    )

    assert [r.target for r in results] == ["aws", "gcp"]
    assert not results[0].passed and results[1].passed
    assert nights["aws"].stack.ops() == ["up", "destroy", "remove"]
    assert nights["gcp"].stack.ops() == ["up", "preview", "destroy", "remove"]


def test_a_target_whose_setup_breaks_is_reported_and_the_others_still_run() -> None:
    good = night_for("gcp")

    def services_for(target: object) -> object:
        if getattr(target, "name", "") == "aws":
            raise OSError("cannot open the log file")
        return good.services()

    results = run_targets([target_named("aws"), target_named("gcp")], RUN_ID, services_for)  # type: ignore[arg-type]
    assert results[0].phases[0].phase == "runner" and "cannot open the log file" in results[0].phases[0].detail
    assert results[1].passed


def test_error_summaries_keep_what_went_wrong_and_drop_the_noise() -> None:
    long_output = cli_error("creating EKS Cluster (ci): ResourceInUseException: exists")
    assert summarize_error(long_output) == "creating EKS Cluster (ci): ResourceInUseException: exists"
    assert summarize_error(KeyError("instances")) == "KeyError: 'instances'"
    assert summarize_error(RuntimeError("missing: the Pulumi CLI")) == "missing: the Pulumi CLI"
    assert summarize_error(RuntimeError("x" * 2000)).endswith("...")
