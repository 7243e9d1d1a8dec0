"""Pulumi.yaml, the README and CI agree with the settings model and each other."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tools.config_reference import key_docs, with_reference

ROOT = Path(__file__).resolve().parents[2]


def project() -> dict:
    return yaml.safe_load((ROOT / "Pulumi.yaml").read_text())


def test_project_runtime_and_stack_directory() -> None:
    document = project()
    assert document["name"] == "materialize"
    assert document["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    assert document["stackConfigDir"] == "stacks"
    # Not a template itself: templates/ holds them (tests/templates).
    assert "template" not in document


def test_every_typed_setting_is_declared_in_pulumi_yaml_with_its_default() -> None:
    declared = project()["config"]
    documented = {doc.key: doc for doc in key_docs()}
    typed = {key for key, doc in documented.items() if doc.pulumi_type is not None}
    assert set(declared) == typed, "Pulumi.yaml config and the settings model disagree"
    for key in typed:
        doc, declaration = documented[key], declared[key]
        assert declaration["type"] == doc.pulumi_type, key
        assert declaration["description"] == doc.description, key
        if doc.required or doc.default is None:
            assert "default" not in declaration, key
        else:
            assert declaration["default"] == doc.default, key
    assert declared["licenseKey"].get("secret") is True


def test_structured_settings_are_named_in_pulumi_yaml_comment() -> None:
    text = (ROOT / "Pulumi.yaml").read_text()
    for doc in key_docs():
        if doc.pulumi_type is None:
            assert re.search(rf"\b{doc.key}\b", text), f"{doc.key} is not mentioned in Pulumi.yaml"


def test_readme_configuration_reference_is_current() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme == with_reference(readme), "run: venv/bin/python -m tools.config_reference --update-readme"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in quick_start.strip().splitlines()]
    assert len(commands) == 2, "the quick start has exactly two commands"
    test_command = commands[1]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in [line.strip() for line in ci]
