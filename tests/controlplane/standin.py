"""A PostgreSQL STAND-IN for Materialize's replica catalog, for tests only.

PostgreSQL has no clusters or replicas, so this emulates the few things the
support code needs, on a real PostgreSQL server:

- tables shaped like the Materialize relations the catalog query reads
  (mz_catalog.mz_clusters, mz_catalog.mz_cluster_replicas,
  mz_catalog.mz_audit_events, mz_internal.mz_internal_cluster_replicas,
  mz_internal.mz_comments), with the documented columns the query uses;
- PL/pgSQL functions in place of CREATE / COMMENT ON / DROP CLUSTER REPLICA,
  which refuse what Materialize refuses with Materialize's message where it
  is known (INTERNAL or BILLED AS from a non-internal user, BILLED AS without
  INTERNAL) and with stand-in wording otherwise.

`PostgresStandInCatalog` reads through `MaterializeCatalog`'s own query, so
that query's SQL is exercised too, but only against PostgreSQL: nothing here
shows how Materialize itself behaves. tests/controlplane/test_materialize.py
does, against a real Materialize, when one is given.
"""

from __future__ import annotations

from typing import Any

import psycopg

from components.controlplane.catalog import MaterializeCatalog, ReplicaRecord
from components.controlplane.replicas import ReplicaSpec

INTERNAL_USERS = ("mz_system", "mz_support")

SCHEMA = """
DROP SCHEMA IF EXISTS mz_catalog, mz_internal, mz_standin CASCADE;
CREATE SCHEMA mz_catalog;
CREATE SCHEMA mz_internal;
CREATE SCHEMA mz_standin;
GRANT USAGE ON SCHEMA mz_catalog, mz_internal, mz_standin TO PUBLIC;

CREATE TABLE mz_catalog.mz_clusters (id text PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE mz_catalog.mz_cluster_replicas (
    id text PRIMARY KEY,
    name text NOT NULL,
    cluster_id text NOT NULL REFERENCES mz_catalog.mz_clusters (id),
    size text,
    availability_zone text,
    owner_id text NOT NULL DEFAULT 'u1',
    disk boolean,
    UNIQUE (cluster_id, name)
);
CREATE TABLE mz_catalog.mz_audit_events (
    id bigserial PRIMARY KEY,
    event_type text NOT NULL,
    object_type text NOT NULL,
    details jsonb NOT NULL,
    "user" text,
    occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE mz_internal.mz_internal_cluster_replicas (id text NOT NULL);
CREATE TABLE mz_internal.mz_comments (
    id text NOT NULL, object_type text NOT NULL, object_sub_id integer, comment text NOT NULL
);
CREATE TABLE mz_standin.sizes (name text PRIMARY KEY);
-- Replica ids and item ids come from different allocators in Materialize and
-- can be equal; the stand-in's tables share the u<n> spelling the same way.
CREATE SEQUENCE mz_standin.replica_ids;
CREATE SEQUENCE mz_standin.cluster_ids;
GRANT SELECT ON ALL TABLES IN SCHEMA mz_catalog, mz_internal TO PUBLIC;

CREATE FUNCTION mz_standin.replica_id(cluster_name text, replica_name text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT r.id FROM mz_catalog.mz_cluster_replicas r JOIN mz_catalog.mz_clusters c ON c.id = r.cluster_id
    WHERE c.name = cluster_name AND r.name = replica_name
$$;

CREATE FUNCTION mz_standin.create_cluster_replica(
    cluster_name text, replica_name text, replica_size text, is_internal boolean, billed_as text
) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    cluster_key text;
    new_id text;
BEGIN
    -- Materialize's own messages for these two:
    IF (is_internal OR billed_as IS NOT NULL) AND session_user NOT IN ('mz_system', 'mz_support') THEN
        RAISE EXCEPTION 'cannot specify INTERNAL or BILLED AS as non-internal user';
    END IF;
    IF billed_as IS NOT NULL AND NOT is_internal THEN
        RAISE EXCEPTION 'must specify INTERNAL when specifying BILLED AS';
    END IF;
    SELECT id INTO cluster_key FROM mz_catalog.mz_clusters WHERE name = cluster_name;
    IF cluster_key IS NULL THEN
        RAISE EXCEPTION 'stand-in: unknown cluster %', cluster_name;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM mz_standin.sizes WHERE name = replica_size) THEN
        RAISE EXCEPTION 'stand-in: unknown cluster replica size %', replica_size;
    END IF;
    IF billed_as IS NOT NULL AND NOT EXISTS (SELECT 1 FROM mz_standin.sizes WHERE name = billed_as) THEN
        RAISE EXCEPTION 'stand-in: unknown cluster replica size % in BILLED AS', billed_as;
    END IF;
    IF mz_standin.replica_id(cluster_name, replica_name) IS NOT NULL THEN
        RAISE EXCEPTION 'stand-in: cluster replica %.% already exists', cluster_name, replica_name;
    END IF;
    new_id := 'u' || nextval('mz_standin.replica_ids');
    INSERT INTO mz_catalog.mz_cluster_replicas (id, name, cluster_id, size)
    VALUES (new_id, replica_name, cluster_key, replica_size);
    IF is_internal THEN
        INSERT INTO mz_internal.mz_internal_cluster_replicas VALUES (new_id);
    END IF;
    INSERT INTO mz_catalog.mz_audit_events (event_type, object_type, details, "user") VALUES (
        'create', 'cluster-replica',
        jsonb_build_object('replica_id', new_id, 'replica_name', replica_name, 'cluster_name', cluster_name,
                           'logical_size', replica_size, 'billed_as', billed_as, 'internal', is_internal),
        session_user);
    RETURN new_id;
END $$;

CREATE FUNCTION mz_standin.comment_on_cluster_replica(cluster_name text, replica_name text, body text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    target text := mz_standin.replica_id(cluster_name, replica_name);
BEGIN
    IF target IS NULL THEN
        RAISE EXCEPTION 'stand-in: unknown cluster replica %.%', cluster_name, replica_name;
    END IF;
    DELETE FROM mz_internal.mz_comments WHERE id = target AND object_type = 'cluster-replica';
    INSERT INTO mz_internal.mz_comments VALUES (target, 'cluster-replica', NULL, body);
END $$;

CREATE FUNCTION mz_standin.drop_cluster_replica(cluster_name text, replica_name text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    target text := mz_standin.replica_id(cluster_name, replica_name);
BEGIN
    IF target IS NULL THEN
        RETURN;  -- IF EXISTS
    END IF;
    DELETE FROM mz_catalog.mz_cluster_replicas WHERE id = target;
    DELETE FROM mz_internal.mz_internal_cluster_replicas WHERE id = target;
    DELETE FROM mz_internal.mz_comments WHERE id = target AND object_type = 'cluster-replica';
    INSERT INTO mz_catalog.mz_audit_events (event_type, object_type, details, "user") VALUES (
        'drop', 'cluster-replica',
        jsonb_build_object('replica_id', target, 'replica_name', replica_name, 'cluster_name', cluster_name),
        session_user);
END $$;
"""


