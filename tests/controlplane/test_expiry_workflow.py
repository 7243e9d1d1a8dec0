"""The scheduled expiry (.github/workflows/support-expiry.yml): reconcile runs hourly on every named support stack.

The workflow's shell steps are run here for real with bash, with a stand-in for
the venv's Python that records its arguments, so the word splitting of the stack
list and the check of the state backend's cloud are tested, not only read.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.nightly.test_workflows import load
from tools.stack_files import ROOT
from tools.support.cli import _parser

WORKFLOW = ROOT / ".github" / "workflows" / "support-expiry.yml"
BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="bash is not on PATH")


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return load(WORKFLOW)


def _step(workflow: dict[str, Any], name: str) -> dict[str, Any]:
    return next(step for step in workflow["jobs"]["reconcile"]["steps"] if step.get("name") == name)


def _run(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BASH), "-e", "-c", script],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_it_runs_every_hour_and_never_twice_at_once(workflow: dict[str, Any]) -> None:
    (schedule,) = workflow["on"]["schedule"]
    minute, hour, *rest = schedule["cron"].split()
    assert minute.isdigit() and hour == "*" and rest == ["*", "*", "*"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["jobs"]["reconcile"]["if"] == "vars.SUPPORT_STACKS != ''"


def test_it_signs_in_through_the_nightly_setup_for_the_state_backends_cloud(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["reconcile"]
    setup = next(step for step in job["steps"] if step.get("uses") == "./.github/actions/nightly-setup")
    assert setup["with"]["target"] == "${{ vars.SUPPORT_STATE_CLOUD }}"
    assert job["permissions"]["id-token"] == "write"
    for cloud in ("AWS", "GCP", "AZURE"):
        assert workflow["env"][f"PULUMI_BACKEND_URL_{cloud}"] == "${{ vars.SUPPORT_PULUMI_BACKEND_URL }}"


@pytest.mark.parametrize(("cloud", "ok"), [("aws", True), ("gcp", True), ("azure", True), ("none", True), ("", False)])
def test_an_unknown_state_cloud_stops_the_run_with_the_allowed_values(
    workflow: dict[str, Any], tmp_path: Path, cloud: str, ok: bool
) -> None:
    done = _run(
        _step(workflow, "The state backend's cloud is one the setup knows")["run"], tmp_path, {"STATE_CLOUD": cloud}
    )
    assert (done.returncode == 0) == ok
    if not ok:
        assert "aws, gcp, azure or none" in done.stdout


@pytest.mark.parametrize("dry_run", ["", "--dry-run"])
def test_the_reconcile_step_passes_each_stack_as_its_own_argument(
    workflow: dict[str, Any], tmp_path: Path, dry_run: str
) -> None:
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$(dirname "$0")/args"\n')
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    step = _step(workflow, "Reconcile")
    assert set(step["env"]) == {"STACKS", "DRY_RUN"}
    done = _run(step["run"], tmp_path, {"STACKS": "support-acme support-globex", "DRY_RUN": dry_run})
    assert done.returncode == 0, done.stderr
    argv = (tmp_path / "venv" / "bin" / "args").read_text().split()
    assert argv[:2] == ["-m", "tools.support"]
    args = _parser().parse_args(argv[2:])
    assert args.command == "reconcile-stacks"
    assert args.stacks == ["support-acme", "support-globex"]
    assert args.dry_run is bool(dry_run)
