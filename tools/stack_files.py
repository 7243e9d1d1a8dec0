"""Stack configuration as the Pulumi CLI would hand it to the program.

Reads Pulumi.yaml's declared defaults and stacks/Pulumi.<stack>.yaml, without
the CLI. Encrypted values (`secure:`) cannot be read offline and are reported
as such.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.settings import PROJECT

ROOT = Path(__file__).resolve().parents[1]


def _yaml_scalar(value: Any) -> Any:
    # YAML reads an unquoted timestamp (expiresAt: 2026-10-01T00:00:00Z) as a
    # datetime; the CLI hands it to the program as text.
    if isinstance(value, datetime.date):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"{type(value).__name__} is not a config value")


def config_text(value: Any) -> str:
    """A config value as the CLI hands it to the program: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, default=_yaml_scalar)


class StackFileError(ValueError):
    """A stack file that is missing or is not stack configuration; the message names the file and line."""


@dataclass(frozen=True)
class StackConfig:
    values: dict[str, Any]
    # Keys whose value is encrypted in the stack file.
    encrypted: frozenset[str] = field(default_factory=frozenset)


def project_defaults(root: Path = ROOT) -> dict[str, Any]:
    path = root / "Pulumi.yaml"
    if not path.exists():
        return {}
    project = yaml.safe_load(path.read_text())
    return {
        key: declaration["default"]
        for key, declaration in (project.get("config") or {}).items()
        if isinstance(declaration, dict) and "default" in declaration
    }


def _has_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


# A person's own stacks (scripts/local-up.sh makes `user-local`): git ignores
# their files, and they are not examples the tests and the plan go through.
USER_STACK_PREFIX = "user-"


def stack_names(root: Path = ROOT) -> list[str]:
    """Every example stack: a file stacks/Pulumi.<stack>.yaml that is not a user's own, sorted."""
    names = (p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (root / "stacks").glob("Pulumi.*.yaml"))
    return sorted(name for name in names if not name.startswith(USER_STACK_PREFIX))


def read_stack_config(stack: str, root: Path = ROOT) -> StackConfig:
    path = root / "stacks" / f"Pulumi.{stack}.yaml"
    shown = path.relative_to(root)
    if not path.exists():
        raise StackFileError(f"no stack file {shown}; stacks: {', '.join(stack_names(root)) or '(none)'}")
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else str(shown)
        raise StackFileError(f"{where}: not valid YAML: {error.problem or error.context}") from None
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as error:
        raise StackFileError(f"{shown}: cannot be read: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("config") or {}, dict):
        raise StackFileError(f"{shown}: a stack file is a mapping with a `config:` mapping")
    values: dict[str, Any] = {}
    encrypted: set[str] = set()
    for key, value in (document.get("config") or {}).items():
        namespace, _, name = key.partition(":")
        if namespace != PROJECT:
            continue  # provider configuration (aws:region, ...) is not ours to validate
        if _has_secure(value):
            # Also a structured value with one encrypted part (`config set --secret --path`).
            encrypted.add(name)
            continue
        values[name] = value
    return StackConfig(values={**project_defaults(root), **values}, encrypted=frozenset(encrypted))