def install(conn: psycopg.Connection[Any], clusters: list[str], sizes: list[str]) -> None:
    """(Re)create the stand-in in the connection's database, with these clusters and sizes."""
    conn.execute(SCHEMA)
    for cluster in clusters:
        conn.execute(
            "INSERT INTO mz_catalog.mz_clusters VALUES ('u' || nextval('mz_standin.cluster_ids'), %s)", (cluster,)
        )
    for size in sizes:
        conn.execute("INSERT INTO mz_standin.sizes VALUES (%s)", (size,))


class PostgresStandInCatalog:
    """ReplicaCatalog over the stand-in: MaterializeCatalog's read query, emulated DDL."""

    def replicas(self, conn: psycopg.Connection[Any]) -> list[ReplicaRecord]:
        return MaterializeCatalog().replicas(conn)

    def create(self, conn: psycopg.Connection[Any], spec: ReplicaSpec) -> None:
        conn.execute(
            "SELECT mz_standin.create_cluster_replica(%s, %s, %s, %s, %s)",
            (spec.cluster, spec.name, spec.size, spec.internal, spec.billed_as),
        )

    def set_comment(self, conn: psycopg.Connection[Any], cluster: str, name: str, comment: str) -> None:
        conn.execute("SELECT mz_standin.comment_on_cluster_replica(%s, %s, %s)", (cluster, name, comment))

    def drop(self, conn: psycopg.Connection[Any], cluster: str, name: str) -> None:
        conn.execute("SELECT mz_standin.drop_cluster_replica(%s, %s)", (cluster, name))
