"""The component provider (issue 21): its schema, generated offline from the Python
types by Pulumi's analyzer, and constructing Install through it in-process.

The provider's `construct` is what the plugin's gRPC server calls for the
engine's Construct request (pulumi/provider/server.py `_construct`); here it
runs inside a mocked program, so what it registers is recorded as usual.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from pulumi.provider.server import ProviderServicer
from pulumi.runtime import rpc

from components.component_provider import PACKAGE, MaterializeProvider, package_version
from components.install import InstallArgs
from components.settings import SECRET_KEYS
from components.settings.model import Settings
from tests.harness.mocks import RealisticMocks, RecordingMonitor
from tests.harness.stack import LICENSE_KEY, byo_config, evaluate
from tests.templates.meta_schemas import errors
from tests.templates.schema_fixture import SCHEMA_FIXTURE, generated_schema, schema_text

INSTALL = f"{PACKAGE}:index:Install"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return generated_schema()


def test_the_schema_matches_the_checked_in_fixture(schema: dict[str, Any]) -> None:
    # A change of inputs or outputs must show up in review: regenerate with
    # `venv/bin/python -m tests.templates.schema_fixture` and commit the diff.
    assert schema_text(schema) == SCHEMA_FIXTURE.read_text()


def test_the_schema_is_a_valid_pulumi_package_schema(schema: dict[str, Any]) -> None:
    # pulumi/pulumi pkg/codegen/schema/pulumi.json, vendored (tests/templates/meta_schemas.py).
    assert errors("pulumi-package.schema.json", schema) == []


def test_the_token_and_version(schema: dict[str, Any]) -> None:
    assert schema["name"] == "materialize"
    assert schema["version"] == package_version()
    assert list(schema["resources"]) == [INSTALL]
    assert schema["resources"][INSTALL]["isComponent"] is True


def test_every_settings_key_is_an_input_with_a_type_and_a_description(schema: dict[str, Any]) -> None:
    inputs = schema["resources"][INSTALL]["inputProperties"]
    config_keys = {field.alias or name for name, field in Settings.model_fields.items()}
    assert set(inputs) == config_keys
    assert set(InstallArgs.__annotations__) == set(Settings.model_fields)
    for key, prop in inputs.items():
        assert prop.get("description"), key
        assert prop.get("type") or prop.get("$ref"), key
    # All optional: a missing one is the settings model's to refuse, with the stack program's error.
    assert schema["resources"][INSTALL]["requiredInputs"] == []


def test_credential_inputs_and_outputs_are_secret_and_nothing_else(schema: dict[str, Any]) -> None:
    install = schema["resources"][INSTALL]
    assert {k for k, p in install["inputProperties"].items() if p.get("secret")} == SECRET_KEYS
    assert {k for k, p in install["properties"].items() if p.get("secret")} == {"connectionStrings", "targetOutputs"}
    # Secrets must be accepted as outputs (an SDK's secret config), so they are not plain.
    for key in SECRET_KEYS:
        assert "plain" not in install["inputProperties"][key], key


def test_every_output_has_a_type_and_a_description(schema: dict[str, Any]) -> None:
    outputs = schema["resources"][INSTALL]["properties"]
    stack_outputs = {"target", "materializeVersion", "crdVersion", "instances", "connectionStrings"}
    assert set(outputs) == stack_outputs | {"targetOutputs"}
    for key, prop in outputs.items():
        assert prop.get("description") and (prop.get("type") or prop.get("$ref")), key


def secret(value: str) -> dict[str, Any]:
    """A value as the engine sends a secret input over the wire."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}  # pyright: ignore[reportPrivateUsage]


def construct_main(inputs: dict[str, Any]) -> Any:
    """A program that constructs Install the way the plugin's server does for the engine."""

    async def main() -> dict[str, Any]:
        # Over the wire as the engine sends them (a protobuf Struct: every number a
        # float), then the server's own input handling (secrets become resolved secret Outputs).
        wire = await rpc.serialize_properties(inputs, {})
        received = await ProviderServicer._construct_inputs(wire, {})  # pyright: ignore[reportPrivateUsage]
        result = MaterializeProvider().construct("materialize-install", INSTALL, received)
        return {"urn": result.urn, **result.state}

    return main


