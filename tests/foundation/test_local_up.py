"""scripts/local-up.sh names everything a machine lacks in one message, before any work.

The script runs with `--check` against a PATH of stand-in tools, so what it
finds is exactly what the test put there (whatever the machine running the
tests has installed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools.stack_files import ROOT, USER_STACK_PREFIX, stack_names

SCRIPT = ROOT / "scripts" / "local-up.sh"
GIB = 1024**3
# The plain utilities the script uses; every other command is a stand-in.
UTILITIES = ("dirname", "cat", "cut", "sha256sum", "grep", "cp", "mkdir")


def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _bin(tmp_path: Path, *tools: str, docker: str | None = None, python: Path | None = None) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(python or Path(sys.executable))
    for utility in UTILITIES:
        found = shutil.which(utility)
        assert found, utility
        (bin_dir / utility).symlink_to(found)
    for tool in tools:
        _stub(bin_dir, tool, "exit 0")
    if docker is not None:
        _stub(bin_dir, "docker", docker)
    return bin_dir


def _check(tmp_path: Path, bin_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # A copy, so that anything the script wrote would show up in tmp_path.
    (tmp_path / "scripts").mkdir(exist_ok=True)
    script = tmp_path / "scripts" / "local-up.sh"
    shutil.copy(SCRIPT, script)
    environ = {"PATH": str(bin_dir), "HOME": str(tmp_path), **env}
    bash = shutil.which("bash")
    assert bash
    return subprocess.run(
        [bash, str(script), "--check"], env=environ, capture_output=True, text=True, timeout=60, check=False
    )


def test_every_missing_tool_is_named_in_one_message(tmp_path: Path) -> None:
    result = _check(tmp_path, _bin(tmp_path))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "local-up: this machine is not ready:"
    for tool in ("pulumi", "kind", "docker"):
        assert sum(line.startswith(f"  - {tool} is not installed") for line in lines) == 1, tool
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "scripts"]
    assert not (tmp_path / "scripts" / "venv").exists()


def test_a_ready_machine_passes(tmp_path: Path) -> None:
    bin_dir = _bin(tmp_path, "pulumi", "kind", docker=f"echo 8 {16 * GIB}")
    result = _check(tmp_path, bin_dir)
    assert (result.returncode, result.stdout.strip()) == (0, "local-up: ready (stack user-local)"), result.stderr


def test_a_small_or_stopped_docker_is_named(tmp_path: Path) -> None:
    small = _check(tmp_path, _bin(tmp_path, "pulumi", "kind", docker=f"echo 2 {8 * GIB}"))
    assert small.returncode == 1
    assert "docker has 2 CPUs" in small.stderr and "docker has 8 GiB of memory" in small.stderr
    stopped = _check(tmp_path / "b", _bin(_mkdir(tmp_path / "b"), "pulumi", "kind", docker="exit 1"))
    assert "docker is installed but not running" in stopped.stderr


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def test_a_named_cluster_needs_neither_kind_nor_docker(tmp_path: Path) -> None:
    result = _check(tmp_path, _bin(tmp_path, "pulumi"), KUBE_CONTEXT="minikube")
    assert result.returncode == 0, result.stderr


def test_an_old_python_is_named(tmp_path: Path) -> None:
    old = tmp_path / "old-python"
    old.write_text('#!/bin/sh\ncase "$2" in *version_info*) exit 1;; *) echo 3.9.18;; esac\n')
    old.chmod(0o755)
    result = _check(tmp_path, _bin(tmp_path, "pulumi", "kind", docker=f"echo 8 {16 * GIB}", python=old))
    assert "python3 is 3.9.18; 3.11 or newer is needed" in result.stderr


def test_a_stack_that_git_would_track_is_refused(tmp_path: Path) -> None:
    result = _check(tmp_path, _bin(tmp_path, "pulumi"), KUBE_CONTEXT="minikube", LOCAL_STACK="local")
    assert result.returncode == 1 and "LOCAL_STACK=local" in result.stderr


def test_user_stacks_are_ignored_by_git_and_are_not_examples(tmp_path: Path) -> None:
    user_file = f"stacks/Pulumi.{USER_STACK_PREFIX}local.yaml"
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout")
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", user_file], cwd=ROOT, env={**os.environ}, check=False, timeout=30
    )
    assert ignored.returncode == 0, f"{user_file} is not git-ignored"
    (tmp_path / "stacks").mkdir()
    for name in ("local", "user-local", "aws"):
        (tmp_path / "stacks" / f"Pulumi.{name}.yaml").write_text("config: {}\n")
    assert stack_names(tmp_path) == ["aws", "local"]
