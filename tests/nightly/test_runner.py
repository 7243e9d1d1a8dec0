"""The real wiring of a night (log files, project directories, services), with only the CLI and cluster faked."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.nightly.fakes import ENVIRON, FakeStack
from tools.nightly import runner
from tools.nightly.reach import Instance, KubeAccess
from tools.nightly.runner import Console, RunSettings, run_night
from tools.nightly.targets import target_named
from tools.nightly.workspace import Backend

RUN_ID = "20250102t0300-9-1"


def test_a_night_writes_each_targets_engine_output_to_its_log_from_its_own_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in ENVIRON.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(runner.shutil, "which", lambda command: f"/usr/bin/{command}")
    events: list[str] = []
    opened: dict[str, Path] = {}

    def open_stack(name: str, work_dir: Path, backend: Backend) -> FakeStack:
        opened[name] = work_dir
        return FakeStack(name, events)

    def fake_check(settings: RunSettings) -> object:
        return lambda instance, access: f"{instance.name} fine"

    monkeypatch.setattr(runner, "open_stack", open_stack)
    monkeypatch.setattr(runner, "wait_ready", fake_check)
    monkeypatch.setattr(runner, "probe", fake_check)
    monkeypatch.setattr(runner, "support_check", fake_check)
    # A pack whose virtualenv exists, as the nightly setup makes it.
    pack = tmp_path / "policy"
    (pack / "venv" / "bin").mkdir(parents=True)
    (pack / "venv" / "bin" / "python").touch()
    settings = RunSettings(
        run_id=RUN_ID,
        backend=Backend("s3://state", "the-passphrase"),
        project_dir=tmp_path / "projects",
        report_dir=tmp_path / "reports",
        policy_packs=(str(pack),),
    )
    console = io.StringIO()

    results = run_night([target_named("aws"), target_named("gcp")], settings, Console(console))

    assert [r.passed for r in results] == [True, True]
    for target in ("aws", "gcp"):
        stack = f"ci-{target}-{RUN_ID}"
        assert opened[stack] == tmp_path / "projects" / target
        assert (opened[stack] / "Pulumi.yaml").exists()
        log = (tmp_path / "reports" / f"{target}.log").read_text()
        assert f"up of {stack}: engine output" in log and f"destroy of {stack}: engine output" in log
        assert f"[{target}] remove ... 0m00s ok" in console.getvalue()


def test_the_probe_runs_with_the_materialize_dialect_through_the_instances_address(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[tuple[str, str, str]] = []

    def run_probe(conninfo: str, names: object, dialect: object, timings: object) -> str:
        seen.append((conninfo, getattr(names, "table", ""), getattr(dialect, "name", "")))
        return "ok"

    monkeypatch.setattr(runner, "run_probe", run_probe)
    settings = RunSettings(RUN_ID, Backend("s3://s", "p"), tmp_path, tmp_path)
    instance = Instance("main", "materialize-main", "postgres://u:p@lb.example:6875/materialize", "public", "v1")
    assert runner.probe(settings)(instance, KubeAccess("kubeconfig")) == "ok"
    assert seen == [("postgres://u:p@lb.example:6875/materialize", "nightly_probe_20250102t0300_9_1", "materialize")]


def test_the_support_check_runs_through_the_instances_address_with_the_run_id(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[tuple[str, str]] = []

    def run_support_check(conninfo: str, run_id: str) -> str:
        seen.append((conninfo, run_id))
        return "ok"

    monkeypatch.setattr(runner, "run_support_check", run_support_check)
    settings = RunSettings(RUN_ID, Backend("s3://s", "p"), tmp_path, tmp_path)
    instance = Instance("main", "materialize-main", "postgres://u:p@lb.example:6875/materialize", "public", "v1")
    assert runner.support_check(settings)(instance, KubeAccess("kubeconfig")) == "ok"
    assert seen == [("postgres://u:p@lb.example:6875/materialize", RUN_ID)]
