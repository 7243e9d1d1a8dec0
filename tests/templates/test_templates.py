"""The `pulumi new` templates (issue 21): valid project files, pinned to this
package's release, and programs that install exactly what the matching example
stack does.

A template's resources sit inside its `materialize:index:Install` component
(the example stack's sit at the stack), so URNs differ by that parent; the
comparison is of every custom resource's type, name and inputs.
"""

from __future__ import annotations

import json
import re
import runpy
import tomllib
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pulumi
import pytest
import yaml

from tests.harness.mocks import RealisticMocks, RecordingMonitor
from tests.harness.stack import LICENSE_KEY, Evaluation, evaluate, example_stack
from tests.templates.meta_schemas import errors
from tests.templates.schema_fixture import SCHEMA_FIXTURE
from tests.templates.test_provider import INSTALL, construct_main, secret

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
PYTHON_TEMPLATES = {"local": "local", "aws": "aws"}  # template -> example stack
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
VERSION = PYPROJECT["project"]["version"]
REPOSITORY = PYPROJECT["project"]["urls"]["Repository"].removeprefix("https://")


def project_file(template: str) -> dict[str, Any]:
    return yaml.safe_load((TEMPLATES / template / "Pulumi.yaml").read_text())


def test_the_templates_are_the_three_named() -> None:
    assert sorted(p.name for p in TEMPLATES.iterdir() if p.is_dir()) == ["aws", "local", "yaml"]


@pytest.mark.parametrize("template", ["local", "aws", "yaml"])
def test_each_project_file_is_valid_against_pulumis_project_schema(template: str) -> None:
    assert errors("pulumi-project.schema.json", project_file(template)) == []


def test_the_project_schema_check_can_fail() -> None:
    broken = {**project_file("local"), "runtime": {"name": "python", "toolchain": "pip"}}
    assert errors("pulumi-project.schema.json", broken)


@pytest.mark.parametrize("template", ["local", "aws", "yaml"])
def test_each_template_prompts_for_a_secret_license_key_and_says_what_next(template: str) -> None:
    section = project_file(template)["template"]
    assert section["config"]["licenseKey"]["secret"] is True
    assert "pulumi up" in section["quickstart"]
    readme = (TEMPLATES / template / "README.md").read_text()
    assert "pulumi new" in readme and "pulumi up" in readme


