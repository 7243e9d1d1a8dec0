"""The Materialize-specific statements, behind one small interface.

`ReplicaCatalog` is everything the support providers and commands say to the
database: read the replicas, create, rename, comment on and drop one, and
read and write the ledger (ledger.py). `MaterializeCatalog` says it in
Materialize's SQL. The tests drive the
same provider and command code through a PostgreSQL stand-in of this
interface (tests/controlplane/standin.py), so only `MaterializeCatalog`'s own
statements depend on a real Materialize to be checked (the opt-in test does).

Identifiers and literals are composed with psycopg.sql, never interpolated:
cluster and replica names may hold quotes, spaces or upper case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, LiteralString, Protocol

import psycopg
from psycopg import sql

from components.controlplane import ledger
from components.controlplane.ledger import LedgerEntry, LedgerFacts
from components.controlplane.replicas import Marker, ReplicaSpec


@dataclass(frozen=True)
class ReplicaRecord:
    """One replica as the catalog reports it."""

    id: str
    cluster_id: str
    cluster: str
    name: str
    size: str | None
    internal: bool
    # The BILLED AS size Materialize recorded when it created the replica
    # (mz_audit_events); None when it was created without one, or before the
    # audit log that is still kept.
    billed_as: str | None
    comment: str | None

    @property
    def marker(self) -> Marker | None:
        return Marker.from_comment(self.comment)

    @property
    def qualified_name(self) -> str:
        return f"{self.cluster}.{self.name}"


class ReplicaCatalog(Protocol):
    """The statements the support code needs; every call runs on an autocommit connection."""

    def replicas(self, conn: psycopg.Connection[Any]) -> list[ReplicaRecord]: ...

    def create(self, conn: psycopg.Connection[Any], spec: ReplicaSpec) -> None: ...

    def set_comment(self, conn: psycopg.Connection[Any], cluster: str, name: str, comment: str) -> None: ...

    def drop(self, conn: psycopg.Connection[Any], cluster: str, name: str) -> None: ...

    def rename(self, conn: psycopg.Connection[Any], cluster: str, name: str, to_name: str) -> None: ...

    def ensure_ledger(self, conn: psycopg.Connection[Any]) -> None: ...

    def ledger_facts(self, conn: psycopg.Connection[Any]) -> LedgerFacts: ...

    def ledger(self, conn: psycopg.Connection[Any]) -> list[LedgerEntry]: ...

    def record(self, conn: psycopg.Connection[Any], entry: LedgerEntry) -> None: ...

    def update_entry(self, conn: psycopg.Connection[Any], entry: LedgerEntry) -> None: ...

    def forget(self, conn: psycopg.Connection[Any], replica_id: str) -> None: ...


# Every replica with what the catalog knows about it:
# - mz_internal.mz_internal_cluster_replicas lists the ids of INTERNAL replicas;
# - mz_internal.mz_comments holds comments, keyed by the replica id; replica
#   ids and item ids are allocated apart and can be equal, so the object type
#   must be matched too;
# - mz_catalog.mz_audit_events keeps the BILLED AS size in the details of the
#   replica's create event (no catalog table shows it).
CATALOG_QUERY = sql.SQL(
    """
    SELECT r.id, c.id, c.name, r.name, r.size, i.id IS NOT NULL, a.billed_as, cm.comment
    FROM mz_catalog.mz_cluster_replicas AS r
    JOIN mz_catalog.mz_clusters AS c ON c.id = r.cluster_id
    LEFT JOIN mz_internal.mz_internal_cluster_replicas AS i ON i.id = r.id
    LEFT JOIN mz_internal.mz_comments AS cm
        ON cm.id = r.id AND cm.object_type = 'cluster-replica' AND cm.object_sub_id IS NULL
    LEFT JOIN (
        SELECT details ->> 'replica_id' AS replica_id, details ->> 'billed_as' AS billed_as
        FROM mz_catalog.mz_audit_events
        WHERE object_type = 'cluster-replica' AND event_type = 'create'
    ) AS a ON a.replica_id = r.id
    ORDER BY c.name, r.name
    """
)


def records(rows: list[tuple[Any, ...]]) -> list[ReplicaRecord]:
    """Catalog rows as records, one per replica (a replica has one create event, but be safe)."""
    found: dict[str, ReplicaRecord] = {}
    for replica_id, cluster_id, cluster, name, size, internal, billed_as, comment in rows:
        known = found.get(replica_id)
        if known is None or (known.billed_as is None and billed_as is not None):
            found[replica_id] = ReplicaRecord(
                replica_id, cluster_id, cluster, name, size, bool(internal), billed_as, comment
            )
    return list(found.values())


def create_replica_statement(spec: ReplicaSpec) -> sql.Composed:
    options: list[sql.Composable] = [sql.SQL("SIZE {}").format(sql.Literal(spec.size))]
    if spec.internal:
        options.append(sql.SQL("INTERNAL"))
    if spec.billed_as is not None:
        options.append(sql.SQL("BILLED AS {}").format(sql.Literal(spec.billed_as)))
    # The parenthesized option list: Materialize's documented form, and the
    # one its own tests use for INTERNAL and BILLED AS replicas.
    return sql.SQL("CREATE CLUSTER REPLICA {}.{} ({})").format(
        sql.Identifier(spec.cluster), sql.Identifier(spec.name), sql.SQL(", ").join(options)
    )


def comment_statement(cluster: str, name: str, comment: str) -> sql.Composed:
    return sql.SQL("COMMENT ON CLUSTER REPLICA {}.{} IS {}").format(
        sql.Identifier(cluster), sql.Identifier(name), sql.Literal(comment)
    )


def drop_replica_statement(cluster: str, name: str) -> sql.Composed:
    return sql.SQL("DROP CLUSTER REPLICA IF EXISTS {}.{}").format(sql.Identifier(cluster), sql.Identifier(name))


def rename_replica_statement(cluster: str, name: str, to_name: str) -> sql.Composed:
    return sql.SQL("ALTER CLUSTER REPLICA {}.{} RENAME TO {}").format(
        sql.Identifier(cluster), sql.Identifier(name), sql.Identifier(to_name)
    )


def read_ledger_facts(
    conn: psycopg.Connection[Any], facts_query: sql.SQL | sql.Composed, rbac_query: LiteralString
) -> LedgerFacts:
    """The ledger's owners and grants from `facts_query`, and whether RBAC checks are on from `rbac_query`."""
    row = conn.execute(facts_query).fetchone()
    rbac = conn.execute(rbac_query).fetchone()
    rbac_on = rbac is not None and str(rbac[0]).lower() in ("on", "true")
    if row is None:
        return LedgerFacts(exists=False, owners={}, other_grantees=[], rbac_checks=rbac_on)
    database_owner, schema_owner, table_owner, acl = row
    return LedgerFacts(
        exists=True,
        owners={"database": str(database_owner), "schema": str(schema_owner), "table": str(table_owner)},
        other_grantees=ledger.other_grantees(str(acl), str(table_owner)),
        rbac_checks=rbac_on,
    )


