"""Container environment entries, in the Kubernetes provider's input form."""

from __future__ import annotations

from typing import Any


def plain_env(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value}


def secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "value_from": {"secret_key_ref": {"name": secret, "key": key}}}
