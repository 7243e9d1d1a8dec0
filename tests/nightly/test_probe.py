"""The SQL probe against a real PostgreSQL server on loopback: connecting, retrying, deadlines, the SQL itself.

PostgreSQL stands in for Materialize here (see postgres_standin.py): these
tests say nothing about incremental view maintenance, only that the probe
connects, waits, gives up and reports as it should.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from tests.nightly.postgres_standin import HangingStandIn, PostgresStandIn, black_hole, late_relay
from tests.support.net import LOOPBACK, free_port
from tests.support.postgres_server import PostgresServer
from tests.support.pytest_services import throwaway_postgres
from tools.nightly.probe import MaterializeDialect, ProbeError, ProbeTimings, probe_names, run_probe

NAMES = probe_names("20250102t0300-77-1")
QUICK = ProbeTimings(connect_timeout=2, connect_deadline=3.0, work_deadline=10.0, poll_interval=0.2)


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    yield from throwaway_postgres()


def url(server: PostgresServer, port: int | None = None) -> str:
    text = server.url(sslmode="require")
    return text if port is None else text.replace(f":{server.port}/", f":{port}/")


def table_exists(server: PostgresServer, name: str) -> bool:
    with server.superuser_connection(server.app_database) as connection:
        return connection.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone() == (True,)


def test_the_probe_writes_rows_and_reads_them_back_through_a_materialized_view(postgres: PostgresServer) -> None:
    detail = run_probe(url(postgres), NAMES, PostgresStandIn(), QUICK)

    assert detail.startswith("view shows 3 rows, total 60, ")
    # Its own objects are gone afterwards.
    assert not table_exists(postgres, NAMES.table)


def test_a_leftover_from_an_earlier_attempt_is_replaced(postgres: PostgresServer) -> None:
    with psycopg.connect(url(postgres), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE TABLE {} (stale text)").format(sql.Identifier(NAMES.table)))
    assert run_probe(url(postgres), NAMES, PostgresStandIn(), QUICK).startswith("view shows 3 rows")


def test_a_view_that_never_catches_up_fails_at_the_deadline_with_what_it_saw(postgres: PostgresServer) -> None:
    timings = ProbeTimings(connect_timeout=2, connect_deadline=3.0, work_deadline=1.5, poll_interval=0.2)
    start = time.monotonic()
    with pytest.raises(ProbeError) as raised:
        run_probe(url(postgres), NAMES, PostgresStandIn(refresh=False), timings)
    elapsed = time.monotonic() - start

    assert 1.5 <= elapsed < 6
    assert str(raised.value) == (
        "the view did not reflect the insert within 2s: expected 3 rows, total 60; last saw 0 rows, total None"
    )
    assert not table_exists(postgres, NAMES.table)


def test_nothing_listening_is_retried_until_the_deadline_then_reported() -> None:
    port = free_port()
    start = time.monotonic()
    with pytest.raises(ProbeError) as raised:
        run_probe(
            f"postgresql://mz_system:Secr3tPw@{LOOPBACK}:{port}/db?sslmode=require", NAMES, PostgresStandIn(), QUICK
        )
    elapsed = time.monotonic() - start

    message = str(raised.value)
    assert message.startswith(f"could not connect to {LOOPBACK}:{port} within 3s (")
    attempts = int(message.split("(")[1].split(" attempts")[0])
    assert attempts > 3  # refused at once, so it kept trying every poll interval
    assert 3 <= elapsed < 6
    assert "Secr3tPw" not in message


def test_a_server_that_starts_late_is_waited_for(postgres: PostgresServer) -> None:
    port = free_port()
    timings = ProbeTimings(connect_timeout=2, connect_deadline=20.0, work_deadline=10.0, poll_interval=0.2)
    start = time.monotonic()
    with late_relay(port, postgres.port, delay=1.5):
        detail = run_probe(url(postgres, port), NAMES, PostgresStandIn(), timings)
    assert detail.startswith("view shows 3 rows")
    assert time.monotonic() - start >= 1.5


def test_a_server_that_accepts_but_never_answers_is_bounded_by_the_connect_timeout() -> None:
    timings = ProbeTimings(connect_timeout=2, connect_deadline=3.0, work_deadline=5.0, poll_interval=0.2)
    start = time.monotonic()
    with black_hole() as port, pytest.raises(ProbeError) as raised:
        run_probe(f"postgresql://u:p@{LOOPBACK}:{port}/db?sslmode=require", NAMES, PostgresStandIn(), timings)
    elapsed = time.monotonic() - start

    assert str(raised.value).startswith(f"could not connect to {LOOPBACK}:{port} within 3s (2 attempts")
    assert 3 <= elapsed < 8


def test_a_statement_that_hangs_is_cancelled_at_the_deadline(postgres: PostgresServer) -> None:
    timings = ProbeTimings(connect_timeout=2, connect_deadline=3.0, work_deadline=1.5, poll_interval=0.2)
    start = time.monotonic()
    with pytest.raises(ProbeError) as raised:
        run_probe(url(postgres), NAMES, HangingStandIn(), timings)
    elapsed = time.monotonic() - start

    assert str(raised.value).startswith("the probe did not finish within 2s (a statement was cancelled)")
    assert elapsed < 6
    assert not table_exists(postgres, NAMES.table)


def test_probe_names_come_from_the_run_id() -> None:
    assert NAMES.table == "nightly_probe_20250102t0300_77_1"
    assert NAMES.view == "nightly_probe_20250102t0300_77_1_totals"
    assert probe_names("x" * 80).table == "nightly_probe_" + "x" * 36


def test_the_materialize_dialect_maintains_nothing_by_hand() -> None:
    dialect = MaterializeDialect()
    assert dialect.after_insert(sql.Identifier("v")) == []
    assert [s.as_string() for s in dialect.session_setup()] == ["SET cluster = 'quickstart'"]
