"""The GitHub workflows pass static checks: their JSON schemas and zizmor's audits.

Both tools run offline from the dev requirements (schemas vendored in
check-jsonschema; zizmor --offline skips only the audits that ask GitHub's
API). The project's own rules for actions are checked directly as well.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tools.stack_files import ROOT

GITHUB = ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
ACTIONS = sorted((GITHUB / "actions").glob("*/action.yml"))
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is in requirements-dev.txt; run scripts/test.sh to install it"
    return found


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120, check=False)


def test_workflows_and_actions_match_githubs_schemas() -> None:
    for schema, files in (("vendor.github-workflows", WORKFLOWS), ("vendor.github-actions", ACTIONS)):
        result = _run(_tool("check-jsonschema"), "--builtin-schema", schema, *files)
        assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing() -> None:
    result = _run(_tool("zizmor"), "--offline", "--no-progress", GITHUB)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_catches_an_action_pinned_to_a_tag(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    text = (GITHUB / "workflows" / "pr.yml").read_text()
    text = re.sub(r"actions/setup-python@[0-9a-f]{40} # \S+", "actions/setup-python@v5", text)
    (workflows / "pr.yml").write_text(text)
    result = _run(_tool("zizmor"), "--offline", "--no-progress", "--no-config", tmp_path / ".github")
    assert result.returncode != 0 and "unpinned-uses" in result.stdout + result.stderr


def _uses() -> list[tuple[Path, str]]:
    found = []
    for path in [*WORKFLOWS, *ACTIONS]:
        for line in path.read_text().splitlines():
            match = re.match(r"^\s*(?:- )?uses: (.+)$", line)
            if match:
                found.append((path, match.group(1).strip()))
    return found


def test_every_remote_action_is_pinned_by_commit_with_its_tag_beside() -> None:
    remote = [(path, uses) for path, uses in _uses() if not uses.startswith("./")]
    assert remote
    assert [(p.name, u) for p, u in remote if not PINNED.match(u)] == []


def test_checkouts_keep_no_credentials() -> None:
    for path in WORKFLOWS:
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job.get("steps", []):
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert (step.get("with") or {}).get("persist-credentials") is False, path.name


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_only_jobs_that_sign_in_may_ask_for_an_oidc_token(path: Path) -> None:
    document = yaml.safe_load(path.read_text())
    assert "id-token" not in (document.get("permissions") or {})
    for name, job in document["jobs"].items():
        signs_in = any(step.get("uses") == "./.github/actions/nightly-setup" for step in job.get("steps", []))
        assert ((job.get("permissions") or {}).get("id-token") == "write") == signs_in, name
