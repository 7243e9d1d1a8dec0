"""The offline plan evaluates every example stack and never prints a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import plan
from tools.stack_files import ROOT, read_stack_config, stack_names

# Support stacks (control plane) install nothing: they add replicas to an instance.
SUPPORT_STACKS = {"support"}


@pytest.mark.parametrize("stack", stack_names())
def test_every_example_stack_plans_offline(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["--stack", stack]) == 0
    out = capsys.readouterr().out
    assert f"Plan for stack {stack!r}" in out
    assert plan.LICENSE_PLACEHOLDER not in out
    if stack in SUPPORT_STACKS:
        assert "materialize:controlplane:SupportReplicas  support" in out
        assert "pulumi-python:dynamic/controlplane:SupportReplica  replica-" in out
        assert "helm.sh" not in out
    else:
        assert "kubernetes:helm.sh/v3:Release  materialize-operator-release" in out
        assert ":Materialize  materialize-" in out


def test_support_stack_files_are_support_stacks() -> None:
    for stack in stack_names():
        assert ("support" in read_stack_config(stack).values) == (stack in SUPPORT_STACKS), stack


def test_plan_prints_a_tree_of_the_byo_stack_without_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["--stack", "byo", "--secret", "licenseKey=do-not-print-me"]) == 0
    out = capsys.readouterr().out
    assert "do-not-print-me" not in out
    assert "materialize:byo:Target  byo" in out
    assert "\n  materialize:dataplane:Operator  materialize-operator" in out
    assert "analytics-balancerd-lb LoadBalancer :6875,6876 from 10.0.0.0/8" in out
    assert "keys=external_login_password_mz_system,license_key,metadata_backend_url,persist_backend_url" in out
    assert "connectionStrings: [secret]" in out
    assert "postgres://" not in out


def project_copy(tmp_path: Path, stacks: dict[str, str]) -> Path:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    for name, text in stacks.items():
        (tmp_path / "stacks" / f"Pulumi.{name}.yaml").write_text(text)
    return tmp_path


def test_plan_refuses_an_invalid_stack_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project_copy(tmp_path, {"bad": "config:\n  materialize:target: byo\n  materialize:version: latest\n"})
    assert plan.main(["--all"], root=root) == 1
    err = capsys.readouterr().err
    assert "error: stack bad:" in err
    assert "materialize:version: 'latest' is not a version" in err
    assert "Traceback" not in err


def test_plan_asks_for_encrypted_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    byo = (ROOT / "stacks" / "Pulumi.byo.yaml").read_text()
    encrypted = "\n".join(
        "  materialize:metadataBackendUrl:\n    secure: v1:AAAA"
        if line.startswith("  materialize:metadataBackendUrl:")
        else line
        for line in byo.splitlines()
    )
    root = project_copy(tmp_path, {"enc": encrypted})
    assert plan.main(["--stack", "enc"], root=root) == 1
    assert "encrypted values cannot be read offline: metadataBackendUrl" in capsys.readouterr().err
    url = "postgres://mz:pw@db.example.com:5432/mz_{instance}?sslmode=require"
    assert plan.main(["--stack", "enc", "--secret", f"metadataBackendUrl={url}"], root=root) == 0
    assert "pw@" not in capsys.readouterr().out


def test_a_stack_file_with_a_yaml_error_is_named_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project_copy(tmp_path, {"broken": "config:\n  materialize:target: byo\n  materialize:version: [v26\n"})
    assert plan.main(["--stack", "broken"], root=root) == 1
    err = capsys.readouterr().err
    assert "stacks/Pulumi.broken.yaml:4:" in err and "not valid YAML" in err
    assert "Traceback" not in err


def test_a_stack_file_that_is_not_a_mapping_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project_copy(tmp_path, {"list": "- materialize:target: byo\n"})
    assert plan.main(["--stack", "list"], root=root) == 1
    assert "a stack file is a mapping" in capsys.readouterr().err


@pytest.mark.parametrize("given", ["s3cr3t-token-value", "=value", "aws:region=us-east-1"])
def test_a_malformed_secret_argument_is_a_usage_error_that_does_not_echo_it(
    given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        plan.main(["--stack", "byo", "--secret", given])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "argument --secret" in err and "Traceback" not in err
    if "=" not in given:
        assert given not in err


def test_a_secret_may_be_given_with_the_project_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["--stack", "byo", "--secret", "materialize:licenseKey=do-not-print-me"]) == 0
    out = capsys.readouterr().out
    assert "licenseKey: a placeholder" not in out and "do-not-print-me" not in out
