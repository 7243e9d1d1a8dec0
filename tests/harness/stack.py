"""Test fixtures around the offline evaluator (tools/offline)."""

from __future__ import annotations

from typing import Any

from tools.offline.evaluate import Evaluation, evaluate

__all__ = ["LICENSE_KEY", "Evaluation", "byo_config", "evaluate"]

LICENSE_KEY = "test-license-key-not-real"


def byo_config(**overrides: Any) -> dict[str, Any]:
    """A minimal valid byo stack (credential-less URLs, so plain config is fine)."""
    config: dict[str, Any] = {
        "target": "byo",
        "licenseKey": LICENSE_KEY,
        "kubeconfig": "/etc/kubeconfig/cluster.yaml",
        "kubeContext": "prod",
        "metadataBackendUrl": "postgres://materialize@db.example.internal:5432/materialize?sslmode=require",
        "persistBackendUrl": "s3://materialize-persist/main?region=us-east-1",
    }
    config.update(overrides)
    return config
