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
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from tests.harness.metadata_job import connect, job_environment, run_job_command
from tests.harness.stack import Evaluation, evaluate
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


def run_job(graph: Evaluation, instance: str, server: PostgresServer, master_password: str) -> None:
    job_name = f"metadata-db-{instance}"
    env = job_environment(graph, job_name)
    assert env["PGUSER"] == MASTER
    # The local server stands in for RDS.
    env.update(PGHOST=server.host, PGPORT=str(server.port), PGPASSWORD=master_password)
    result = run_job_command(graph, job_name, env)
    assert result.returncode == 0, result.stderr


def test_a_non_superuser_master_gives_the_instance_a_database_it_owns(
    graph: Evaluation, server: PostgresServer, master_password: str
) -> None:
    run_job(graph, "main", server, master_password)
    with connect(graph, "main", server) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS consensus")
        conn.execute("CREATE TABLE IF NOT EXISTS consensus.probe (k int)")
        owner = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
        ).fetchone()
        assert owner == ("materialize_main",)
        # sslmode=require from the URL: the connection is encrypted.
        assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone() == (True,)


def test_reruns_converge_and_keep_data(graph: Evaluation, server: PostgresServer, master_password: str) -> None:
    run_job(graph, "main", server, master_password)
    run_job(graph, "main", server, master_password)
    with connect(graph, "main", server) as conn:
        assert conn.execute("SELECT count(*) FROM consensus.probe").fetchone() == (0,)


def test_instances_cannot_open_each_others_databases(
    graph: Evaluation, server: PostgresServer, master_password: str
) -> None:
    run_job(graph, "main", server, master_password)
    run_job(graph, "ad-hoc", server, master_password)
    with connect(graph, "ad-hoc", server) as conn:
        assert conn.execute("SELECT current_database(), current_user").fetchone() == (
            "materialize_ad_hoc",
            "materialize_ad_hoc",
        )
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        connect(graph, "ad-hoc", server, dbname="materialize_main").close()