@pytest.mark.parametrize("template", ["local", "aws"])
def test_python_templates_pin_this_packages_release(template: str) -> None:
    lines = [
        line
        for line in (TEMPLATES / template / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    extra = "[aws]" if template == "aws" else ""
    assert lines == [f"materialize-pulumi{extra} @ git+https://{REPOSITORY}@v{VERSION}"]


def test_the_yaml_template_pins_the_plugin_at_this_release() -> None:
    assert project_file("yaml")["packages"] == {"materialize": f"{REPOSITORY}.git/provider@v{VERSION}"}


def test_the_package_dependencies_are_the_programs_pins() -> None:
    pins = {
        line.split("==")[0].lower(): line
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    declared = list(PYPROJECT["project"]["dependencies"])
    for extra in PYPROJECT["project"]["optional-dependencies"].values():
        declared += extra
    for requirement in declared:
        assert pins[requirement.split("==")[0].lower()] == requirement


def template_main(template: str) -> Any:
    """The template's program: its file run as the language host does, and the `main` it hands `pulumi.run`."""

    async def main() -> Any:
        programs: list[Any] = []
        with patch.object(pulumi, "run", programs.append):
            runpy.run_path(str(TEMPLATES / template / "__main__.py"), run_name="__main__")
        [program] = programs
        return await program()

    return main


def custom_resources(evaluation: Evaluation) -> dict[tuple[str, str], Any]:
    found = {(r.type, r.name): r.inputs for r in evaluation.registered if r.custom and not r.read}
    assert len(found) == len([r for r in evaluation.registered if r.custom and not r.read])
    return found


@pytest.mark.parametrize(("template", "stack"), PYTHON_TEMPLATES.items())
def test_python_template_installs_what_its_example_stack_does(template: str, stack: str) -> None:
    expected = evaluate(example_stack(stack), stack=stack)
    evaluated = evaluate({"licenseKey": LICENSE_KEY}, stack=stack, main=template_main(template))
    assert custom_resources(evaluated) == custom_resources(expected)
    [install] = evaluated.of_type(INSTALL)
    assert install.name == "materialize"
    # The same stack outputs, so the upgrade guard reads a template's stack as it reads the example's.
    assert evaluated.outputs == expected.outputs
    assert evaluated.secret_outputs == expected.secret_outputs


@pytest.mark.parametrize("template", PYTHON_TEMPLATES)
def test_python_templates_run_the_upgrade_guard(template: str) -> None:
    deployed = {"materializeVersion": "v99.0.0", "instances": {}}
    monitor = RecordingMonitor(RealisticMocks(None))
    with pytest.raises(pulumi.RunError, match="cannot be downgraded"):
        evaluate({"licenseKey": LICENSE_KEY}, main=template_main(template), previous_outputs=deployed, monitor=monitor)
    assert not [r for r in monitor.registered if r.custom and not r.read]


def test_the_yaml_templates_types_and_properties_exist_in_the_schema() -> None:
    schema = json.loads(SCHEMA_FIXTURE.read_text())
    program = project_file("yaml")
    for name, resource in program["resources"].items():
        assert resource["type"] in schema["resources"], name
        inputs = schema["resources"][resource["type"]]["inputProperties"]
        assert set(resource["properties"]) <= set(inputs), name
    properties = {
        f"{name}.{key}"
        for name, resource in program["resources"].items()
        for key in schema["resources"][resource["type"]]["properties"]
    }
    for output, expression in program["outputs"].items():
        [reference] = re.fullmatch(r"\$\{(.+)\}", expression).groups()  # type: ignore[union-attr]
        assert reference in properties, output


def test_the_yaml_template_installs_what_the_local_example_stack_does() -> None:
    # Its properties, as the engine would send them to the provider (config
    # references resolved, the license key a secret), constructed in-process.
    program = project_file("yaml")
    [resource] = program["resources"].values()
    config = {"licenseKey": secret(LICENSE_KEY), "kubeContext": program["config"]["kubeContext"]["default"]}

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and (m := re.fullmatch(r"\$\{(\w+)\}", value)):
            return config[m.group(1)]
        return value

    inputs = {key: resolve(value) for key, value in resource["properties"].items()}
    expected = evaluate(example_stack("local"), stack="local")
    evaluated = evaluate({}, stack="local", main=construct_main(inputs))
    assert custom_resources(evaluated) == custom_resources(expected)


def test_the_comparison_sees_a_changed_setting() -> None:
    # The local example with a bigger Postgres volume is not what the local template installs.
    changed = evaluate(example_stack("local", local={"postgresStorage": "11Gi", "objectStoreStorage": "20Gi"}))
    evaluated = evaluate({"licenseKey": LICENSE_KEY}, main=template_main("local"))
    assert len(custom_resources(evaluated)) > 20
    assert set(custom_resources(changed)) == set(custom_resources(evaluated))
    assert custom_resources(changed) != custom_resources(evaluated)


def test_the_package_holds_everything_the_components_import() -> None:
    # pyproject.toml packages components* and materialize_pulumi*: nothing they
    # import from this repository may live anywhere else (tools, tests, policy).
    import ast

    first_party = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    packaged = {"components", "materialize_pulumi"}
    assert packaged <= first_party
    for package in packaged:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    roots = {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    roots = {node.module.split(".")[0]}
                else:
                    continue
                assert not (roots & first_party) - packaged, f"{path.relative_to(ROOT)} imports {roots}"


def test_the_changelog_has_an_entry_for_this_version() -> None:
    headings = re.findall(r"^## (.+)$", (ROOT / "CHANGELOG.md").read_text(), flags=re.MULTILINE)
    assert headings[0].split()[0] == VERSION
