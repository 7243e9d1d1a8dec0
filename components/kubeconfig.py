"""Kubeconfigs given as a file path or as the file's contents.

Contents carry credentials and must stay secret; a path carries none and is
kept as a path so no credential lands in the state file.
"""

from __future__ import annotations

from typing import Any

import yaml


def is_kubeconfig_content(value: str) -> bool:
    return "\n" in value or value.lstrip().startswith(("{", "apiVersion"))


def api_client(kubeconfig: str, context: str | None) -> Any:
    """A Kubernetes API client from a kubeconfig path or contents, for `context` (its current one when None)."""
    # Imported here: the Pulumi program itself never talks to the API server.
    from kubernetes import config

    if is_kubeconfig_content(kubeconfig):
        return config.new_client_from_config_dict(yaml.safe_load(kubeconfig), context=context)
    return config.new_client_from_config(config_file=kubeconfig, context=context)
