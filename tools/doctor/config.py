"""What the doctor checks: the stack's config, with env vars and flags on top.

Sources, lowest precedence first:

1. `stacks/Pulumi.<stack>.yaml` (plain values only; secrets there are
   encrypted and unreadable without the Pulumi CLI);
2. `pulumi config --stack <stack> --show-secrets --json`, when `pulumi` is on
   PATH (its output is parsed, never printed);
3. environment variables MZ_METADATA_BACKEND_URL, MZ_PERSIST_BACKEND_URL,
   KUBECONFIG;
4. command-line flags.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.kubeconfig import is_kubeconfig_content
from components.metadata_url import parse_metadata_url
from components.persist_url import INSTANCE_PLACEHOLDER, parse_persist_url
from components.settings import PROJECT
from tools.stack_files import StackFileError, read_stack_config

DEFAULT_INSTANCE = "main"
ENV_METADATA_URL = "MZ_METADATA_BACKEND_URL"
ENV_PERSIST_URL = "MZ_PERSIST_BACKEND_URL"
ENV_KUBECONFIG = "KUBECONFIG"
_PULUMI_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Overrides:
    """Values given on the command line; None means not given."""

    metadata_url: str | None = None
    persist_url: str | None = None
    kubeconfig: str | None = None
    kube_context: str | None = None
    instances: tuple[str, ...] = ()


@dataclass(frozen=True)
class DoctorConfig:
    metadata_url: str | None = field(default=None, repr=False)
    persist_url: str | None = field(default=None, repr=False)
    kubeconfig: str | None = field(default=None, repr=False)
    kube_context: str | None = None
    swap: bool = True
    cert_manager_install: bool = True
    instances: tuple[str, ...] = (DEFAULT_INSTANCE,)
    # Instance name -> namespace, where the stack names one (default materialize-<name>).
    instance_namespaces: Mapping[str, str] = field(default_factory=dict)
    crd_version: str = "v1"
    # Where each value came from, e.g. {"metadataBackendUrl": "env MZ_METADATA_BACKEND_URL"}.
    sources: Mapping[str, str] = field(default_factory=dict)
    # What could not be read and why (never values).
    notes: tuple[str, ...] = ()
    # The stack's own kubeconfig when an env var or flag replaced it.
    overridden_kubeconfig: str | None = field(default=None, repr=False)

    def secrets(self) -> list[str]:
        """Every secret value the report must never show."""
        found = [value for value in (self.metadata_url, self.persist_url) if value]
        for template, parse, attribute in (
            (self.metadata_url, parse_metadata_url, "password"),
            (self.persist_url, parse_persist_url, "secret_access_key"),
        ):
            if template:
                try:
                    secret = getattr(parse(template.replace(INSTANCE_PLACEHOLDER, "x")), attribute)
                except ValueError:
                    continue
                if secret:
                    found.append(secret)
        for kubeconfig in (self.kubeconfig, self.overridden_kubeconfig):
            if kubeconfig and is_kubeconfig_content(kubeconfig):
                found.append(kubeconfig)
        return found


def instance_url(template: str, instance: str) -> str:
    """The URL for one instance: `{instance}` replaced by its name."""
    return template.replace(INSTANCE_PLACEHOLDER, instance)


def load_config(
    stack: str | None,
    overrides: Overrides,
    environ: Mapping[str, str],
    repo_root: Path,
    use_pulumi: bool = True,
) -> DoctorConfig:
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    notes: list[str] = []

    if stack:
        _merge(values, sources, _read_stack_file(stack, repo_root, notes), f"stacks/Pulumi.{stack}.yaml")
        if use_pulumi:
            pulumi_values = _read_pulumi_config(stack, repo_root, notes)
            _merge(values, sources, pulumi_values, "pulumi config")
        else:
            notes.append("the Pulumi CLI was not asked (--no-pulumi); secrets come from env vars or flags")

    stack_kubeconfig = values.get("kubeconfig")
    env_names = {
        "metadataBackendUrl": ENV_METADATA_URL,
        "persistBackendUrl": ENV_PERSIST_URL,
        "kubeconfig": ENV_KUBECONFIG,
    }
    for key, name in env_names.items():
        value = environ.get(name)
        if value:
            values[key] = value
            sources[key] = f"env {name}"

    flag_values = {
        "metadataBackendUrl": (overrides.metadata_url, "--metadata-url"),
        "persistBackendUrl": (overrides.persist_url, "--persist-url"),
        "kubeconfig": (overrides.kubeconfig, "--kubeconfig"),
        "kubeContext": (overrides.kube_context, "--kube-context"),
    }
    for key, (value, flag) in flag_values.items():
        if value:
            values[key] = value
            sources[key] = flag

    instances = _instance_names(values.get("instances"), notes)
    namespaces = _instance_namespaces(values.get("instances"))
    if overrides.instances:
        instances = tuple(overrides.instances)
        sources["instances"] = "--instance"

    kubeconfig = _optional_str(values.get("kubeconfig"))
    overridden = None
    if stack_kubeconfig and kubeconfig != stack_kubeconfig:
        overridden = _optional_str(stack_kubeconfig)

    return DoctorConfig(
        metadata_url=_optional_str(values.get("metadataBackendUrl")),
        persist_url=_optional_str(values.get("persistBackendUrl")),
        kubeconfig=kubeconfig,
        kube_context=_optional_str(values.get("kubeContext")),
        swap=_bool(values.get("swap"), default=True, key="swap", notes=notes),
        cert_manager_install=_cert_manager_install(values.get("certManager"), notes),
        instances=instances,
        instance_namespaces=namespaces,
        crd_version=_crd_version(values.get("crdVersion"), notes),
        sources=sources,
        notes=tuple(notes),
        overridden_kubeconfig=overridden,
    )


def _merge(values: dict[str, Any], sources: dict[str, str], new: Mapping[str, Any], source: str) -> None:
    for key, value in new.items():
        values[key] = value
        sources[key] = source


def _read_stack_file(stack: str, repo_root: Path, notes: list[str]) -> dict[str, Any]:
    try:
        config = read_stack_config(stack, repo_root)
    except StackFileError as error:
        notes.append(str(error))
        return {}
    if config.encrypted:
        notes.append(
            f"Pulumi.{stack}.yaml holds encrypted values ({', '.join(sorted(config.encrypted))}) "
            "that only the Pulumi CLI can read"
        )
    return config.values


def _read_pulumi_config(stack: str, repo_root: Path, notes: list[str]) -> dict[str, Any]:
    if shutil.which("pulumi") is None:
        notes.append(
            "the pulumi CLI is not on PATH, so secret config values were not read; "
            f"set {ENV_METADATA_URL} and {ENV_PERSIST_URL} instead"
        )
        return {}
    try:
        result = subprocess.run(
            ["pulumi", "config", "--stack", stack, "--show-secrets", "--json"],
            cwd=repo_root,
            capture_output=True,
            text=True,
            timeout=_PULUMI_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        notes.append("`pulumi config` could not be run or timed out")
        return {}
    if result.returncode != 0:
        # stderr names the problem (missing passphrase, unknown stack) but
        # never a config value; only its first line is kept.
        first = (result.stderr or "").strip().splitlines()[:1]
        notes.append(f"`pulumi config` failed (exit {result.returncode}){': ' + first[0] if first else ''}")
        return {}
    try:
        return parse_pulumi_config_json(result.stdout or "{}")
    except ValueError:
        notes.append("`pulumi config --json` printed something that is not a JSON object")
        return {}


def parse_pulumi_config_json(text: str) -> dict[str, Any]:
    """This project's values from `pulumi config --json` output."""
    document = json.loads(text)
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    found: dict[str, Any] = {}
    for raw_key, entry in document.items():
        key = _project_key(str(raw_key))
        if key is None or not isinstance(entry, dict):
            continue
        if "objectValue" in entry:
            found[key] = entry["objectValue"]
        elif "value" in entry:
            # Kept as text: only the typed readers below decode JSON, so a
            # kubeconfig given as JSON stays a string.
            found[key] = entry["value"]
    return found


