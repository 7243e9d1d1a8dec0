"""Which settings model holds each target's own section (`local`, `gcp`, `aws`, `azure`).

A stack validates only its selected target's section, so evaluating an aws stack
never imports the gcp or azure settings (issue 14: evaluation costs little more
than the SDK classes the stack uses). The byo target has no section of its own.
"""

from __future__ import annotations

import importlib

from components.settings.base import StrictModel

# Config key -> (module, class); imported on first use.
TARGET_SECTIONS: dict[str, tuple[str, str]] = {
    "local": ("components.settings.local", "LocalSettings"),
    "gcp": ("components.settings.gcp", "GcpSettings"),
    "aws": ("components.settings.aws", "AwsSettings"),
    "azure": ("components.settings.azure", "AzureSettings"),
}


def section_model(key: str) -> type[StrictModel]:
    """The settings model of the target section `key` (one of TARGET_SECTIONS)."""
    module, name = TARGET_SECTIONS[key]
    model = getattr(importlib.import_module(module), name)
    assert isinstance(model, type) and issubclass(model, StrictModel), f"{module}.{name} is not a settings model"
    return model
