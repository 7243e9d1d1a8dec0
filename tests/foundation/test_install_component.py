"""`materialize:index:Install` (issue 21, step 1): the install as one component.

Under mocks: built from inputs, it registers the same resources as the stack
program does from the same settings, all inside it; bad inputs fail with the
stack program's error and register nothing.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.install import Install, InstallArgs, config_from_args
from tests.harness.mocks import RealisticMocks, RecordingMonitor
from tests.harness.stack import LICENSE_KEY, byo_config, evaluate

INSTALL = "materialize:index:Install"

BYO_ARGS: InstallArgs = {
    "target": "byo",
    "license_key": LICENSE_KEY,
    "kubeconfig": "/etc/kubeconfig/cluster.yaml",
    "kube_context": "prod",
    "metadata_backend_url": "postgres://materialize@db.example.internal:5432/materialize?sslmode=require",
    "persist_backend_url": "s3://materialize-persist/main?region=us-east-1",
}


def install_main(args: InstallArgs) -> Any:
    async def main() -> dict[str, Any]:
        return Install("materialize-install", args).outputs

    return main


def test_inputs_map_onto_the_settings_keys() -> None:
    assert config_from_args(BYO_ARGS) == byo_config()


def test_it_registers_what_the_stack_program_does_all_inside_it() -> None:
    program = evaluate(byo_config())
    component = evaluate({}, main=install_main(BYO_ARGS))
    [install] = component.of_type(INSTALL)

    def custom(evaluation: Any) -> list[tuple[str, str]]:
        return sorted((r.type, r.name) for r in evaluation.registered if r.custom and not r.read)

    assert custom(component) == custom(program)

    def at_stack_level(evaluation: Any) -> list[str]:
        return [r.name for r in evaluation.registered if "pulumi:pulumi:Stack::" in r.parent]

    # The stack program's components sit at the stack; the component's sit inside it.
    assert at_stack_level(program)
    assert at_stack_level(component) == ["materialize-install"]
    assert any(r.parent == install.urn for r in component.registered)
    assert component.outputs["target"] == "byo"


@pytest.mark.parametrize(
    ("change", "named"),
    [({"target": "nowhere"}, "target"), ({"license_key": None}, "licenseKey"), ({"version": "26.1"}, "version")],
)
def test_bad_inputs_fail_cleanly_and_register_nothing(change: dict[str, Any], named: str) -> None:
    args: dict[str, Any] = {**BYO_ARGS, **change}
    monitor = RecordingMonitor(RealisticMocks(None))
    with pytest.raises(pulumi.RunError) as raised:
        evaluate({}, main=install_main(args), monitor=monitor)  # type: ignore[arg-type]
    assert named in str(raised.value)
    assert monitor.registered == []
