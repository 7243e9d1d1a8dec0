"""Stack names, the state backend, the separate project directory, and the command line."""

from __future__ import annotations

import inspect
import json
import stat
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi import automation

from tools.nightly import cli
from tools.nightly.naming import new_run_id, parse_stack_name, short_name_prefix, stack_name
from tools.nightly.sweep import AutomationSweepBackend
from tools.nightly.workspace import Backend, open_stack, prepare_project_dir, resolve_backend
from tools.stack_files import ROOT


def test_run_ids_start_with_the_utc_start_time_and_stack_names_carry_it() -> None:
    moment = datetime(2025, 1, 2, 4, 5, tzinfo=timezone(timedelta(hours=1)))
    assert new_run_id(moment) == "20250102t0305"
    assert new_run_id(moment, "12345/Attempt 2") == "20250102t0305-12345-attempt-2"
    assert new_run_id(moment, "x" * 40) == "20250102t0305-" + "x" * 24
    name = stack_name("azure", new_run_id(moment, "9-1"))
    parsed = parse_stack_name(name)
    assert parsed is not None
    assert (parsed.target, parsed.started_at) == ("azure", datetime(2025, 1, 2, 3, 5, tzinfo=UTC))
    assert parse_stack_name("ci-azure") is None and parse_stack_name("prod-aws-20250102t0305") is None


def test_short_prefixes_fit_every_cloud_and_differ_per_stack() -> None:
    first, second = short_name_prefix("ci-gcp-20250102t0305"), short_name_prefix("ci-gcp-20250103t0305")
    assert first != second and len(first) == 13 and first.startswith("ci-")