class LedgerStatements:
    """The ledger's reads and writes, shared by every catalog whose ledger is a real table."""

    table: sql.Composable = ledger.qualified_table()

    def ledger(self, conn: psycopg.Connection[Any]) -> list[LedgerEntry]:
        statement = sql.SQL("SELECT {} FROM {} ORDER BY cluster_name, replica_name, replica_id").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in ledger.COLUMNS), self.table
        )
        return [LedgerEntry.from_row(row) for row in conn.execute(statement).fetchall()]

    def record(self, conn: psycopg.Connection[Any], entry: LedgerEntry) -> None:
        statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            self.table,
            sql.SQL(", ").join(sql.Identifier(c) for c in ledger.COLUMNS),
            sql.SQL(", ").join(sql.Placeholder() for _ in ledger.COLUMNS),
        )
        conn.execute(statement, entry.values())

    def update_entry(self, conn: psycopg.Connection[Any], entry: LedgerEntry) -> None:
        statement = sql.SQL(
            "UPDATE {} SET replica_name = %s, expires_at = %s, set_name = %s, ticket = %s WHERE replica_id = %s"
        ).format(self.table)
        conn.execute(statement, (entry.name, entry.expires_at, entry.set_name, entry.ticket, entry.replica_id))

    def forget(self, conn: psycopg.Connection[Any], replica_id: str) -> None:
        conn.execute(sql.SQL("DELETE FROM {} WHERE replica_id = %s").format(self.table), (replica_id,))


class MaterializeCatalog(LedgerStatements):
    """ReplicaCatalog in Materialize's SQL."""

    def replicas(self, conn: psycopg.Connection[Any]) -> list[ReplicaRecord]:
        return records(conn.execute(CATALOG_QUERY).fetchall())

    def create(self, conn: psycopg.Connection[Any], spec: ReplicaSpec) -> None:
        conn.execute(create_replica_statement(spec))

    def set_comment(self, conn: psycopg.Connection[Any], cluster: str, name: str, comment: str) -> None:
        conn.execute(comment_statement(cluster, name, comment))

    def drop(self, conn: psycopg.Connection[Any], cluster: str, name: str) -> None:
        conn.execute(drop_replica_statement(cluster, name))

    def rename(self, conn: psycopg.Connection[Any], cluster: str, name: str, to_name: str) -> None:
        conn.execute(rename_replica_statement(cluster, name, to_name))

    def ensure_ledger(self, conn: psycopg.Connection[Any]) -> None:
        for statement in ledger.CREATE_STATEMENTS:
            conn.execute(statement)

    def ledger_facts(self, conn: psycopg.Connection[Any]) -> LedgerFacts:
        return read_ledger_facts(conn, ledger.FACTS_QUERY, "SHOW enable_rbac_checks")
