"""Every property a rule reads exists, under that name, in the provider SDK's schema.

A misspelt property or type token makes a rule that never fires and never
fails, so each Field is checked against the generated SDK classes the
project pins: the resource class must register the token, and each path
segment must be a property of the input (Args) or output (resource) type.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
import typing
from pathlib import Path
from typing import Any

import pytest

from policy.materialize_policies import fields
from policy.materialize_policies.fields import EACH, FIELDS, Field, rows
from tests.foundation.test_materialize_reference import crd_fields
from tools.offline.sdk_internals import py_properties

# Importing whole provider SDKs warns about their own deprecated resources.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PACKAGES = {
    "aws": "pulumi_aws",
    "gcp": "pulumi_gcp",
    "azure-native": "pulumi_azure_native",
    "kubernetes": "pulumi_kubernetes",
}


def resource_class(token: str) -> type:
    package, module, name = token.split(":")
    # aws:rds/instance:Instance -> pulumi_aws.rds; kubernetes:helm.sh/v3:Release -> pulumi_kubernetes.helm.v3
    path = module.replace("helm.sh", "helm").replace("/", ".") if package == "kubernetes" else module.split("/")[0]
    cls = getattr(importlib.import_module(f"{PACKAGES[package]}.{path}"), name)
    assert f"'{token}'" in inspect.getsource(cls) or f'"{token}"' in inspect.getsource(cls), (
        f"{cls.__module__}.{name} does not register {token}"
    )
    return cls


def property_types(owner: type, pulumi_name: str) -> list[type]:
    """The classes a property of `owner` may hold (its nested input or output types)."""
    matches = [prop for _, name, prop in py_properties(owner) if name == pulumi_name]
    assert matches, f"{owner.__module__}.{owner.__name__} has no property {pulumi_name!r}"
    getter = matches[0].fget
    namespace = vars(sys.modules[getter.__module__])
    found: list[type] = []

    def visit(annotation: Any) -> None:
        if isinstance(annotation, typing.ForwardRef | str):
            text = annotation.__forward_arg__ if isinstance(annotation, typing.ForwardRef) else annotation
            try:
                annotation = eval(text, namespace)  # the SDK's own forward references, e.g. 'outputs.X'
            except (NameError, AttributeError, TypeError):
                return
        if isinstance(annotation, type) and py_properties(annotation):
            found.append(annotation)
            return
        for argument in typing.get_args(annotation):
            visit(argument)

    visit(getter.__annotations__["return"])
    return found


def check_path(owner: type, segments: tuple[str, ...]) -> None:
    head, rest = segments[0].removesuffix(EACH), segments[1:]
    nested = property_types(owner, head)
    if rest:
        assert nested, f"{owner.__name__}.{head} has no nested type to read {'.'.join(rest)} from"
        check_path(nested[0], rest)


def check_crd_path(token: str, segments: tuple[str, ...]) -> None:
    """A Materialize resource's field, checked against the CRD's published field descriptions."""
    version = token.split("/")[1].split(":")[0]
    types = crd_fields(version)
    assert segments[0] == "spec", segments
    owner = "MaterializeSpec"
    for segment in segments[1:]:
        found = types[owner].get(segment)
        assert found is not None, f"{owner} of the {version} CRD has no field {segment!r}"
        owner = found["type"]


@pytest.mark.parametrize("declared", FIELDS, ids=lambda f: f"{f.token}:{f.path}:{f.side}")
def test_every_field_is_in_the_provider_schema(declared: Field) -> None:
    if declared.token in (fields.MATERIALIZE_V1, fields.MATERIALIZE_V1ALPHA1):
        check_crd_path(declared.token, declared.segments)
        return
    cls = resource_class(declared.token)
    owner = cls if declared.side == "outputs" else getattr(sys.modules[cls.__module__], f"{cls.__name__}Args")
    check_path(owner, declared.segments)


def test_the_crd_check_catches_a_misspelt_field() -> None:
    with pytest.raises(AssertionError, match="enableRBAC"):
        check_crd_path(fields.MATERIALIZE_V1, ("spec", "enableRBAC"))


def test_the_schema_check_catches_a_misspelt_property_and_token() -> None:
    with pytest.raises(AssertionError, match="publiclyAccesible"):
        check_path(resource_class(fields.RDS_INSTANCE), ("publiclyAccesible",))
    with pytest.raises(AssertionError, match="no nested type"):
        check_path(resource_class(fields.RDS_INSTANCE), ("storageEncrypted", "value"))
    with pytest.raises(AttributeError):
        resource_class("aws:rds/instance:Instanse")


def test_every_rule_module_reads_through_fields() -> None:
    # A rule that indexed props by hand would escape the schema check above.
    rules = sorted(Path(fields.__file__).parent.glob("*.py"))
    offenders = [p.name for p in rules if re.search(r"props(\[|\.get\()", p.read_text())]
    assert offenders == []


def test_get_reads_nested_values_and_absent_parts_as_none() -> None:
    path = Field("t", "settings.ipConfiguration.sslMode", "inputs")
    assert path.get({"settings": {"ipConfiguration": {"sslMode": "ENCRYPTED_ONLY"}}}) == "ENCRYPTED_ONLY"
    assert path.get({"settings": {}}) is None
    assert path.get({"settings": "not a mapping"}) is None
    with pytest.raises(ValueError, match="each"):
        Field("t", "rules[].x", "inputs").get({})


def test_each_steps_into_lists_and_rows_keep_elements_together() -> None:
    props = {"parameters": [{"name": "a", "value": "1"}, {"name": "b"}, {"value": "3"}]}
    name, value = Field("t", "parameters[].name", "inputs"), Field("t", "parameters[].value", "inputs")
    assert name.each(props) == ["a", "b"]
    assert rows(props, name, value) == [("a", "1"), ("b", None), (None, "3")]
    assert name.each({"parameters": "oops"}) == []
    with pytest.raises(ValueError, match="share"):
        rows(props, name, Field("t", "name", "inputs"))