def _project_key(key: str) -> str | None:
    namespace, colon, name = key.partition(":")
    if not colon:
        return None
    return name if namespace == PROJECT else None


def _maybe_json(value: Any) -> Any:
    # Structured values arrive as JSON text; plain strings stay as they are.
    if isinstance(value, str) and (value[:1] in ("[", "{") or value in ("true", "false")):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _instance_names(raw: Any, notes: list[str]) -> tuple[str, ...]:
    raw = _maybe_json(raw)
    if raw is None:
        return (DEFAULT_INSTANCE,)
    names = [item.get("name") for item in raw if isinstance(item, dict)] if isinstance(raw, list) else []
    valid = [name for name in names if isinstance(name, str) and name]
    if not valid or len(valid) != len(names):
        notes.append(
            f"{PROJECT}:instances is not a list of objects with a name; checking instance {DEFAULT_INSTANCE!r}"
        )
        return (DEFAULT_INSTANCE,)
    return tuple(valid)


def _instance_namespaces(raw: Any) -> dict[str, str]:
    raw = _maybe_json(raw)
    items = raw if isinstance(raw, list) else []
    return {
        item["name"]: item["namespace"]
        for item in items
        if isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("namespace"), str)
    }


def instance_namespace(config: DoctorConfig, name: str) -> str:
    """Where the program puts the instance (components/settings/instance.py: resolved_namespace)."""
    return config.instance_namespaces.get(name) or f"materialize-{name}"


