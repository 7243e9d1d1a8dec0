"""The SQL probe: what Materialize is for, checked end to end on a fresh instance.

Connect (retrying while balancerd and the load balancer come up), create a
table and a materialized view over it, insert rows, and read the view until
it reflects them. Materialize keeps the view up to date by itself, so the
Materialize dialect issues nothing between the insert and the reads; a
dialect for a database whose views must be refreshed by hand says so in
`after_insert` (the tests' PostgreSQL stand-in does).

Every step is bounded: each connection attempt by `connect_timeout`, all
attempts together by `connect_deadline` (no new attempt starts after it, so
the last one may end up to `connect_timeout` later), and the statements after connecting
by `work_deadline`, enforced by cancelling whatever statement is still
running (a query on a cluster without replicas would otherwise wait forever).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Protocol

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from tools.nightly.naming import run_sql_name

# Three rows and their sum: what the view must show once it has caught up.
ROWS = ((1, 10), (2, 20), (3, 30))
EXPECTED = (len(ROWS), sum(amount for _, amount in ROWS))


class ProbeError(RuntimeError):
    """The instance did not answer, or did not show what was written, in time."""


@dataclass(frozen=True)
class ProbeTimings:
    connect_timeout: int = 10  # seconds, one attempt (libpq and psycopg treat values below 2 as 2)
    connect_deadline: float = 300.0  # all attempts together
    work_deadline: float = 180.0  # everything after connecting
    poll_interval: float = 1.0
    cleanup_deadline: float = 30.0


# What psycopg executes: composed SQL (never a plain str built at run time).
Statement = sql.SQL | sql.Composed


class Dialect(Protocol):
    @property
    def name(self) -> str: ...

    def session_setup(self) -> Sequence[Statement]: ...

    def after_insert(self, view: sql.Identifier) -> Sequence[Statement]: ...


@dataclass(frozen=True)
class MaterializeDialect:
    # Self-managed installs start with this cluster; the probe's view runs there.
    cluster: str = "quickstart"
    name: str = "materialize"

    def session_setup(self) -> Sequence[Statement]:
        return [sql.SQL("SET cluster = {}").format(sql.Literal(self.cluster))]

    def after_insert(self, view: sql.Identifier) -> Sequence[Statement]:
        # Nothing: Materialize maintains the view incrementally; reading it is the test.
        return []


@dataclass(frozen=True)
class ProbeNames:
    table: str
    view: str


def probe_names(run_id: str) -> ProbeNames:
    """Names derived from the run id, so a rerun of the probe replaces its own objects and nothing else."""
    base = run_sql_name("nightly_probe_", run_id, 50)
    return ProbeNames(table=base, view=f"{base}_totals")


def _address(conninfo: str) -> str:
    params = conninfo_to_dict(conninfo)
    return f"{params.get('host', 'localhost')}:{params.get('port', 5432)}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def connect(
    conninfo: str,
    timings: ProbeTimings,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> psycopg.Connection:
    """An autocommit connection, retried until timings.connect_deadline; ProbeError says why it failed."""
    start = clock()
    deadline = start + timings.connect_deadline
    attempts = 0
    while True:
        attempts += 1
        try:
            return psycopg.connect(conninfo, connect_timeout=timings.connect_timeout, autocommit=True)
        except psycopg.OperationalError as error:
            # Refused, reset or timed out while balancerd, its pods or the
            # load balancer are still starting: all look alike from here.
            remaining = deadline - clock()
            if remaining <= 0:
                raise ProbeError(
                    f"could not connect to {_address(conninfo)} within {timings.connect_deadline:.0f}s "
                    f"({attempts} attempts, {clock() - start:.1f}s): {_first_line(error)}"
                ) from error
            sleep(min(timings.poll_interval, remaining))


@contextmanager
def _cancel_after(connection: psycopg.Connection, seconds: float) -> Iterator[threading.Event]:
    """Cancels the running statement once `seconds` pass; the event tells whether that happened."""
    fired = threading.Event()

    def cancel() -> None:
        fired.set()
        connection.cancel_safe(timeout=10)

    timer = threading.Timer(max(seconds, 0.0), cancel)
    timer.daemon = True
    timer.start()
    try:
        yield fired
    finally:
        timer.cancel()


def run_probe(
    conninfo: str,
    names: ProbeNames,
    dialect: Dialect,
    timings: ProbeTimings | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Runs the probe; returns what it saw, or raises ProbeError."""
    timings = timings or ProbeTimings()
    table, view = sql.Identifier(names.table), sql.Identifier(names.view)
    with connect(conninfo, timings, sleep, clock) as connection:
        try:
            with _cancel_after(connection, timings.work_deadline) as expired:
                try:
                    return _write_and_read(connection, table, view, dialect, timings, sleep, clock)
                except psycopg.Error as error:
                    if expired.is_set():
                        raise ProbeError(
                            f"the probe did not finish within {timings.work_deadline:.0f}s "
                            f"(a statement was cancelled): {_first_line(error)}"
                        ) from error
                    raise ProbeError(_first_line(error)) from error
        finally:
            _clean_up(connection, table, timings)


def _write_and_read(
    connection: psycopg.Connection,
    table: sql.Identifier,
    view: sql.Identifier,
    dialect: Dialect,
    timings: ProbeTimings,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> str:
    deadline = clock() + timings.work_deadline
    for statement in dialect.session_setup():
        connection.execute(statement)
    # Left over by an earlier attempt of this same run: start clean.
    connection.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(table))
    connection.execute(sql.SQL("CREATE TABLE {} (id integer NOT NULL, amount integer NOT NULL)").format(table))
    connection.execute(
        sql.SQL("CREATE MATERIALIZED VIEW {} AS SELECT count(*) AS row_count, sum(amount) AS total FROM {}").format(
            view, table
        )
    )
    values = sql.SQL(", ").join(sql.SQL("({}, {})").format(sql.Literal(i), sql.Literal(a)) for i, a in ROWS)
    inserted_at = clock()
    connection.execute(sql.SQL("INSERT INTO {} VALUES ").format(table) + values)
    for statement in dialect.after_insert(view):
        connection.execute(statement)
    seen: tuple[int, int | None] | None = None
    while True:
        row = connection.execute(sql.SQL("SELECT row_count, total FROM {}").format(view)).fetchone()
        seen = (int(row[0]), None if row[1] is None else int(row[1])) if row else None
        if seen == EXPECTED:
            return f"view shows {EXPECTED[0]} rows, total {EXPECTED[1]}, {clock() - inserted_at:.1f}s after the insert"
        if clock() >= deadline:
            raise ProbeError(
                f"the view did not reflect the insert within {timings.work_deadline:.0f}s: "
                f"expected {EXPECTED[0]} rows, total {EXPECTED[1]}; last saw {_describe(seen)}"
            )
        sleep(timings.poll_interval)


def _describe(seen: tuple[int, int | None] | None) -> str:
    if seen is None:
        return "no row"
    return f"{seen[0]} rows, total {seen[1]}"


def _clean_up(connection: psycopg.Connection, table: sql.Identifier, timings: ProbeTimings) -> None:
    """Drops the probe's table and view, best effort: the stack is destroyed next anyway."""
    if connection.closed:
        return
    with _cancel_after(connection, timings.cleanup_deadline), suppress(psycopg.Error):
        connection.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(table))
