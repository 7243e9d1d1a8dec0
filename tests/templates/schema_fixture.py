"""The component provider's schema, generated offline, and its checked-in copy.

Regenerate the copy after changing Install's inputs or outputs:

    venv/bin/python -m tests.templates.schema_fixture

The fixture is generated at the package version of pyproject.toml, so a
release bump shows up in it too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from components.component_provider import package_version, schema

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCHEMA_FIXTURE = FIXTURES / "schema.json"


def generated_schema() -> dict[str, Any]:
    return schema(package_version())


def schema_text(value: dict[str, Any]) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    SCHEMA_FIXTURE.write_text(schema_text(generated_schema()))
    print(f"wrote {SCHEMA_FIXTURE}")
