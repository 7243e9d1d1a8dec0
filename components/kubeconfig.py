"""Telling a kubeconfig file path from kubeconfig contents.

Contents carry credentials and must stay secret; a path carries none and is
kept as a path so no credential lands in the state file.
"""

from __future__ import annotations


def is_kubeconfig_content(value: str) -> bool:
    return "\n" in value or value.lstrip().startswith(("{", "apiVersion"))
