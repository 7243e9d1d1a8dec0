"""Pulumi's own JSON schemas, vendored from pulumi/pulumi, and validators for them.

Both files are copied unchanged from pulumi/pulumi at commit
1b5949891b3cefcb9974752b24a5ecef0acc86c8; the checksums below catch an edit.

- fixtures/pulumi-project.schema.json: sdk/go/common/workspace/project.json (Pulumi.yaml)
- fixtures/pulumi-package.schema.json: pkg/codegen/schema/pulumi.json (a package schema)
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema import _keywords as keywords  # pyright: ignore[reportPrivateUsage] - the stock keyword, reused

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SOURCE_COMMIT = "1b5949891b3cefcb9974752b24a5ecef0acc86c8"
SHA256 = {
    "pulumi-project.schema.json": "55b50752803a9b595675fa3119e710f91e907821deef1674e9e25e7b5ebc5daf",
    "pulumi-package.schema.json": "45c9aa5144ef1c1ef1ce3515a6d379d288558d36d189435dfa32a246b9d3ad4b",
}


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    # The schemas are written for Go's regexp, whose named groups are (?<name>...);
    # Python's re spells them (?P<name>...). Nothing else in their patterns differs.
    found = keywords.pattern(validator, re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", pattern), instance, schema)
    yield from found or ()


Validator = validators.extend(Draft202012Validator, {"pattern": _pattern})


def meta_schema(name: str) -> dict[str, Any]:
    data = (FIXTURES / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == SHA256[name], f"{name} differs from pulumi/pulumi@{SOURCE_COMMIT}"
    return json.loads(data)


def errors(name: str, instance: Any) -> list[str]:
    """Every way `instance` breaks the vendored schema `name`, as readable lines."""
    validator = Validator(meta_schema(name))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]