def test_the_project_directory_runs_the_checkouts_program_with_its_own_stack_files(tmp_path: Path) -> None:
    directory = prepare_project_dir(tmp_path / "project")
    project = yaml.safe_load((directory / "Pulumi.yaml").read_text())
    original = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())

    assert "stackConfigDir" not in project
    assert project["name"] == original["name"] and project["config"] == original["config"]
    assert project["runtime"]["options"]["virtualenv"] == str((ROOT / "venv").resolve())
    assert (directory / "components").resolve() == (ROOT / "components").resolve()
    assert (directory / "__main__.py").resolve() == (ROOT / "__main__.py").resolve()
    # The virtualenv the CLI would use imports the program from there.
    imported = subprocess.run(
        [str(ROOT / "venv" / "bin" / "python"), "-c", "import components.program"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr
    # Preparing again (the sweep, a retry) is harmless.
    prepare_project_dir(directory)


def test_the_default_backend_is_a_local_file_with_a_passphrase_kept_for_later_runs(tmp_path: Path) -> None:
    first = resolve_backend(None, {}, root=tmp_path)
    second = resolve_backend(None, {}, root=tmp_path)

    assert first.url == (tmp_path / ".pulumi-state" / "nightly").as_uri()
    assert first.passphrase == second.passphrase and len(first.passphrase) >= 32
    passphrase_file = tmp_path / ".pulumi-state" / "nightly" / ".passphrase"
    assert stat.S_IMODE(passphrase_file.stat().st_mode) == 0o600
    assert first.passphrase not in repr(first)
    env = first.env_vars()
    assert env["PULUMI_BACKEND_URL"] == first.url and env["PULUMI_CONFIG_PASSPHRASE"] == first.passphrase


def test_a_configured_backend_needs_its_passphrase(tmp_path: Path) -> None:
    environ = {"PULUMI_BACKEND_URL": "s3://nightly-state", "PULUMI_CONFIG_PASSPHRASE": "p4ss"}
    assert resolve_backend(None, environ, root=tmp_path).url == "s3://nightly-state"
    assert resolve_backend("gs://other", environ, root=tmp_path).url == "gs://other"
    with pytest.raises(ValueError, match="PULUMI_CONFIG_PASSPHRASE must be set for s3://nightly-state"):
        resolve_backend(None, {"PULUMI_BACKEND_URL": "s3://nightly-state"}, root=tmp_path)
    assert not (tmp_path / ".pulumi-state").exists()


def test_the_targets_command_prints_the_job_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["targets"]) == 0
    assert json.loads(capsys.readouterr().out) == ["aws", "gcp", "azure", "local"]
    assert cli.main(["targets", "--only", "azure,aws"]) == 0
    assert json.loads(capsys.readouterr().out) == ["aws", "azure"]
    assert cli.main(["targets", "--only", "ibm"]) == 2
    assert "no nightly target 'ibm'" in capsys.readouterr().err


def test_a_run_that_cannot_start_fails_with_reports_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MATERIALIZE_LICENSE_KEY", raising=False)
    monkeypatch.setenv("PULUMI_BACKEND_URL", (tmp_path / "state").as_uri())
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "step-summary.md"))
    reports = tmp_path / "reports"

    assert cli.main(["run", "--targets", "gcp", "--run-label", "5-1", "--report-dir", str(reports)]) == 1

    out = capsys.readouterr().out
    assert "[gcp] preflight ... 0m00s FAILED: missing: " in out
    assert "MATERIALIZE_LICENSE_KEY" in out
    suite = ET.parse(reports / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("name") == "gcp" and suite.get("failures") == "1"
    assert (tmp_path / "step-summary.md").read_text() == (reports / "summary.md").read_text()
    assert not (tmp_path / "state").exists()


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sweep", "--older-than", "soon"]) == 2
    assert "'soon' is not an age" in capsys.readouterr().err
    assert cli.main(["run", "--targets", "aws,ibm"]) == 2


def test_the_sweep_without_the_pulumi_cli_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("tools.nightly.cli.shutil.which", lambda name: None)
    assert cli.main(["sweep", "--dry-run"]) == 2
    assert "the Pulumi CLI is not on PATH" in capsys.readouterr().err


def test_ci_refuses_to_keep_cloud_state_on_the_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test")
    monkeypatch.setattr("tools.nightly.workspace.ROOT", tmp_path)
    reports = tmp_path / "reports"
    assert cli.main(["run", "--targets", "aws,local", "--durable-state", "--report-dir", str(reports)]) == 2
    assert f"aws: a file backend ({(tmp_path / '.pulumi-state' / 'nightly').as_uri()}) dies" in capsys.readouterr().err
    assert not reports.exists()


class SignatureChecked:
    """Records calls, after checking each against the real Automation API class's signature."""

    def __init__(self, real: type) -> None:
        self.real = real
        self.calls: list[tuple[str, tuple[object, ...], dict[str, object]]] = []

    def __getattr__(self, name: str) -> Callable[..., list[object]]:
        method = getattr(self.real, name)

        def call(*args: object, **kwargs: object) -> list[object]:
            inspect.signature(method).bind(self, *args, **kwargs)
            self.calls.append((name, args, kwargs))
            return []

        return call


def test_stacks_open_on_the_backend_with_the_passphrase_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def create_or_select_stack(**kwargs: Any) -> str:
        inspect.signature(automation.create_or_select_stack).bind(**kwargs)
        seen.update(kwargs)
        return "the stack"

    monkeypatch.setattr(automation, "create_or_select_stack", create_or_select_stack)
    assert open_stack("ci-aws-x", tmp_path, Backend("s3://state", "p4ss")) == "the stack"
    assert (seen["stack_name"], seen["work_dir"]) == ("ci-aws-x", str(tmp_path))
    options = seen["opts"]
    assert options.secrets_provider == "passphrase"
    assert options.env_vars["PULUMI_BACKEND_URL"] == "s3://state"
    assert options.env_vars["PULUMI_CONFIG_PASSPHRASE"] == "p4ss"


def test_the_sweep_makes_valid_automation_api_calls() -> None:
    workspace = SignatureChecked(automation.LocalWorkspace)
    stack = SignatureChecked(automation.Stack)
    lines: list[str] = []
    backend = AutomationSweepBackend(workspace, lambda name: stack, lines.append)

    assert backend.list_stacks() == []
    backend.refresh_config("ci-aws-x")
    backend.destroy("ci-aws-x")
    backend.remove_stack("ci-aws-x", True)
    assert [call[0] for call in workspace.calls] == ["list_stacks", "refresh_config", "remove_stack"]
    assert workspace.calls[-1] == ("remove_stack", ("ci-aws-x",), {"force": True})
    assert stack.calls[0][0] == "destroy" and stack.calls[0][2]["on_output"] == lines.append
