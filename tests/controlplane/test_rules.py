"""Replica rules, the marker, and the SQL text of Materialize's statements.

The statements are rendered with `as_string` on a real PostgreSQL connection
(psycopg quotes with the server's rules) and the quoted identifiers are
parsed back by PostgreSQL. That shows the quoting is sound SQL; that
Materialize accepts the statements is test_materialize.py's job.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from components.cluster_sizes import known_sizes
from components.controlplane.catalog import comment_statement, create_replica_statement, drop_replica_statement
from components.controlplane.replicas import (
    Marker,
    ReplicaSpec,
    expiry_problem,
    member_names,
    name_problems,
    parse_time,
    spec_problems,
)
from tests.support.postgres_server import PostgresServer

EXPIRY = datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC)
ODD_NAMES = ['Support "Boost"', "it's here", "Ünïcode 名前", "UPPER case", "back\\slash", "r1 ", "semi;colon--"]
SIZES = known_sizes(["support-free"])


@pytest.fixture(scope="module")
def conn(postgres_server: PostgresServer) -> Iterator[psycopg.Connection[Any]]:
    with postgres_server.superuser_connection(postgres_server.app_database) as connection:
        yield connection


def test_a_replica_statement_quotes_every_name_and_size(conn: psycopg.Connection[Any]) -> None:
    spec = ReplicaSpec('Odd "Cluster"', "it's here", "100cc", EXPIRY, billed_as="support-free")
    assert create_replica_statement(spec).as_string(conn) == (
        'CREATE CLUSTER REPLICA "Odd ""Cluster"""."it\'s here" (SIZE \'100cc\', INTERNAL, BILLED AS \'support-free\')'
    )


def test_internal_and_billed_as_appear_only_when_asked_for(conn: psycopg.Connection[Any]) -> None:
    plain = ReplicaSpec("quickstart", "extra", "25cc", EXPIRY, internal=False)
    assert (
        create_replica_statement(plain).as_string(conn) == 'CREATE CLUSTER REPLICA "quickstart"."extra" (SIZE \'25cc\')'
    )
    internal = ReplicaSpec("quickstart", "extra", "25cc", EXPIRY)
    assert create_replica_statement(internal).as_string(conn).endswith("(SIZE '25cc', INTERNAL)")


def test_drop_is_idempotent_sql(conn: psycopg.Connection[Any]) -> None:
    assert drop_replica_statement("c", 'Bad"Name').as_string(conn) == 'DROP CLUSTER REPLICA IF EXISTS "c"."Bad""Name"'


@pytest.mark.parametrize("name", ODD_NAMES)
def test_quoted_identifiers_parse_back_to_the_same_name(conn: psycopg.Connection[Any], name: str) -> None:
    # The same sql.Identifier quoting the replica statements use, read back by the server.
    conn.execute(sql.SQL("CREATE TEMPORARY TABLE {} (x int)").format(sql.Identifier(name)))
    try:
        found = conn.execute("SELECT relname FROM pg_class WHERE relname = %s", (name,)).fetchall()
        assert found == [(name,)]
    finally:
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))


def test_the_marker_comment_is_a_literal_that_reads_back_unchanged(conn: psycopg.Connection[Any]) -> None:
    marker = Marker(EXPIRY, set_name='bu"rst\\ ü', ticket="SUP-1")
    statement = comment_statement("c", "r", marker.to_comment())
    literal = statement.as_string(conn).split(" IS ", 1)[1]
    assert conn.execute(sql.SQL("SELECT " + literal)).fetchone() == (marker.to_comment(),)
    assert Marker.from_comment(marker.to_comment()) == marker


def test_the_marker_records_expiry_set_and_ticket() -> None:
    comment = Marker(EXPIRY, "burst", "SUP-7").to_comment()
    assert comment == (
        '{"expiresAt":"2026-10-01T00:00:00Z","managedBy":"materialize-support","set":"burst","ticket":"SUP-7"}'
    )


@pytest.mark.parametrize(
    "comment",
    [None, "", "a note by a human", "{}", '{"managedBy":"someone-else","expiresAt":"2026-10-01T00:00:00Z"}',
     '{"managedBy":"materialize-support"}', '{"managedBy":"materialize-support","expiresAt":"2026-10-01T00:00:00"}',
     '{"managedBy":"materialize-support","expiresAt":"soon"}', "[1,2]"],
)  # fmt: skip
def test_comments_that_are_not_a_valid_marker_are_not_ours(comment: str | None) -> None:
    assert Marker.from_comment(comment) is None


def test_expiry_is_compared_in_utc_and_the_moment_itself_is_expired() -> None:
    assert parse_time("2026-10-01T02:00:00+02:00") == EXPIRY
    assert parse_time("2026-10-01T00:00:00z") == EXPIRY
    with pytest.raises(ValueError, match="no time zone"):
        parse_time("2026-10-01T00:00:00")
    assert Marker(EXPIRY).expired(EXPIRY)
    assert not Marker(EXPIRY).expired(EXPIRY - datetime.timedelta(seconds=1))
    assert expiry_problem(EXPIRY, EXPIRY) is not None
    assert expiry_problem(EXPIRY, EXPIRY - datetime.timedelta(seconds=1)) is None


@pytest.mark.parametrize("name", ["r1", "r2", "r10", "r007"])
def test_names_materialize_gives_managed_replicas_are_refused_with_the_reason(name: str) -> None:
    [(key, reason)] = name_problems(name)
    assert key == "name" and f"{name!r}" in reason and "reserved" in reason and "managed clusters" in reason


@pytest.mark.parametrize("name", ["r", "R1", "r1a", "r1-2", "rx1", " r1", "support_r1"])
def test_other_names_are_free(name: str) -> None:
    assert name_problems(name) == []


def test_empty_names_are_refused() -> None:
    assert name_problems("") == [("name", "must not be empty")]


def test_billed_as_needs_internal_and_both_sizes_must_be_defined() -> None:
    assert spec_problems("c", "100cc", "support-free", True, SIZES) == []
    assert spec_problems("c", "100cc", None, True, SIZES) == []
    problems = dict(spec_problems("c", "100cc", "support-free", False, SIZES))
    assert "internal: true" in problems["billedAs"]
    # Reconcile acts only on INTERNAL replicas, so a support replica must be one.
    assert "only INTERNAL replicas can be told apart" in problems["internal"]
    problems = dict(spec_problems("c", "huge", "gratis", True, SIZES))
    assert "'huge' is not a size the install defines" in problems["size"]
    assert "'gratis' is not a size" in problems["billedAs"]
    assert "25cc" in problems["size"] and "support-free" in problems["size"] and "extraSizes" in problems["size"]


def test_a_cluster_may_be_named_anything_but_not_nothing() -> None:
    assert spec_problems("r1", "25cc", None, True, SIZES) == []
    assert spec_problems("", "25cc", None, True, SIZES) == [("cluster", "must not be empty")]


def test_set_members_are_numbered_from_one() -> None:
    assert member_names("burst", 3) == ["burst-1", "burst-2", "burst-3"]
    assert member_names("burst", 0) == []
