"""Plain Kubernetes objects from the registered graph, checked against the
Kubernetes OpenAPI schemas in strict mode (unknown fields are errors)."""

from __future__ import annotations

from typing import Any

import kubernetes_validate

from tools.offline.mocks import Registered

# The oldest Kubernetes version the installer supports, and the newest schema shipped.
KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")


def is_plain_object(registered: Registered) -> bool:
    """Built-in Kubernetes kinds (core, apps, batch, rbac, ...); not CRDs, Helm or providers."""
    if not registered.type.startswith("kubernetes:") or registered.type.startswith("kubernetes:helm.sh/"):
        return False
    # Server-side-apply patches (DeploymentPatch, ...) are partial objects by design.
    if registered.type.endswith("Patch"):
        return False
    group_version = registered.type.split(":")[1]
    group = group_version.split("/")[0] if "/" in group_version else ""
    return group in (
        "core",
        "apps",
        "batch",
        "policy",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
    )


def manifest(registered: Registered) -> dict[str, Any]:
    _, group_version, kind = registered.type.split(":")
    api_version = group_version.removeprefix("core/")
    body = {k: v for k, v in registered.inputs.items() if k not in ("apiVersion", "kind")}
    return {"apiVersion": api_version, "kind": kind, **body}


def validate_strict(registered: Registered) -> None:
    document = manifest(registered)
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(document, version, strict=True)
