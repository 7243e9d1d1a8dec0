"""The CI workflows: what makes a night trustworthy is checked here, not left to review.

The nightly workflow must get cloud credentials only through OIDC, build
its matrix from the runner's own target list, upload the report and sweep
for leaks whatever happened; the pull-request workflow must run exactly the
README's test command.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from policy import PACK_DIR
from tools.nightly import cli
from tools.nightly.targets import TARGETS
from tools.stack_files import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
SETUP_ACTION = ROOT / ".github" / "actions" / "nightly-setup" / "action.yml"
# Inputs that would carry a long-lived key instead of an OIDC exchange.
KEY_INPUTS = {"aws-access-key-id", "aws-secret-access-key", "credentials_json", "creds", "service_account_key"}


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as the boolean true.
    if True in document:
        document["on"] = document.pop(True)
    return document


def steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in document:
        return list(document["runs"]["steps"])
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def all_steps() -> list[dict[str, Any]]:
    return [*steps(load(WORKFLOWS / "nightly.yml")), *steps(load(WORKFLOWS / "pr.yml")), *steps(load(SETUP_ACTION))]


def readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Tests\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"`([^`]+)`", section)
    assert match is not None, "the README's Tests section names no command"
    return match.group(1)


@pytest.fixture(scope="module")
def nightly() -> dict[str, Any]:
    return load(WORKFLOWS / "nightly.yml")


def test_the_nightly_runs_on_a_schedule_and_on_demand_for_chosen_targets(nightly: dict[str, Any]) -> None:
    assert nightly["on"]["schedule"][0]["cron"]
    assert "targets" in nightly["on"]["workflow_dispatch"]["inputs"]


def test_cloud_credentials_come_from_oidc_only(nightly: dict[str, Any]) -> None:
    # Only the jobs that sign in get an OIDC token (tests/foundation/test_workflows_lint.py).
    assert all(nightly["jobs"][job]["permissions"]["id-token"] == "write" for job in ("night", "sweep"))
    uses = {step["uses"].split("@")[0]: step for step in all_steps() if "uses" in step}
    assert "role-to-assume" in uses["aws-actions/configure-aws-credentials"]["with"]
    assert "workload_identity_provider" in uses["google-github-actions/auth"]["with"]
    assert {"client-id", "tenant-id", "subscription-id"} <= set(uses["azure/login"]["with"])
    for step in all_steps():
        assert not KEY_INPUTS & set(step.get("with") or {}), step


def test_the_matrix_is_the_runners_target_list(nightly: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    jobs = nightly["jobs"]
    plan_step = next(s for s in jobs["plan"]["steps"] if s.get("id") == "targets")
    assert 'venv/bin/python -m tools.nightly targets --only "$ONLY"' in plan_step["run"]
    assert plan_step["env"]["ONLY"] == "${{ inputs.targets }}"
    for job in ("night", "sweep"):
        assert jobs[job]["strategy"]["matrix"]["target"] == "${{ fromJSON(needs.plan.outputs.targets) }}"
    assert jobs["night"]["strategy"]["fail-fast"] is False
    # What that step prints on a scheduled night (no input): every target of the one list.
    assert cli.main(["targets", "--only", ""]) == 0
    assert json.loads(capsys.readouterr().out) == [target.name for target in TARGETS]


def test_every_target_gets_what_its_run_needs_from_the_workflow(nightly: dict[str, Any]) -> None:
    conditions = [str(step.get("if", "")) for step in all_steps()]
    for target in TARGETS:
        if target.kubeconfig_from == "output":  # a cloud: it must sign in
            assert any(f"== '{target.name}'" in condition for condition in conditions), target.name
    kind = next(s for s in nightly["jobs"]["night"]["steps"] if str(s.get("uses", "")).startswith("helm/kind-action"))
    assert kind["if"] == "matrix.target == 'local'" and kind["with"]["cluster_name"] == "materialize"


def test_each_night_runs_the_runner_and_always_uploads_its_report(nightly: dict[str, Any]) -> None:
    night = nightly["jobs"]["night"]["steps"]
    run = next(s for s in night if s.get("name") == "Run")
    command = " ".join(run["run"].split())
    # Values reach the shell through the environment, never expanded into the script.
    assert command.startswith('venv/bin/python -m tools.nightly run --targets "$TARGET" ')
    assert run["env"] == {
        "TARGET": "${{ matrix.target }}",
        "RUN_LABEL": "${{ github.run_id }}-${{ github.run_attempt }}",
    }
    assert '--run-label "$RUN_LABEL"' in command
    assert command.endswith("--report-dir reports/nightly --durable-state")
    upload = next(s for s in night if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "reports/nightly/"
    assert night.index(upload) > night.index(run)


def test_the_sweep_runs_after_every_night_pass_or_fail(nightly: dict[str, Any]) -> None:
    sweep = nightly["jobs"]["sweep"]
    assert "night" in sweep["needs"]
    assert sweep["if"].startswith("always()")
    step = next(s for s in sweep["steps"] if s.get("name") == "Sweep")
    assert step["run"] == 'venv/bin/python -m tools.nightly sweep --older-than 6h --targets "$TARGET"'
    assert step["env"] == {"TARGET": "${{ matrix.target }}"}
    assert nightly["concurrency"]["cancel-in-progress"] is False


def test_the_pulumi_cli_is_the_sdks_version(nightly: dict[str, Any]) -> None:
    pin = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert pin is not None
    assert nightly["env"]["PULUMI_VERSION"] == pin.group(1)
    pulumi = next(s for s in steps(load(SETUP_ACTION)) if str(s.get("uses", "")).startswith("pulumi/actions"))
    assert pulumi["with"] == {"pulumi-version": "${{ inputs.pulumi-version }}"}


def test_the_setup_makes_the_policy_packs_virtualenv_from_its_requirements() -> None:
    script = "\n".join(str(step.get("run", "")) for step in steps(load(SETUP_ACTION)))
    assert "python -m venv policy/venv" in script
    assert "policy/venv/bin/pip install --quiet --disable-pip-version-check -r policy/requirements.txt" in script
    # The venv the pack's PulumiPolicy.yaml names, so the CLI uses this one.
    pack = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert pack["runtime"]["options"]["virtualenv"] == "venv"


def test_pull_requests_run_exactly_the_readme_test_command_and_the_offline_plan() -> None:
    pr = load(WORKFLOWS / "pr.yml")
    assert "pull_request" in pr["on"]
    commands = [s.get("run") for s in steps(pr)]
    assert readme_test_command() == "bash scripts/test.sh"
    assert readme_test_command() in commands
    assert "venv/bin/python -m tools.plan --all" in commands
    assert commands.index(readme_test_command()) < commands.index("venv/bin/python -m tools.plan --all")
    assert pr["permissions"] == {"contents": "read"}
