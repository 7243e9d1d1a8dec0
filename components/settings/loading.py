"""Turning raw Pulumi config into Settings, or into one clean error.

`load_settings` raises a `pulumi.RunError` that names each bad key, its value
(never a secret's) and what is allowed, before any resource is registered."""

from __future__ import annotations

import contextlib
import difflib
import json
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal

import pulumi
from pydantic import (
    BaseModel,
    SecretStr,
    ValidationError,
)

from components.kubeconfig import is_kubeconfig_content
from components.metadata_url import parse_metadata_url
from components.persist_url import INSTANCE_PLACEHOLDER, parse_persist_url
from components.settings.base import PROJECT
from components.settings.model import Settings
from components.settings.monitoring import monitoring_secret_problems
from components.settings.target_sections import TARGET_SECTIONS, section_model

# Keys whose values are Pulumi secrets: never shown in errors, never plain text.
SECRET_KEYS = frozenset({"licenseKey", "kubeconfig", "metadataBackendUrl", "persistBackendUrl"})


def pulumi_config_type(annotation: Any) -> str | None:
    """The Pulumi project-config type of a settings field, or None for objects and lists."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return pulumi_config_type(args[0])
    if origin is typing.Annotated:
        return pulumi_config_type(args[0])
    if origin is Literal or annotation in (str, SecretStr):
        return "string"
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    return None


def _field(model: type[BaseModel], key: str) -> Any:
    return next((f for n, f in model.model_fields.items() if (f.alias or n) == key or n == key), None)


def decode_config(model: type[BaseModel], config: Mapping[str, Any]) -> dict[str, Any]:
    """The CLI hands every value over as text; all but `model`'s string keys are JSON."""
    decoded = {}
    for key, raw in config.items():
        field = _field(model, key)
        if field is not None and pulumi_config_type(field.annotation) != "string" and isinstance(raw, str):
            # Left as text when it is no JSON: pydantic reports the type mismatch with the key.
            with contextlib.suppress(json.JSONDecodeError):
                raw = json.loads(raw)
        decoded[key] = raw
    return decoded


def is_secret_path(path: str, secret_paths: frozenset[str]) -> bool:
    """True for a secret value, anything inside one, and anything that contains one."""
    return any(path == s or path.startswith(s + ".") or s.startswith(path + ".") for s in secret_paths)


