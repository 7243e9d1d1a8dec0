"""The pack as the Pulumi CLI loads it: its entry point, project file and pinned requirements."""

from __future__ import annotations

import re
import runpy
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi_policy
import pytest
import yaml
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.version import VERSION

from policy import PACK_DIR
from policy.materialize_policies import PACK_NAME, POLICIES

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def entry_point_run(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    # The real PolicyPack would start a gRPC server and never return.
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kwargs: calls.append(kwargs))
    try:
        # Exactly what the CLI's analyzer does: run the pack directory as __main__.
        runpy.run_path(str(PACK_DIR), run_name="__main__")
        assert len(calls) == 1
        yield calls[0]
    finally:
        # The CLI imports the rules as a top-level package; keep that copy out of other tests.
        for name in [m for m in sys.modules if m == "materialize_policies" or m.startswith("materialize_policies.")]:
            del sys.modules[name]


def test_entry_point_assembles_exactly_the_rules_of_the_module(entry_point_run: dict[str, Any]) -> None:
    assert entry_point_run["name"] == PACK_NAME
    assert [(type(p), p.name, p.description) for p in entry_point_run["policies"]] == [
        (type(p), p.name, p.description) for p in POLICIES
    ]
    assert entry_point_run["enforcement_level"] is EnforcementLevel.MANDATORY


def test_every_rule_is_a_mandatory_policy_with_a_unique_name() -> None:
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names)) == 14
    for policy in POLICIES:
        assert isinstance(policy, ResourceValidationPolicy | StackValidationPolicy)
        assert policy.enforcement_level is EnforcementLevel.MANDATORY, policy.name
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", policy.name), policy.name


def test_pack_directory_is_a_python_policy_project() -> None:
    assert PACK_DIR == ROOT / "policy"
    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    assert re.fullmatch(r"\d+\.\d+\.\d+", project["version"])
    assert (PACK_DIR / "__main__.py").is_file()


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==(\S+)", line.split("#", 1)[0].strip())
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def test_pack_requirements_pin_what_the_project_pins() -> None:
    pack = pins(PACK_DIR / "requirements.txt")
    assert set(pack) == {"pulumi", "pulumi-policy"}
    assert pack["pulumi"] == pins(ROOT / "requirements.txt")["pulumi"]
    assert pack["pulumi-policy"] == pins(ROOT / "requirements-dev.txt")["pulumi-policy"] == VERSION
