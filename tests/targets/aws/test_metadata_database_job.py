"""The per-instance database Job's own command, run against a real PostgreSQL
whose admin is shaped like RDS's master user: no superuser, but CREATEROLE
and CREATEDB.

The Job's command and environment come from the evaluated graph (Secret
references resolved from the Secrets in the same graph), so what runs here is
what the cluster would run; only the server address and the master user's
password are the local server's.
"""

from __future__ import annotations

import secrets
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.harness.metadata_job import (
    SECRET,
    connect,
    job_environment,
    job_volumes,
    run_job_command,
    with_local_mounts,
)
from tests.harness.stack import Evaluation, evaluate, named
from tests.support.postgres_server import PostgresServer
from tests.support.pytest_services import throwaway_postgres
from tests.targets.aws.stack import aws_stack

MASTER = "mzadmin"


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    yield from throwaway_postgres(require_psql=True)


@pytest.fixture(scope="module")
def master_password(server: PostgresServer) -> str:
    password = secrets.token_hex(16)
    with server.superuser_connection() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEROLE CREATEDB PASSWORD {}").format(
                sql.Identifier(MASTER), sql.Literal(password)
            )
        )
    return password


@pytest.fixture(scope="module")
def graph() -> Evaluation:
    return evaluate(aws_stack(instances=[{"name": "main"}, {"name": "ad-hoc"}]))


def run_job(
    graph: Evaluation, instance: str, server: PostgresServer, master_password: str, tmp_path: Path
) -> dict[str, Path]:
    """Run the Job's command with its volumes under a fresh directory; returns the mounts."""
    job_name = f"metadata-db-{instance}"
    master = named(graph, SECRET, "rds-master").inputs["stringData"]
    assert master["username"] == MASTER
    # The local server stands in for RDS, in the master Secret's files.
    local = {**master, "host": server.host, "port": str(server.port), "password": master_password}
    mounted = job_volumes(graph, job_name, Path(tempfile.mkdtemp(dir=tmp_path)), {"rds-master": local})
    env = with_local_mounts(job_environment(graph, job_name), mounted)
    result = run_job_command(graph, job_name, env)
    assert result.returncode == 0, result.stderr
    return mounted


def test_a_non_superuser_master_gives_the_instance_a_database_it_owns(
    graph: Evaluation, server: PostgresServer, master_password: str, tmp_path: Path
) -> None:
    run_job(graph, "main", server, master_password, tmp_path)
    with connect(graph, "main", server) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS consensus")
        conn.execute("CREATE TABLE IF NOT EXISTS consensus.probe (k int)")
        owner = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
        ).fetchone()
        assert owner == ("materialize_main",)
        # sslmode=require from the URL: the connection is encrypted.
        assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone() == (True,)


def test_reruns_converge_and_keep_data(
    graph: Evaluation, server: PostgresServer, master_password: str, tmp_path: Path
) -> None:
    run_job(graph, "main", server, master_password, tmp_path)
    run_job(graph, "main", server, master_password, tmp_path)
    with connect(graph, "main", server) as conn:
        assert conn.execute("SELECT count(*) FROM consensus.probe").fetchone() == (0,)


def test_instances_cannot_open_each_others_databases(
    graph: Evaluation, server: PostgresServer, master_password: str, tmp_path: Path
) -> None:
    run_job(graph, "main", server, master_password, tmp_path)
    run_job(graph, "ad-hoc", server, master_password, tmp_path)
    with connect(graph, "ad-hoc", server) as conn:
        assert conn.execute("SELECT current_database(), current_user").fetchone() == (
            "materialize_ad_hoc",
            "materialize_ad_hoc",
        )
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        connect(graph, "ad-hoc", server, dbname="materialize_main").close()


def test_the_master_password_reaches_psql_only_through_a_private_password_file(
    graph: Evaluation, server: PostgresServer, master_password: str, tmp_path: Path
) -> None:
    # A password with the two characters a password file must escape.
    password = "pa:ss\\word-" + secrets.token_hex(4)
    with server.superuser_connection() as conn:
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(MASTER), sql.Literal(password)))
    try:
        mounted = run_job(graph, "main", server, password, tmp_path)
    finally:
        with server.superuser_connection() as conn:
            conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(MASTER), sql.Literal(master_password))
            )
    [scratch] = [d for path, d in mounted.items() if path == "/scratch"]
    passfile = scratch / "pgpass"
    assert stat.S_IMODE(passfile.stat().st_mode) == 0o600
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    assert passfile.read_text() == f"*:*:*:{MASTER}:{escaped}\n"


def test_no_credential_is_in_the_jobs_environment(graph: Evaluation) -> None:
    env = job_environment(graph, "metadata-db-main")
    credentials = named(graph, SECRET, "metadata-db-main").inputs["stringData"]
    master = named(graph, SECRET, "rds-master").inputs["stringData"]
    values = "\n".join(env.values())
    assert master["password"] not in values and credentials["password"] not in values
    assert not {"PGPASSWORD", "METADATA_PASSWORD"} & set(env)
