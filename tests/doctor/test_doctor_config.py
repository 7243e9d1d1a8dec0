"""Where the doctor's inputs come from, and which wins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tools.doctor.config import Overrides, load_config, parse_pulumi_config_json, placeholder_problems

STACK = {
    "config": {
        "materialize:target": "byo",
        "materialize:kubeconfig": "~/.kube/stack-config",
        "materialize:kubeContext": "prod",
        "materialize:metadataBackendUrl": "postgres://mz@db.internal:5432/mz_{instance}?sslmode=require",
        "materialize:persistBackendUrl": {"secure": "v1:abc"},
        "materialize:instances": [{"name": "analytics"}, {"name": "ops"}],
        "materialize:swap": False,
        "materialize:certManager": {"install": False},
        "aws:region": "us-east-1",
    }
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.test.yaml").write_text(yaml.safe_dump(STACK))
    return tmp_path


def test_stack_file_values(repo: Path) -> None:
    config = load_config("test", Overrides(), {}, repo, use_pulumi=False)
    assert config.metadata_url == STACK["config"]["materialize:metadataBackendUrl"]
    assert config.persist_url is None  # encrypted: only the Pulumi CLI can read it
    assert (config.kubeconfig, config.kube_context) == ("~/.kube/stack-config", "prod")
    assert config.instances == ("analytics", "ops")
    assert config.swap is False
    assert config.cert_manager_install is False
    assert config.sources["metadataBackendUrl"] == "stacks/Pulumi.test.yaml"
    assert any("persistBackendUrl" in note for note in config.notes)
    assert config.overridden_kubeconfig is None


def test_environment_overrides_stack(repo: Path) -> None:
    environ = {
        "MZ_METADATA_BACKEND_URL": "postgres://u:pw@env/db",
        "MZ_PERSIST_BACKEND_URL": "s3://env-bucket/p",
        "KUBECONFIG": "/tmp/env-kubeconfig",
    }
    config = load_config("test", Overrides(), environ, repo, use_pulumi=False)
    assert config.metadata_url == "postgres://u:pw@env/db"
    assert config.persist_url == "s3://env-bucket/p"
    assert config.kubeconfig == "/tmp/env-kubeconfig"
    assert config.sources["kubeconfig"] == "env KUBECONFIG"
    # The stack's own kubeconfig is remembered so the report can warn.
    assert config.overridden_kubeconfig == "~/.kube/stack-config"


def test_flags_override_environment(repo: Path) -> None:
    environ = {"MZ_METADATA_BACKEND_URL": "postgres://u@env/db", "KUBECONFIG": "/tmp/env"}
    overrides = Overrides(
        metadata_url="postgres://u@flag/db",
        kubeconfig="/tmp/flag",
        kube_context="dev",
        instances=("only",),
    )
    config = load_config("test", overrides, environ, repo, use_pulumi=False)
    assert config.metadata_url == "postgres://u@flag/db"
    assert (config.kubeconfig, config.kube_context) == ("/tmp/flag", "dev")
    assert config.instances == ("only",)
    assert config.sources["metadataBackendUrl"] == "--metadata-url"


def test_defaults_without_a_stack() -> None:
    config = load_config(None, Overrides(), {}, Path("/nonexistent"), use_pulumi=False)
    assert config.instances == ("main",)
    assert config.swap is True
    assert config.cert_manager_install is True
    assert config.metadata_url is None and config.kubeconfig is None


def test_missing_stack_file_is_noted(tmp_path: Path) -> None:
    config = load_config("nope", Overrides(), {}, tmp_path, use_pulumi=False)
    assert any("Pulumi.nope.yaml" in note for note in config.notes)


def test_secrets_include_urls_passwords_and_kubeconfig_contents(repo: Path) -> None:
    environ = {
        "MZ_METADATA_BACKEND_URL": "postgres://u:Zq9pw%2Fx@h/db",
        "MZ_PERSIST_BACKEND_URL": "s3://AK:Zq9key%2Bx@bucket/p",
        "KUBECONFIG": "apiVersion: v1\nusers: []\n",
    }
    secrets = load_config("test", Overrides(), environ, repo, use_pulumi=False).secrets()
    assert "Zq9pw/x" in secrets
    assert "Zq9key+x" in secrets
    assert "apiVersion: v1\nusers: []\n" in secrets


def test_pulumi_config_json_output() -> None:
    # Shape of `pulumi config --show-secrets --json`: objects come as
    # objectValue (and as JSON text in value), everything else as strings.
    output = {
        "materialize:metadataBackendUrl": {"value": "postgres://u:pw@h/db", "secret": True},
        "materialize:instances": {
            "value": '[{"name":"a"}]',
            "objectValue": [{"name": "a"}],
            "secret": False,
        },
        "materialize:swap": {"value": "false", "secret": False},
        "materialize:kubeconfig": {"value": '{"apiVersion": "v1"}', "secret": True},
        "aws:region": {"value": "us-east-1", "secret": False},
    }
    assert parse_pulumi_config_json(json.dumps(output)) == {
        "metadataBackendUrl": "postgres://u:pw@h/db",
        "instances": [{"name": "a"}],
        "swap": "false",
        "kubeconfig": '{"apiVersion": "v1"}',
    }


def test_typed_values_given_as_text(tmp_path: Path) -> None:
    stack = {"config": {"materialize:swap": "false", "materialize:instances": '[{"name": "x"}]'}}
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.t.yaml").write_text(yaml.safe_dump(stack))
    config = load_config("t", Overrides(), {}, tmp_path, use_pulumi=False)
    assert (config.swap, config.instances) == (False, ("x",))


def test_pulumi_config_json_must_be_an_object() -> None:
    with pytest.raises(ValueError, match="object"):
        parse_pulumi_config_json("[]")


def test_several_instances_need_the_placeholder() -> None:
    problems = placeholder_problems("postgres://u@h/shared", "metadataBackendUrl", ["a", "b"])
    assert len(problems) == 1 and "share one database" in problems[0]
    assert placeholder_problems("postgres://u@h/shared", "metadataBackendUrl", ["a"]) == []
    assert placeholder_problems("s3://b/mz/{instance}", "persistBackendUrl", ["a", "b"]) == []


def test_placeholder_only_in_database_or_prefix() -> None:
    problems = placeholder_problems("s3://bucket-{instance}/mz", "persistBackendUrl", ["a", "b"])
    assert any("outside the prefix" in problem for problem in problems)
    problems = placeholder_problems("postgres://u@h/db?application_name={instance}", "metadataBackendUrl", ["a"])
    assert any("outside the database name" in problem for problem in problems)
