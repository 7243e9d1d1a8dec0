"""PostgreSQL standing in for Materialize in the SQL probe's tests, and a late-starting relay.

PostgreSQL's materialized views are computed once and change only on
REFRESH MATERIALIZED VIEW, while Materialize keeps them current by itself.
So the stand-in dialect issues that REFRESH after the insert: the tests
that use it check the probe's connection handling, retries, deadlines and
SQL, never Materialize's incremental maintenance (only a real run does).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from psycopg import sql

from tests.support.net import LOOPBACK
from tools.nightly.probe import Statement


@dataclass(frozen=True)
class PostgresStandIn:
    # False: the view is never refreshed, so it never shows the insert.
    refresh: bool = True
    name: str = "postgresql-stand-in"

    def session_setup(self) -> Sequence[Statement]:
        return []

    def after_insert(self, view: sql.Identifier) -> Sequence[Statement]:
        return [sql.SQL("REFRESH MATERIALIZED VIEW {}").format(view)] if self.refresh else []


@dataclass(frozen=True)
class HangingStandIn:
    """A statement after the insert that does not return for a minute, like a query on a cluster without replicas."""

    name: str = "postgresql-hanging"

    def session_setup(self) -> Sequence[Statement]:
        return []

    def after_insert(self, view: sql.Identifier) -> Sequence[Statement]:
        return [sql.SQL("SELECT pg_sleep(60)")]


def _pump(source: socket.socket, destination: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            destination.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, destination):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


@contextmanager
def late_relay(port: int, upstream_port: int, delay: float) -> Iterator[None]:
    """After `delay` seconds, starts relaying loopback `port` to `upstream_port` (a server that starts late)."""
    stop = threading.Event()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    def serve() -> None:
        if stop.wait(delay):
            return
        listener.bind((LOOPBACK, port))
        listener.listen()
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server = socket.create_connection((LOOPBACK, upstream_port))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


@contextmanager
def black_hole() -> Iterator[int]:
    """A loopback port whose connections are accepted by the kernel and then never answered."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((LOOPBACK, 0))
    listener.listen(16)
    try:
        yield int(listener.getsockname()[1])
    finally:
        listener.close()
