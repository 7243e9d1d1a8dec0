"""Targets: how each environment provides a cluster, Postgres and blob storage.

Each target is imported only when a stack selects it, so an AWS stack never
loads the GCP or Azure SDKs.
"""

from __future__ import annotations

import importlib
from typing import Protocol, cast

import pulumi

from components.contract import TargetResult
from components.settings import Settings

# target name -> (module, component class)
_TARGETS: dict[str, tuple[str, str]] = {
    "byo": ("components.targets.byo", "ByoTarget"),
    "local": ("components.targets.local", "LocalTarget"),
    "gcp": ("components.targets.gcp", "GcpTarget"),
    "aws": ("components.targets.aws", "AwsTarget"),
    "azure": ("components.targets.azure", "AzureTarget"),
}


class Target(Protocol):
    """What every target component is: built from the stack's settings, it hands over a TargetResult."""

    result: TargetResult

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None: ...


def target_class(settings: Settings) -> type[Target]:
    """The target component for a stack; fails cleanly, before anything is created."""
    entry = _TARGETS.get(settings.target)
    if entry is None:
        available = ", ".join(sorted(_TARGETS))
        raise pulumi.RunError(
            f"materialize:target: {settings.target!r} is not available in this version of the installer "
            f"(available: {available})"
        )
    module_name, class_name = entry
    return cast(type[Target], getattr(importlib.import_module(module_name), class_name))
