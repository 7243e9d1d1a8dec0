"""A real PostgreSQL server with the Materialize stand-in, and connections to it as different users."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import sql

from components.cluster_sizes import CHART_SIZE_NAMES
from components.controlplane.catalog import ReplicaRecord
from tests.controlplane import standin
from tests.support.postgres_server import PostgresServer
from tests.support.pytest_services import throwaway_postgres

# quickstart as Materialize makes it (managed, owned by mz_system: initialize.rs@00185d2b);
# analytics is the customer's own, so the customer owns its replicas, support's too.
CLUSTERS = [
    standin.Cluster("quickstart", owner="mz_system", managed=True),
    standin.Cluster("analytics", owner="customer"),
    standin.Cluster('Odd "Cluster" ü'),
]
EXTRA_SIZE = "support-free"
# The providers' and commands' "now" in the tests.
NOW = datetime.datetime(2026, 9, 1, 12, 0, tzinfo=datetime.UTC)


def clock() -> datetime.datetime:
    return NOW


@dataclass(frozen=True)
class StandIn:
    """The stand-in in a fresh state: connections (plain mappings, as the providers take them) per user."""

    server: PostgresServer
    passwords: dict[str, str]

    def connection(self, user: str = "mz_system", password: str | None = None) -> dict[str, str]:
        url = self.server.url(
            user=user, password=self.passwords[user] if password is None else password, sslmode="disable"
        )
        return {"url": url}

    def connect(self, user: str = "mz_system") -> psycopg.Connection[Any]:
        """An autocommit connection (as mz_system), to arrange or inspect the catalog behind the code's back."""
        return psycopg.connect(self.connection(user)["url"], autocommit=True)

    def replicas(self) -> list[ReplicaRecord]:
        """What the catalog holds, read as mz_system."""
        with self.connect() as conn:
            return standin.PostgresStandInCatalog().replicas(conn)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    yield from throwaway_postgres()


@pytest.fixture(scope="session")
def standin_roles(postgres_server: PostgresServer) -> dict[str, str]:
    """Login roles named like Materialize's internal users, and a customer's."""
    passwords = {user: secrets.token_urlsafe(12) for user in (*standin.INTERNAL_USERS, "customer")}
    with postgres_server.superuser_connection() as conn:
        for user, password in passwords.items():
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(user), sql.Literal(password))
            )
        # So mz_system can create the ledger's schema (in Materialize it creates the database itself).
        conn.execute(
            sql.SQL("GRANT CREATE ON DATABASE {} TO mz_system").format(sql.Identifier(postgres_server.app_database))
        )
    return passwords


@pytest.fixture
def stand_in(postgres_server: PostgresServer, standin_roles: dict[str, str]) -> StandIn:
    with postgres_server.superuser_connection(postgres_server.app_database) as conn:
        standin.install(conn, CLUSTERS, [*CHART_SIZE_NAMES, EXTRA_SIZE])
    return StandIn(postgres_server, standin_roles)
