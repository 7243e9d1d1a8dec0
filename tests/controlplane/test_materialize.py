"""Opt-in: the providers and commands against a real Materialize, with MaterializeCatalog's own statements.

Set MATERIALIZE_SUPPORT_TEST_URL to mz_system's URL, for example the
internal SQL port of a local instance:

    MATERIALIZE_SUPPORT_TEST_URL=postgres://mz_system@localhost:6877/materialize \\
        venv/bin/pytest tests/controlplane/test_materialize.py

MATERIALIZE_SUPPORT_TEST_SIZE names a replica size the instance defines
(default 25cc); MATERIALIZE_SUPPORT_TEST_BILLED_AS optionally names a size to
bill the replicas as. The test creates a cluster of its own with no replicas,
adds support replicas to it and drops it again; the ledger
(materialize_support.ledger.replicas) is created if missing and kept.

MATERIALIZE_SUPPORT_TEST_CUSTOMER_URL, a URL of a regular (not internal, not
superuser) user of the same instance, adds the check that such a user cannot
write the ledger.
"""

from __future__ import annotations

import datetime
import io
import os
import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from components.controlplane.catalog import MaterializeCatalog, ReplicaRecord
from components.controlplane.connection import open_database
from components.controlplane.expiry import reconcile
from components.controlplane.ledger import qualified_table, trust_problems
from components.controlplane.provider import ReplicaSetProvider, SupportReplicaProvider
from components.controlplane.replicas import format_time, member_names
from tools.support import cli

URL = os.environ.get("MATERIALIZE_SUPPORT_TEST_URL")
CUSTOMER_URL = os.environ.get("MATERIALIZE_SUPPORT_TEST_CUSTOMER_URL")
SIZE = os.environ.get("MATERIALIZE_SUPPORT_TEST_SIZE", "25cc")
BILLED_AS = os.environ.get("MATERIALIZE_SUPPORT_TEST_BILLED_AS") or None

pytestmark = pytest.mark.skipif(
    not URL, reason="MATERIALIZE_SUPPORT_TEST_URL is not set (mz_system's URL of a Materialize to test against)"
)


@pytest.fixture
def cluster() -> Iterator[str]:
    name = f"support_test_{secrets.token_hex(4)}"
    with open_database({"url": URL}) as conn:
        conn.execute(
            sql.SQL("CREATE CLUSTER {} (SIZE = {}, REPLICATION FACTOR = 0)").format(
                sql.Identifier(name), sql.Literal(SIZE)
            )
        )
    try:
        yield name
    finally:
        with open_database({"url": URL}) as conn:
            conn.execute(sql.SQL("DROP CLUSTER IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def replicas_of(cluster: str) -> dict[str, ReplicaRecord]:
    with open_database({"url": URL}) as conn:
        return {r.name: r for r in MaterializeCatalog().replicas(conn) if r.cluster == cluster}


def props(cluster: str, name: str, expires: str, **more: Any) -> dict[str, Any]:
    return {
        "cluster": cluster,
        "name": name,
        "size": SIZE,
        "billedAs": BILLED_AS,
        "internal": True,
        "expiresAt": expires,
        "ticket": "SUP-TEST",
        "connection": {"url": URL},
        **more,
    }


def test_support_replicas_on_a_real_materialize(cluster: str) -> None:
    soon = format_time(datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1))
    later = format_time(datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=2))
    replicas = SupportReplicaProvider()
    name = 'Support "Boost" ü'

    created = replicas.create(props(cluster, name, soon))
    record = replicas_of(cluster)[name]
    assert record.id == created.id and record.internal and record.size == SIZE
    assert record.billed_as == BILLED_AS  # from Materialize's audit log
    assert record.marker is not None and record.marker.ticket == "SUP-TEST"
    assert replicas.read(created.id, created.outs).outs == created.outs
    with open_database({"url": URL}) as conn:
        catalog = MaterializeCatalog()
        assert trust_problems(catalog.ledger_facts(conn)) == []
        [entry] = [e for e in catalog.ledger(conn) if e.replica_id == created.id]
    assert (entry.cluster, entry.name, format_time(entry.expires_at)) == (cluster, name, soon)

    replicas.update(created.id, created.outs, {**created.outs, "expiresAt": later})
    assert replicas.read(created.id, created.outs).outs["expiresAt"] == later

    sets = ReplicaSetProvider()
    set_props = props(cluster, "burst", soon, replicationFactor=2, members=member_names("burst", 2))
    made = sets.create(set_props)
    assert made.outs["members"] == ["burst-1", "burst-2"]
    shrunk = sets.update(made.id, made.outs, {**set_props, "replicationFactor": 1, "members": ["burst-1"]})
    assert set(replicas_of(cluster)) == {name, "burst-1"}

    out = io.StringIO()
    assert cli.main(["list", "--cluster", cluster], environ={cli.URL_ENV: URL or ""}, out=out) == 0
    assert f"{cluster}.burst-1" in out.getvalue()

    in_a_day = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    with open_database({"url": URL}) as conn:
        # Only this test's cluster: the instance may hold other support replicas.
        result = reconcile(conn, MaterializeCatalog(), in_a_day, clusters=[cluster])
    assert f"{cluster}.burst-1" in {o.entry.qualified_name for o in result.dropped} and result.ok
    assert set(replicas_of(cluster)) == {name}

    assert sets.read(made.id, shrunk.outs).outs["drift"] is not None
    replicas.delete(created.id, created.outs)
    replicas.delete(created.id, created.outs)  # idempotent
    assert replicas_of(cluster) == {}


@pytest.mark.skipif(not CUSTOMER_URL, reason="MATERIALIZE_SUPPORT_TEST_CUSTOMER_URL is not set (a regular user's URL)")
def test_a_regular_user_cannot_write_the_ledger() -> None:
    with open_database({"url": URL}) as conn:
        MaterializeCatalog().ensure_ledger(conn)
    table = qualified_table()
    statements = [
        sql.SQL("INSERT INTO {} (replica_id, cluster_id, cluster_name, replica_name, size, expires_at) "
                "VALUES ('u0', 'u0', 'c', 'r', '25cc', now())").format(table),
        sql.SQL("UPDATE {} SET expires_at = expires_at + INTERVAL '1 year'").format(table),
        sql.SQL("DELETE FROM {}").format(table),
    ]  # fmt: skip
    # psycopg directly: open_database would refuse the user before Materialize could.
    with psycopg.connect(CUSTOMER_URL or "", autocommit=True) as conn:
        for statement in statements:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
