"""The dependency-update configuration (renovate.json) finds every pin the program has.

Renovate's custom managers are regular expressions over files; one that stops
matching (a pin renamed or moved) fails silently there, so it fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from components import versions
from components.dataplane import logging_values, monitoring_values
from components.targets.aws import pins as aws_pins
from tools.stack_files import ROOT

CONFIG = json.loads((ROOT / "renovate.json").read_text())
MANAGERS: list[dict[str, Any]] = CONFIG["customManagers"]


def _python_regex(pattern: str) -> re.Pattern[str]:
    # Renovate writes named groups the ECMAScript way.
    return re.compile(pattern.replace("(?<", "(?P<"))


def _files(manager: dict[str, Any]) -> list[Path]:
    patterns = [_python_regex(p.strip("/")) for p in manager["managerFilePatterns"]]
    candidates = [p for p in ROOT.rglob("*") if p.is_file() and "venv" not in p.relative_to(ROOT).parts]
    return sorted(p for p in candidates if any(pat.search(p.relative_to(ROOT).as_posix()) for pat in patterns))


def _matches(manager: dict[str, Any]) -> list[dict[str, str]]:
    found = []
    for path in _files(manager):
        text = path.read_text()
        for pattern in manager["matchStrings"]:
            found += [match.groupdict() for match in _python_regex(pattern).finditer(text)]
    return found


def _manager(description_start: str) -> dict[str, Any]:
    return next(m for m in MANAGERS if m["description"].startswith(description_start))


@pytest.mark.parametrize(
    ("description", "pinned"),
    [
        ("Materialize operator chart", versions.DEFAULT_MATERIALIZE_VERSION),
        ("cert-manager chart", versions.CERT_MANAGER_VERSION),
        ("AWS Load Balancer Controller chart", aws_pins.LOAD_BALANCER_CONTROLLER_VERSION),
        ("metrics-server chart (aws", aws_pins.METRICS_SERVER_VERSION),
        ("kube-prometheus-stack chart", monitoring_values.STACK_VERSION),
        ("metrics-server chart (monitoring", monitoring_values.METRICS_SERVER_VERSION),
        ("Grafana Alloy chart", logging_values.ALLOY_VERSION),
        ("Loki chart", logging_values.LOKI_VERSION),
    ],
)
def test_each_chart_manager_finds_its_pin_exactly_once(description: str, pinned: str) -> None:
    manager = _manager(description)
    assert [m["currentValue"] for m in _matches(manager)] == [pinned]
    assert manager["datasourceTemplate"] == "helm" and manager["registryUrlTemplate"].startswith("https://")


def test_every_container_image_the_program_pins_is_found() -> None:
    found = {f"{m['depName']}:{m['currentValue']}" for m in _matches(_manager("Container images"))}
    images = set()
    for path in (ROOT / "components").rglob("*.py"):
        # Tagged references; environmentd's tag is the Materialize version (the chart manager).
        images |= set(re.findall(r"\"(docker\.io/[^\":]+:[^\"]+)\"", path.read_text()))
    assert images and found == images


def test_a_manager_that_no_longer_matches_is_caught() -> None:
    renamed = {
        **_manager("cert-manager chart"),
        "matchStrings": ['CERT_MANAGER_CHART_VERSION = "(?<currentValue>v[^"]+)"'],
    }
    assert _matches(renamed) == []


def test_python_requirements_and_workflows_are_left_to_renovates_own_managers() -> None:
    # pip_requirements matches requirements*.txt anywhere; github-actions, .github/workflows.
    assert "enabledManagers" not in CONFIG
    assert {p.name for p in ROOT.rglob("requirements*.txt") if "venv" not in p.parts} >= {
        "requirements.txt",
        "requirements-dev.txt",
    }
