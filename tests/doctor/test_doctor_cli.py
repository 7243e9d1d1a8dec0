"""The doctor end to end, against real Postgres and S3 servers."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from psycopg import sql

from tests.support.net import free_port
from tests.support.postgres_server import PostgresServer
from tests.support.s3_server import S3Server
from tools.doctor.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
# Keep the developer's own cloud credentials and config out of every run.
ISOLATION = {
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def run_main(argv: list[str], environ: dict[str, str]) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--no-pulumi", *argv], environ={**ISOLATION, **environ}, out=out)
    return code, out.getvalue()


def secret_forms(*secrets: str) -> list[str]:
    return [form for secret in secrets for form in (secret, quote(secret, safe=""), quote_plus(secret, safe=""))]


def fail_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("FAIL")]


@pytest.fixture
def healthy_env(postgres_server: PostgresServer, s3_server: S3Server, s3_bucket: str) -> dict[str, str]:
    return {
        "MZ_METADATA_BACKEND_URL": postgres_server.url(sslmode="require"),
        "MZ_PERSIST_BACKEND_URL": s3_server.persist_url(s3_bucket),
    }


def test_healthy_setup_passes_as_a_subprocess(
    healthy_env: dict[str, str], postgres_server: PostgresServer, s3_server: S3Server, s3_bucket: str
) -> None:
    environment = {"PATH": os.environ.get("PATH", ""), **ISOLATION, **healthy_env}
    result = subprocess.run(
        [sys.executable, "-m", "tools.doctor", "--no-pulumi", "--skip", "kubernetes"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert fail_lines(output) == []
    assert "skip  kubernetes: skipped (--skip kubernetes)" in output
    assert "ok    postgres[main]: connected; session encrypted" in output
    assert "ok    blob[main]: write, read, list and delete" in output
    assert output.rstrip().endswith("doctor: ready (8 ok, 0 warn, 0 FAIL, 1 skip)"), output
    for secret in secret_forms(postgres_server.app_password, s3_server.secret_access_key):
        assert secret not in output
    assert s3_server.object_keys(s3_bucket) == []


def test_kubernetes_is_checked_unless_skipped(healthy_env: dict[str, str]) -> None:
    code, output = run_main([], healthy_env)
    assert code == 1
    assert fail_lines(output) == [
        "FAIL  kubernetes: no kubeconfig given (the doctor never falls back to ~/.kube/config on its own) "
        "-> fix: set materialize:kubeconfig, or pass --kubeconfig / KUBECONFIG"
    ]


@pytest.fixture
def instance_databases(postgres_server: PostgresServer) -> Iterator[list[str]]:
    names = ["alpha", "beta"]
    with postgres_server.superuser_connection() as conn:
        for name in names:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(f"mz_{name}"), sql.Identifier(postgres_server.app_user)
                )
            )
    yield names
    with postgres_server.superuser_connection() as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(f"mz_{name}")))


def test_every_instance_gets_its_own_database_and_prefix(
    instance_databases: list[str], postgres_server: PostgresServer, s3_server: S3Server, s3_bucket: str
) -> None:
    environ = {
        "MZ_METADATA_BACKEND_URL": postgres_server.url(database="mz_{instance}"),
        "MZ_PERSIST_BACKEND_URL": s3_server.persist_url(s3_bucket, prefix="mz/{instance}"),
    }
    argv = ["--skip", "kubernetes", "--instance", "alpha", "--instance", "beta"]
    code, output = run_main(argv, environ)
    assert code == 0, output
    for name in instance_databases:
        assert f"postgres[{name}]: user 'mz_app' may create schemas in database 'mz_{name}'" in output
        assert f"blob[{name}]: write, read, list and delete under s3://{s3_bucket}/mz/{name} succeeded" in output


def test_shared_database_for_several_instances_fails(
    postgres_server: PostgresServer, healthy_env: dict[str, str]
) -> None:
    code, output = run_main(["--skip", "kubernetes", "--instance", "a", "--instance", "b"], healthy_env)
    assert code == 1
    assert any("would share one database" in line for line in fail_lines(output))
    assert any("would share one blob prefix" in line for line in fail_lines(output))


def test_each_failure_has_its_own_line(
    postgres_server: PostgresServer, s3_server: S3Server, s3_bucket: str, healthy_env: dict[str, str]
) -> None:
    unreachable = f"postgres://mz_app:pw@127.0.0.1:{free_port()}/mz_app_db"
    cases = {
        "wrong password": (
            {"MZ_METADATA_BACKEND_URL": postgres_server.url(password="Zq9-wrong-password")},
            "postgres[main]: authentication failed",
        ),
        "missing bucket": (
            {"MZ_PERSIST_BACKEND_URL": s3_server.persist_url("no-such-bucket")},
            "blob[main]: bucket 'no-such-bucket' does not exist",
        ),
        "no create privilege": (
            {"MZ_METADATA_BACKEND_URL": postgres_server.url(database=postgres_server.locked_database)},
            "postgres[main]: user 'mz_app' may not create schemas in database 'mz_locked_db'",
        ),
        "unknown persist parameter": (
            {"MZ_PERSIST_BACKEND_URL": s3_server.persist_url(s3_bucket) + "&storage_class=ONEZONE_IA"},
            "unknown persist URL query parameter(s): storage_class",
        ),
        "unreachable host": (
            {"MZ_METADATA_BACKEND_URL": unreachable},
            "postgres[main]: cannot reach 127.0.0.1:",
        ),
    }
    seen = []
    for name, (override, expected) in cases.items():
        code, output = run_main(["--skip", "kubernetes", "--timeout", "3"], {**healthy_env, **override})
        failures = fail_lines(output)
        assert code == 1, name
        assert len(failures) == 1, (name, output)
        assert expected in failures[0], (name, failures[0])
        for secret in secret_forms("Zq9-wrong-password", postgres_server.app_password, s3_server.secret_access_key):
            assert secret not in output, name
        seen.append(failures[0].split(": ", 1)[1])
    assert len(set(seen)) == len(seen)


def test_missing_urls_are_failures_not_crashes() -> None:
    code, output = run_main(["--skip", "kubernetes"], {})
    assert code == 1
    assert "FAIL  postgres: no metadata URL" in output
    assert "FAIL  blob: no persist URL" in output


def test_help_recommends_environment_variables_for_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "Prefer environment variables for secrets" in text
    assert "exit codes" in text


def test_bad_command_line_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--skip", "everything"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_an_unknown_stack_is_a_usage_error_naming_the_stacks(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run_main(["--stack", "bya", "--skip", "kubernetes"], {})
    assert code == 2
    err = capsys.readouterr().err
    assert "no stack file stacks/Pulumi.bya.yaml" in err and "byo" in err