BYO_INPUTS: dict[str, Any] = {**byo_config(), "licenseKey": secret(LICENSE_KEY)}


def test_constructed_through_the_provider_it_registers_what_the_stack_program_does() -> None:
    program = evaluate(byo_config())
    hosted = evaluate({}, main=construct_main(BYO_INPUTS))

    def custom(evaluation: Any) -> list[tuple[str, str]]:
        return sorted((r.type, r.name) for r in evaluation.registered if r.custom and not r.read)

    assert custom(hosted) == custom(program)
    [install] = hosted.of_type(INSTALL)
    assert hosted.outputs["urn"] == install.urn
    assert hosted.outputs["target"] == "byo"
    assert hosted.outputs["instances"]["main"]["environmentId"] == program.outputs["instances"]["main"]["environmentId"]
    assert {"connectionStrings"} <= hosted.secret_outputs


@pytest.mark.parametrize(
    "change",
    [
        {"target": "nowhere"},
        {"version": "26.1"},
        {"instances": [{"name": "Prod_DB"}]},
        {"metadataBackendUrl": "postgres://m:hunter2@db/materialize"},
    ],
)
def test_bad_inputs_fail_with_the_stack_programs_error_and_register_nothing(change: dict[str, Any]) -> None:
    with pytest.raises(pulumi.RunError) as from_program:
        evaluate(byo_config(**change))
    monitor = RecordingMonitor(RealisticMocks(None))
    with pytest.raises(pulumi.RunError) as from_provider:
        evaluate({}, main=construct_main({**BYO_INPUTS, **change}), monitor=monitor)
    # The same clean text, not wrapped with a traceback by the provider.
    assert str(from_provider.value) == str(from_program.value)
    assert monitor.registered == []


def test_a_missing_license_key_fails_as_in_the_stack_program() -> None:
    without = {k: v for k, v in BYO_INPUTS.items() if k != "licenseKey"}
    with pytest.raises(pulumi.RunError) as from_program:
        evaluate({k: v for k, v in byo_config().items() if k != "licenseKey"}, secret_keys=())
    with pytest.raises(pulumi.RunError) as from_provider:
        evaluate({}, main=construct_main(without))
    assert str(from_provider.value) == str(from_program.value)
    assert "licenseKey" in str(from_provider.value)


def test_an_input_that_is_not_known_yet_is_refused_by_name() -> None:
    async def main() -> dict[str, Any]:
        # Another resource's output: still pending when Install validates its inputs.
        pending = pulumi.Output.from_input(LICENSE_KEY).apply(lambda key: key)
        MaterializeProvider().construct("materialize-install", INSTALL, {**byo_config(), "licenseKey": pending})
        return {}

    monitor = RecordingMonitor(RealisticMocks(None))
    with pytest.raises(pulumi.RunError, match="input licenseKey: must be known when the install is constructed"):
        evaluate({}, main=main, monitor=monitor)
    assert monitor.registered == []


def test_whole_numbers_arrive_as_floats_and_install_as_in_the_stack_program() -> None:
    # The engine's wire format has one number type; a whole number a YAML or
    # TypeScript program passes must install as the same integer the stack
    # program reads from its config (here a Materialize system parameter).
    instances = [{"name": "main", "balancerdReplicas": 2, "systemParameters": {"max_connections": 1000}}]
    program = evaluate(byo_config(instances=instances))
    hosted = evaluate({}, main=construct_main({**BYO_INPUTS, "instances": instances}))

    def custom(evaluation: Any) -> dict[tuple[str, str], Any]:
        return {(r.type, r.name): r.inputs for r in evaluation.registered if r.custom and not r.read}

    assert custom(hosted) == custom(program)
