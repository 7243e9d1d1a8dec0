"""Postgres checks against a real throwaway server."""

from __future__ import annotations

from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

from tests.support.net import free_port
from tests.support.postgres_server import PostgresServer
from tools.doctor.postgres import ConnectionUsage, check_postgres, headroom_check, version_check
from tools.doctor.report import Check, Status


def run(url: str, timeout: float = 5) -> list[Check]:
    return list(check_postgres(url, "postgres[main]", timeout))


def statuses(checks: list[Check]) -> list[Status]:
    return [check.status for check in checks]


def test_healthy_over_tls(postgres_server: PostgresServer) -> None:
    checks = run(postgres_server.url(sslmode="require"))
    assert statuses(checks) == [Status.OK] * 5, [c.line() for c in checks]
    tls, version, schema, headroom = checks[1:]
    assert "session encrypted with TLS" in tls.message
    assert version.message.startswith("PostgreSQL 1")
    assert "may create schemas" in schema.message
    assert "connection headroom ok" in headroom.message


def test_verify_full_with_inline_root_certificate(postgres_server: PostgresServer) -> None:
    pem = postgres_server.ca_file.read_text()
    url = postgres_server.url(sslmode="verify-full") + "&sslrootcert_inline=" + quote(pem, safe="")
    checks = run(url)
    assert "certificate and host name verified" in checks[1].message
    assert Status.FAIL not in statuses(checks)


def test_verify_full_against_an_untrusted_certificate(postgres_server: PostgresServer) -> None:
    # Without a root certificate the system trust store is used, which does not know ours.
    checks = run(postgres_server.url(sslmode="verify-full"))
    assert checks[-1].status is Status.FAIL
    assert "could not be verified" in checks[-1].message


def test_unencrypted_session_is_a_warning(postgres_server: PostgresServer) -> None:
    checks = run(postgres_server.url(sslmode="disable"))
    assert checks[1].status is Status.WARN
    assert "NOT encrypted" in checks[1].message
    assert Status.FAIL not in statuses(checks)


def test_wrong_password(postgres_server: PostgresServer) -> None:
    checks = run(postgres_server.url(password="not-the-password"))
    assert checks[-1].status is Status.FAIL
    assert "authentication failed" in checks[-1].message
    assert "not-the-password" not in checks[-1].line()


def test_unknown_user(postgres_server: PostgresServer) -> None:
    checks = run(postgres_server.url(user="nobody_here"))
    assert checks[-1].status is Status.FAIL
    # PostgreSQL reports unknown users as failed password authentication on purpose.
    assert "authentication failed" in checks[-1].message


def test_missing_database(postgres_server: PostgresServer) -> None:
    checks = run(postgres_server.url(database="no_such_db"))
    assert checks[-1].status is Status.FAIL
    assert "database 'no_such_db' does not exist" in checks[-1].message
    assert "CREATE DATABASE" in (checks[-1].fix or "")


def test_database_without_create_privilege(postgres_server: PostgresServer) -> None:
    checks = run(postgres_server.url(database=postgres_server.locked_database))
    failed = [check for check in checks if check.status is Status.FAIL]
    assert len(failed) == 1
    assert "may not create schemas" in failed[0].message
    assert "GRANT CREATE ON DATABASE" in (failed[0].fix or "")


def test_unreachable_host() -> None:
    checks = run(f"postgres://u:pw@127.0.0.1:{free_port()}/db", timeout=2)
    assert checks[-1].status is Status.FAIL
    assert "cannot reach 127.0.0.1" in checks[-1].message


def test_options_are_rejected_before_connecting() -> None:
    checks = run("postgres://u:Zq9pw@127.0.0.1:1/db?options=--search_path%3Dfoo")
    assert statuses(checks) == [Status.FAIL]
    assert "sets options" in checks[0].message
    assert "Zq9" not in checks[0].line()


def test_nothing_is_left_behind(postgres_server: PostgresServer) -> None:
    run(postgres_server.url())
    with postgres_server.superuser_connection(postgres_server.app_database) as conn:
        leftovers = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'mz_doctor_%'").fetchall()
    assert leftovers == []


def test_materialize_schema_owned_by_someone_else(postgres_server: PostgresServer) -> None:
    database = "mz_preowned"
    with postgres_server.superuser_connection() as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(database), sql.Identifier(postgres_server.app_user)
            )
        )
    try:
        with postgres_server.superuser_connection(database) as conn:
            conn.execute("CREATE SCHEMA consensus")  # owned by the superuser, no grants
        checks = run(postgres_server.url(database=database))
        failed = [check for check in checks if check.status is Status.FAIL]
        assert len(failed) == 1
        assert "consensus" in failed[0].message
        assert "ALTER SCHEMA consensus OWNER TO" in (failed[0].fix or "")
    finally:
        with postgres_server.superuser_connection() as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))


def test_materialize_schema_already_usable(postgres_server: PostgresServer) -> None:
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
        conn.execute("CREATE SCHEMA tsoracle")
    try:
        checks = run(postgres_server.url())
        notes = [check for check in checks if "already holds Materialize state" in check.message]
        assert [check.status for check in notes] == [Status.OK]
    finally:
        with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
            conn.execute("DROP SCHEMA tsoracle")


@pytest.mark.parametrize(
    ("usage", "sharing", "expected"),
    [
        (ConnectionUsage(500, 3, 10, -1, -1), 1, Status.OK),
        (ConnectionUsage(100, 3, 10, -1, -1), 1, Status.WARN),
        (ConnectionUsage(500, 3, 10, -1, -1), 5, Status.WARN),
        (ConnectionUsage(500, 3, 10, 20, -1), 1, Status.WARN),
        (ConnectionUsage(500, 3, 10, -1, 50), 1, Status.WARN),
        (ConnectionUsage(100, 3, 97, -1, -1), 1, Status.FAIL),
        (ConnectionUsage(113, 3, 10, -1, -1), 1, Status.OK),
        (ConnectionUsage(112, 3, 10, -1, -1), 1, Status.WARN),
    ],
)
def test_connection_headroom(usage: ConnectionUsage, sharing: int, expected: Status) -> None:
    assert headroom_check(usage, sharing, "postgres[main]").status is expected


@pytest.mark.parametrize(("version", "expected"), [(140011, Status.WARN), (150000, Status.OK), (170002, Status.OK)])
def test_server_version(version: int, expected: Status) -> None:
    assert version_check(version, "postgres[main]").status is expected