def _crd_version(raw: Any, notes: list[str]) -> str:
    raw = _maybe_json(raw)
    if raw is None:
        return "v1"
    if raw in ("v1", "v1alpha1"):
        return raw
    notes.append(f"{PROJECT}:crdVersion is neither v1 nor v1alpha1; reading instances as v1")
    return "v1"


def _bool(raw: Any, default: bool, key: str, notes: list[str]) -> bool:
    raw = _maybe_json(raw)
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    notes.append(f"{PROJECT}:{key} is not true or false; assuming {str(default).lower()}")
    return default


def _cert_manager_install(raw: Any, notes: list[str]) -> bool:
    raw = _maybe_json(raw)
    if isinstance(raw, dict):
        return _bool(raw.get("install"), default=True, key="certManager.install", notes=notes)
    return True


def _optional_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def placeholder_problems(template: str, key: str, instances: Sequence[str]) -> list[str]:
    """Why a URL template cannot give every instance its own database/prefix."""
    problems = []
    if len(instances) > 1 and INSTANCE_PLACEHOLDER not in template:
        problems.append(
            f"{PROJECT}:{key} has no {INSTANCE_PLACEHOLDER} placeholder, so all "
            f"{len(instances)} instances would share one "
            + ("database" if key == "metadataBackendUrl" else "blob prefix")
        )
    if INSTANCE_PLACEHOLDER in template and not _placeholder_in_path(template):
        problems.append(
            f"{PROJECT}:{key} uses {INSTANCE_PLACEHOLDER} outside the "
            + ("database name" if key == "metadataBackendUrl" else "prefix")
        )
    return problems


def _placeholder_in_path(template: str) -> bool:
    # Only the part between the authority and the query may vary per instance.
    _, _, rest = template.partition("://")
    authority_end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    path = rest[authority_end:].split("?", 1)[0]
    outside = rest[:authority_end] + rest[authority_end + len(path) :]
    return INSTANCE_PLACEHOLDER in path and INSTANCE_PLACEHOLDER not in outside