def _describe_value(path: str, value: Any, secret_paths: frozenset[str]) -> str:
    if is_secret_path(path, secret_paths):
        return "(secret, not shown)"
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _error_line(error: Mapping[str, Any], model: type[BaseModel], secret_paths: frozenset[str]) -> str:
    # Pydantic adds "[key]" for a bad mapping key; the key itself is already in the path.
    location = [part for part in error["loc"] if part not in ("function-after", "str", "[key]")]
    path = str(location[0]) if location else ""
    for part in location[1:]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        parent = _allowed_keys_at(location[:-1], model)
        hint = difflib.get_close_matches(str(location[-1]), parent, n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        return f"{PROJECT}:{path}: unknown key{suggestion}; allowed keys here: {', '.join(parent)}"
    if error["type"] == "missing":
        return f"{PROJECT}:{path}: required but not set"
    if not location:
        # Cross-key checks start their message with the key they are about.
        return f"{PROJECT}:{message}"
    dotted = ".".join(str(part) for part in location)
    if message.startswith((f"{dotted}.", f"{dotted}:")):
        # A cross-key check inside a section names its keys itself.
        return f"{PROJECT}:{message}"
    if isinstance(error.get("input"), Mapping) and not is_secret_path(dotted, secret_paths):
        # A whole section or entry is never echoed back: it is long and may hold secrets.
        return f"{PROJECT}:{path}: {message}"
    shown = _describe_value(dotted, error.get("input"), secret_paths)
    if message.startswith(shown):
        return f"{PROJECT}:{path}: {message}"
    return f"{PROJECT}:{path}: {shown} is not allowed: {message}"


def _allowed_keys_at(location: list[Any], model: type[BaseModel]) -> list[str]:
    for part in location:
        if isinstance(part, int):
            continue
        info = _field(model, part)
        if info is None:
            break
        if model is Settings and part in TARGET_SECTIONS:
            model = section_model(part)  # typed Any in Settings: it is imported only when selected
            continue
        annotation = info.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        for candidate in candidates:
            nested += [
                a for a in getattr(candidate, "__args__", ()) if isinstance(a, type) and issubclass(a, BaseModel)
            ]
        if not nested:
            break
        model = nested[0]
    return [info.alias or name for name, info in model.model_fields.items()]


def validation_problems(error: ValidationError, model: type[BaseModel], secret_paths: frozenset[str]) -> list[str]:
    """One line per problem, each naming its `materialize:` key; secret values never shown."""
    return [_error_line(detail, model, secret_paths) for detail in error.errors()]


def load_settings(config: Mapping[str, Any], secret_keys: frozenset[str] = frozenset()) -> Settings:
    """Validate raw config (keys without the project prefix) into Settings.

    `secret_keys` are the keys the stack stores encrypted; a credential given
    in plain text is refused so it never lands unencrypted in a stack file.
    """
    raw = decode_config(Settings, config)
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as error:
        raise pulumi.RunError(report(validation_problems(error, Settings, SECRET_KEYS))) from None
    problems = _check_secret_values(settings, secret_keys)
    if problems:
        raise pulumi.RunError(report(problems))
    return settings


def report(problems: list[str]) -> str:
    return "invalid stack configuration:\n" + "\n".join(f"  - {line}" for line in problems)


def _check_secret_values(settings: Settings, secret_keys: frozenset[str]) -> list[str]:
    problems: list[str] = []
    if "licenseKey" not in secret_keys:
        problems.append(
            f"{PROJECT}:licenseKey: must be stored as a secret: pulumi config set --secret licenseKey <key>"
        )
    many = len(settings.instances) > 1
    for key, field, parse in (
        ("metadataBackendUrl", settings.metadata_backend_url, parse_metadata_url),
        ("persistBackendUrl", settings.persist_backend_url, parse_persist_url),
    ):
        if field is None:
            if settings.target == "byo":
                problems.append(f"{PROJECT}:{key}: required for the byo target but not set")
            continue
        url = field.get_secret_value()
        if many and INSTANCE_PLACEHOLDER not in url:
            problems.append(
                f"{PROJECT}:{key}: with several instances the URL must contain {INSTANCE_PLACEHOLDER} "
                "so every instance gets its own database / prefix"
            )
        try:
            parsed = parse(url.replace(INSTANCE_PLACEHOLDER, "placeholder"))
        except ValueError as error:
            problems.append(f"{PROJECT}:{key}: (secret, not shown) is not allowed: {error}")
            continue
        if carries_credentials(parsed) and key not in secret_keys:
            problems.append(
                f"{PROJECT}:{key}: carries credentials in plain text; store it with "
                f"pulumi config set --secret {key} <url>"
            )
    problems += monitoring_secret_problems(settings.monitoring, secret_keys)
    kubeconfig = settings.kubeconfig.get_secret_value() if settings.kubeconfig else None
    if kubeconfig is not None and "kubeconfig" not in secret_keys and is_kubeconfig_content(kubeconfig):
        problems.append(
            f"{PROJECT}:kubeconfig: kubeconfig contents must be stored as a secret "
            "(pulumi config set --secret kubeconfig < file), or give a file path instead"
        )
    return problems


def carries_credentials(parsed: Any) -> bool:
    return bool(getattr(parsed, "password", None) or getattr(parsed, "has_secret", False))


def read_pulumi_config() -> tuple[dict[str, Any], frozenset[str]]:
    """All of this project's config keys from the running Pulumi program.

    The SDK has no public way to list config keys, and listing them is the only
    way to reject a misspelt one, so this reads the runtime's config map.
    """
    from pulumi.runtime import config as runtime_config

    prefix = f"{PROJECT}:"
    keys = {
        key for key in set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env()) if key.startswith(prefix)
    }
    values = {key.removeprefix(prefix): runtime_config.get_config(key) for key in keys}
    from_env = set(runtime_config.get_config_secret_keys_env())
    secret = {key.removeprefix(prefix) for key in keys if runtime_config.is_config_secret(key) or key in from_env}
    return values, frozenset(secret)
