"""The per-instance database Job's own command, run against a real PostgreSQL.

The Job is taken from the evaluated graph (its command and environment, with
Secret references resolved from the Secrets in the same graph), so what runs
here is what the cluster would run; only the server address is the local one.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from components.metadata_url import METADATA_STATEMENT_TIMEOUT
from tests.harness.metadata_job import connect, job_environment, run_job_command
from tests.harness.stack import Evaluation, evaluate
from tests.support.postgres_server import PostgresServer
from tests.support.pytest_services import throwaway_postgres
from tests.targets.local.stack import local_stack


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    yield from throwaway_postgres(require_psql=True)


@pytest.fixture(scope="module")
def graph() -> Evaluation:
    return evaluate(local_stack(instances=[{"name": "main"}, {"name": "ad-hoc"}]))


def environment_for(graph: Evaluation, job_name: str, server: PostgresServer, **overrides: str) -> dict[str, str]:
    """The Job's environment as the kubelet would build it, aimed at `server`."""
    # The throwaway server has its own superuser password.
    superuser = {"username": server.superuser, "password": server.superuser_password}
    resolved = job_environment(graph, job_name, {"postgres-superuser": superuser})
    resolved.update(PGHOST=server.host, PGPORT=str(server.port))
    resolved.update(overrides)
    return resolved


def run_job(graph: Evaluation, job_name: str, server: PostgresServer, **overrides: str) -> None:
    result = run_job_command(graph, job_name, environment_for(graph, job_name, server, **overrides))
    assert result.returncode == 0, result.stderr


def test_first_run_gives_the_instance_a_database_it_owns(graph: Evaluation, server: PostgresServer) -> None:
    run_job(graph, "metadata-db-main", server)
    with connect(graph, "main", server) as conn:
        # What environmentd does on first start.
        conn.execute("CREATE SCHEMA IF NOT EXISTS consensus")
        conn.execute("CREATE TABLE consensus.probe (k int)")
        owner = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
        ).fetchone()
        assert owner == ("materialize_main",)


def test_reruns_change_nothing_and_keep_data(graph: Evaluation, server: PostgresServer) -> None:
    run_job(graph, "metadata-db-main", server)
    run_job(graph, "metadata-db-main", server)
    with connect(graph, "main", server) as conn:
        assert conn.execute("SELECT count(*) FROM consensus.probe").fetchone() == (0,)
    with server.superuser_connection() as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = 'materialize_main'").fetchone() == (1,)


def test_an_instance_added_later_gets_its_own_database_and_no_other(graph: Evaluation, server: PostgresServer) -> None:
    run_job(graph, "metadata-db-main", server)
    run_job(graph, "metadata-db-ad-hoc", server)
    with connect(graph, "ad-hoc", server) as conn:
        assert conn.execute("SELECT current_database(), current_user").fetchone() == (
            "materialize_ad_hoc",
            "materialize_ad_hoc",
        )
    # Its credentials do not open the other instance's database.
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        connect(graph, "ad-hoc", server, dbname="materialize_main").close()


def test_a_rerun_sets_a_changed_password(graph: Evaluation, server: PostgresServer) -> None:
    run_job(graph, "metadata-db-main", server)
    run_job(graph, "metadata-db-main", server, METADATA_PASSWORD="rotated0password1")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(graph, "main", server).close()
    connect(graph, "main", server, password="rotated0password1").close()
    run_job(graph, "metadata-db-main", server)
    connect(graph, "main", server).close()


def test_a_missing_variable_fails_the_job(graph: Evaluation, server: PostgresServer) -> None:
    environment = environment_for(graph, "metadata-db-main", server)
    del environment["METADATA_ROLE"]
    result = run_job_command(graph, "metadata-db-main", environment)
    assert result.returncode != 0


def test_the_role_bounds_every_metadata_query(graph: Evaluation, server: PostgresServer) -> None:
    # environmentd drops `options` from the URL, so the role's own setting is what applies.
    run_job(graph, "metadata-db-main", server)
    with connect(graph, "main", server) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == (METADATA_STATEMENT_TIMEOUT,)
