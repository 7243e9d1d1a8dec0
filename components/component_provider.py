"""The component provider that hosts `materialize:index:Install` for other Pulumi languages.

`provider/__main__.py` (next to provider/PulumiPlugin.yaml) runs `serve()`;
`pulumi package add` then generates an SDK from the schema this provider
publishes. The schema comes from Pulumi's own analyzer reading the Python
types and docstrings (pulumi/provider/experimental/analyzer.py, pulumi 3.272.0),
with two additions the analyzer has no way to express:

- `secret: true` on the inputs and outputs that carry credentials (the
  package schema's propertySpec has `secret`, pkg/codegen/schema/pulumi.json;
  the analyzer never sets it), so generated SDKs treat them as secrets;
- whole numbers are integers again: the engine's wire format (a protobuf
  Struct) has one number type, so a `1000` a YAML or TypeScript program passes
  arrives as `1000.0`, and the settings keep `Any`-typed values (such as
  Materialize system parameters) as given; the stack program reads `1000`;
- a `pulumi.RunError` raised by the component (bad inputs) reaches the engine
  as that RunError, not wrapped with a Python traceback the way
  `ComponentProvider.construct` wraps every other exception
  (pulumi/provider/server.py `Construct`: RunError is re-raised as is).
"""

import json
import sys
from typing import Any

import pulumi
from pulumi.provider import ConstructResult
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.server import ComponentInitError

from components.install import Install
from components.settings import PROJECT, SECRET_KEYS

# The package name is the first part of every token it serves: materialize:index:Install.
PACKAGE = PROJECT
# The distribution name of pyproject.toml (what `pip install` and the templates name).
DISTRIBUTION = "materialize-pulumi"
# Outputs that carry credentials (the stack program exports them as secrets too).
SECRET_OUTPUTS = frozenset({"connectionStrings", "targetOutputs"})


def package_version() -> str:
    """This package's version: pyproject.toml's in a checkout (where the plugin runs), else the installed one's."""
    import tomllib
    from importlib.metadata import version
    from pathlib import Path

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text()).get("project", {})
        if project.get("name") == DISTRIBUTION:
            return project["version"]
    return version(DISTRIBUTION)


def _mark_secrets(schema: dict[str, Any]) -> dict[str, Any]:
    install = schema["resources"][f"{PACKAGE}:index:Install"]
    for key, prop in install["inputProperties"].items():
        if key in SECRET_KEYS:
            prop["secret"] = True
    for key, prop in install["properties"].items():
        if key in SECRET_OUTPUTS:
            prop["secret"] = True
    return schema


def _whole_numbers_as_int(value: Any) -> Any:
    """`value` with every float that is a whole number as an int, through lists and dicts."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_whole_numbers_as_int(item) for item in value]
    if isinstance(value, dict):
        return {key: _whole_numbers_as_int(item) for key, item in value.items()}
    return value


class MaterializeProvider(ComponentProvider):
    """Pulumi's component provider for this package's components, with secrets marked."""

    def __init__(self, version: str | None = None) -> None:
        super().__init__([Install], PACKAGE, None, version or package_version())
        self.schema = json.dumps(_mark_secrets(json.loads(self.schema or "{}")))

    def construct(
        self,
        name: str,
        resource_type: str,
        inputs: pulumi.Inputs,
        options: pulumi.ResourceOptions | None = None,
    ) -> ConstructResult:
        inputs = {key: _whole_numbers_as_int(value) for key, value in inputs.items()}
        try:
            return super().construct(name, resource_type, inputs, options)
        except ComponentInitError as error:
            if isinstance(error.inner, pulumi.RunError):
                raise error.inner from None
            raise


def schema(version: str | None = None) -> dict[str, Any]:
    """The package schema the provider publishes (no engine, no CLI needed)."""
    return json.loads(MaterializeProvider(version).schema or "{}")


def serve() -> None:
    """Run as the plugin the engine starts: argv[1:] are the engine's address and flags.

    This is what `component_provider_host` does (pulumi/provider/experimental/host.py),
    with our provider subclass in place of the plain ComponentProvider."""
    from pulumi.provider import main

    main(MaterializeProvider(), sys.argv[1:])
