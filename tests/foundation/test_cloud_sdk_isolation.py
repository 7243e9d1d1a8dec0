"""A cloud's SDK is imported only inside that cloud's target."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from components.settings.target_sections import TARGET_SECTIONS
from tools.stack_files import stack_names

ROOT = Path(__file__).resolve().parents[2]
SDKS = {"pulumi_aws": "aws", "pulumi_gcp": "gcp", "pulumi_azure_native": "azure"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_cloud_sdks_are_imported_only_by_their_target() -> None:
    offenders = []
    for path in sorted((ROOT / "components").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for sdk, cloud in SDKS.items():
            if sdk in imported_modules(path) and not relative.startswith(f"components/targets/{cloud}/"):
                offenders.append(f"{relative} imports {sdk}")
    assert offenders == []


SECTION_MODULES = {module for module, _ in TARGET_SECTIONS.values()}
STACK_SDKS = {
    "byo": set(),
    "support": set(),
    "local": set(),
    "aws": {"pulumi_aws"},
    "gcp": {"pulumi_gcp"},
    "azure": {"pulumi_azure_native"},
}


def test_every_example_stack_is_covered() -> None:
    assert set(STACK_SDKS) == set(stack_names())


# Only support stacks load the control plane; installs never depend on it.
CONTROL_PLANE_STACKS = {"support"}


@pytest.mark.parametrize("stack", sorted(STACK_SDKS))
def test_evaluating_a_stack_loads_only_its_own_cloud_sdk(stack: str) -> None:
    code = (
        "import sys; from tools import plan; "
        f"assert plan.main(['--stack', {stack!r}]) == 0; "
        f"print(sorted(m for m in sys.modules if m in {sorted(SDKS)!r})); "
        "print('components.controlplane' in sys.modules); "
        f"print(sorted(m for m in sys.modules if m in {sorted(SECTION_MODULES)!r}))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    *_, sdks, control_plane, sections = result.stdout.strip().splitlines()
    assert sdks == str(sorted(STACK_SDKS[stack]))
    assert control_plane == str(stack in CONTROL_PLANE_STACKS)
    # Only the stack's own target settings are validated, so only they are imported (issue 14 item 3).
    own = [f"components.settings.{stack}"] if stack in TARGET_SECTIONS else []
    assert sections == str(own)
