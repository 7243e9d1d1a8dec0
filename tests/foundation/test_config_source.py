"""Config reaches the program the way the Pulumi language host passes it."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.settings import read_pulumi_config


def test_config_from_the_language_host_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    pulumi.runtime.set_all_config({}, [])
    monkeypatch.setenv(
        "PULUMI_CONFIG",
        json.dumps({"materialize:target": "byo", "materialize:licenseKey": "k", "kubernetes:context": "x"}),
    )
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(["materialize:licenseKey"]))
    values, secret = read_pulumi_config()
    assert values == {"target": "byo", "licenseKey": "k"}  # provider namespaces are not ours
    assert secret == frozenset({"licenseKey"})


def test_config_set_by_the_runtime() -> None:
    pulumi.runtime.set_all_config(
        {"materialize:version": "v26.37.0", "materialize:persistBackendUrl": "s3://b/p"},
        ["materialize:persistBackendUrl"],
    )
    values, secret = read_pulumi_config()
    assert values == {"version": "v26.37.0", "persistBackendUrl": "s3://b/p"}
    assert secret == frozenset({"persistBackendUrl"})
