"""A PostgreSQL STAND-IN for Materialize's replica catalog, for tests only.

PostgreSQL has no clusters or replicas, so this emulates what the support
code says to Materialize, on a real PostgreSQL server: tables shaped like the
catalog relations the code reads, PL/pgSQL functions in place of CREATE /
COMMENT ON / ALTER ... RENAME / DROP CLUSTER REPLICA, and a real PostgreSQL
schema as the ledger. Every rule the functions enforce is transcribed from
Materialize's source, cited where it is written below (MaterializeInc/
materialize, file@commit); tests/controlplane/test_standin.py shows each is
enforced. Where the stand-in's wording is its own, the message starts with
"stand-in:".

The rules, in the order Materialize applies them (planning in
src/sql/src/plan/statement/ddl.rs, then RBAC in src/sql/src/rbac.rs, then
the sequencer in src/adapter/src/coord/sequencer/):

- users (src/sql/src/session/user.rs@01b0bf37): mz_system and mz_support are
  the internal users (INTERNAL_USER_NAMES); only mz_system is a superuser
  (User::kind), and a superuser skips the ownership checks
  (src/sql/src/rbac.rs@8d0ca153, rbac_preamble);
- ownership (src/adapter/src/coord/sequencer/inner/cluster.rs@b03caa5d,
  sequence_create_cluster_replica: "Replicas have the same owner as their
  cluster"); the default cluster is owned by mz_system, and mz_support holds
  only USAGE on clusters (src/catalog/src/durable/initialize.rs@00185d2b);
- CREATE CLUSTER REPLICA: an INTERNAL replica may not take a name matching
  ^r(\\d)+$ ("... is reserved for replicas of managed clusters",
  src/sql/src/plan/statement/ddl.rs@c2106457, MANAGED_REPLICA_PATTERN); it
  needs ownership of the cluster (rbac.rs@8d0ca153, CreateClusterReplica);
  INTERNAL or BILLED AS only from an internal user, a managed cluster takes a
  new replica only with INTERNAL, BILLED AS only with INTERNAL
  (cluster.rs@b03caa5d, sequence_create_cluster_replica, whose messages are
  used; the planner refuses a non-INTERNAL replica of a managed cluster
  earlier, in ensure_cluster_is_not_managed, whose wording is not
  reproduced);
- COMMENT ON CLUSTER REPLICA and ALTER CLUSTER REPLICA ... RENAME TO need
  ownership of the replica (rbac.rs@8d0ca153, Comment and
  AlterClusterReplicaRename);
- DROP CLUSTER REPLICA needs ownership of the replica (rbac.rs@8d0ca153,
  DropObjects), and a managed cluster's replicas cannot be dropped unless
  they are INTERNAL ("cannot drop replica of managed cluster",
  src/adapter/src/coord/sequencer/inner.rs@322174e4, sequence_drop_objects);
- the ledger is a PostgreSQL schema the session user creates and so owns,
  with no grant to anyone else: PostgreSQL's own privilege checks then refuse
  the customer exactly where Materialize's would (writing a table needs
  USAGE on its schema and INSERT / UPDATE / DELETE on it, rbac.rs@8d0ca153,
  Insert and ReadThenWrite). Its owners and grants are reported in
  Materialize's role-id spelling (s1 for mz_system), and `SHOW
  enable_rbac_checks` is a row in mz_standin.system_vars.

`PostgresStandInCatalog` reads replicas through `MaterializeCatalog`'s own
query, so that query's SQL is exercised too, but only against PostgreSQL:
test_materialize.py checks Materialize itself, when one is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from components.controlplane.catalog import LedgerStatements, MaterializeCatalog, ReplicaRecord, read_ledger_facts
from components.controlplane.ledger import LedgerFacts
from components.controlplane.replicas import ReplicaSpec

INTERNAL_USERS = ("mz_system", "mz_support")
# Role ids as Materialize spells them (user.rs@01b0bf37: MZ_SYSTEM_ROLE_ID, MZ_SUPPORT_ROLE_ID);
# mz_standin.role_id below maps names to these.
LEDGER_SCHEMA = "materialize_support"
LEDGER_TABLE = "replicas"


@dataclass(frozen=True)
class Cluster:
    name: str
    owner: str = "mz_system"
    managed: bool = False


SCHEMA = """
DROP SCHEMA IF EXISTS mz_catalog, mz_internal, mz_standin, materialize_support CASCADE;
CREATE SCHEMA mz_catalog;
CREATE SCHEMA mz_internal;
CREATE SCHEMA mz_standin;
GRANT USAGE ON SCHEMA mz_catalog, mz_internal, mz_standin TO PUBLIC;

CREATE TABLE mz_catalog.mz_clusters (
    id text PRIMARY KEY, name text NOT NULL UNIQUE, owner_id text NOT NULL, managed boolean NOT NULL
);
CREATE TABLE mz_catalog.mz_cluster_replicas (
    id text PRIMARY KEY,
    name text NOT NULL,
    cluster_id text NOT NULL REFERENCES mz_catalog.mz_clusters (id),
    size text,
    availability_zone text,
    owner_id text NOT NULL,
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
CREATE TABLE mz_standin.system_vars (name text PRIMARY KEY, value text NOT NULL);
INSERT INTO mz_standin.system_vars VALUES ('enable_rbac_checks', 'on');
-- Replica ids and item ids come from different allocators in Materialize and
-- can be equal; the stand-in's tables share the u<n> spelling the same way.
CREATE SEQUENCE mz_standin.replica_ids;
CREATE SEQUENCE mz_standin.cluster_ids;
GRANT SELECT ON ALL TABLES IN SCHEMA mz_catalog, mz_internal, mz_standin TO PUBLIC;

CREATE FUNCTION mz_standin.is_superuser() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT session_user = 'mz_system'
$$;

CREATE FUNCTION mz_standin.replica_id(cluster_name text, replica_name text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT r.id FROM mz_catalog.mz_cluster_replicas r JOIN mz_catalog.mz_clusters c ON c.id = r.cluster_id
    WHERE c.name = cluster_name AND r.name = replica_name
$$;

CREATE FUNCTION mz_standin.role_id(role text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE role WHEN 'mz_system' THEN 's1' WHEN 'mz_support' THEN 's2' WHEN '' THEN '' ELSE 'u_' || role END
$$;
-- A PostgreSQL aclitem[] as text ({grantee=privileges/grantor,...}, PUBLIC's grantee empty, as
-- Materialize prints mz_aclitem[]) with role names turned into role ids.
CREATE FUNCTION mz_standin.acl(acl text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT '{' || coalesce(string_agg(
        mz_standin.role_id(split_part(item, '=', 1)) || '=' || split_part(split_part(item, '=', 2), '/', 1)
        || '/' || mz_standin.role_id(split_part(item, '/', 2)), ',' ORDER BY ord), '') || '}'
    FROM unnest(string_to_array(trim(both '{}' FROM acl), ',')) WITH ORDINALITY AS t(item, ord)
    WHERE item <> ''
$$;

-- Ownership, as rbac.rs reports a missing one: "must be owner of <type> <name>".
CREATE FUNCTION mz_standin.require_owner(owner text, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT mz_standin.is_superuser() AND owner <> session_user THEN
        RAISE EXCEPTION 'must be owner of %', what;
    END IF;
END $$;

-- The replica named, once the session is shown to own it (rbac.rs: ownership of the replica).
CREATE FUNCTION mz_standin.owned_replica(cluster_name text, replica_name text)
RETURNS mz_catalog.mz_cluster_replicas LANGUAGE plpgsql AS $$
DECLARE
    target mz_catalog.mz_cluster_replicas;
BEGIN
    SELECT * INTO target FROM mz_catalog.mz_cluster_replicas
    WHERE id = mz_standin.replica_id(cluster_name, replica_name);
    IF target.id IS NULL THEN
        RAISE EXCEPTION 'stand-in: unknown cluster replica %.%', cluster_name, replica_name;
    END IF;
    PERFORM mz_standin.require_owner(target.owner_id, 'CLUSTER REPLICA ' || cluster_name || '.' || replica_name);
    RETURN target;
END $$;

CREATE FUNCTION mz_standin.create_cluster_replica(
    cluster_name text, replica_name text, replica_size text, is_internal boolean, billed_as text
) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    cluster mz_catalog.mz_clusters;
    new_id text;
BEGIN
    SELECT * INTO cluster FROM mz_catalog.mz_clusters WHERE name = cluster_name;
    IF cluster.id IS NULL THEN
        RAISE EXCEPTION 'stand-in: unknown cluster %', cluster_name;
    END IF;
    -- Planning (ddl.rs): the names of managed replicas are not for INTERNAL ones.
    IF is_internal AND replica_name ~ '^r[0-9]+$' THEN
        RAISE EXCEPTION '% is reserved for replicas of managed clusters', replica_name;
    END IF;
    -- RBAC (rbac.rs): ownership of the cluster.
    PERFORM mz_standin.require_owner(cluster.owner_id, 'CLUSTER ' || cluster_name);
    -- Sequencing (cluster.rs), with its messages.
    IF (is_internal OR billed_as IS NOT NULL) AND session_user NOT IN ('mz_system', 'mz_support') THEN
        RAISE EXCEPTION 'cannot specify INTERNAL or BILLED AS as non-internal user';
    END IF;
    IF cluster.managed AND NOT is_internal THEN
        RAISE EXCEPTION 'must specify INTERNAL when creating a replica in a managed cluster';
    END IF;
    IF billed_as IS NOT NULL AND NOT is_internal THEN
        RAISE EXCEPTION 'must specify INTERNAL when specifying BILLED AS';
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
    -- The replica's owner is its cluster's owner (cluster.rs).
    INSERT INTO mz_catalog.mz_cluster_replicas (id, name, cluster_id, size, owner_id)
    VALUES (new_id, replica_name, cluster.id, replica_size, cluster.owner_id);
    IF is_internal THEN
        INSERT INTO mz_internal.mz_internal_cluster_replicas VALUES (new_id);
    END IF;
    INSERT INTO mz_catalog.mz_audit_events (event_type, object_type, details, "user") VALUES (
        'create', 'cluster-replica',
        jsonb_build_object('replica_id', new_id, 'replica_name', replica_name, 'cluster_name', cluster_name,
                           'cluster_id', cluster.id, 'logical_size', replica_size, 'billed_as', billed_as,
                           'internal', is_internal),
        session_user);
    RETURN new_id;
END $$;

CREATE FUNCTION mz_standin.comment_on_cluster_replica(cluster_name text, replica_name text, body text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    target mz_catalog.mz_cluster_replicas := mz_standin.owned_replica(cluster_name, replica_name);
BEGIN
    DELETE FROM mz_internal.mz_comments WHERE id = target.id AND object_type = 'cluster-replica';
    INSERT INTO mz_internal.mz_comments VALUES (target.id, 'cluster-replica', NULL, body);
END $$;

CREATE FUNCTION mz_standin.rename_cluster_replica(cluster_name text, replica_name text, to_name text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    target mz_catalog.mz_cluster_replicas := mz_standin.owned_replica(cluster_name, replica_name);
BEGIN
    IF mz_standin.replica_id(cluster_name, to_name) IS NOT NULL THEN
        RAISE EXCEPTION 'stand-in: cluster replica %.% already exists', cluster_name, to_name;
    END IF;
    UPDATE mz_catalog.mz_cluster_replicas SET name = to_name WHERE id = target.id;
END $$;

CREATE FUNCTION mz_standin.drop_cluster_replica(cluster_name text, replica_name text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    target mz_catalog.mz_cluster_replicas;
BEGIN
    SELECT * INTO target FROM mz_catalog.mz_cluster_replicas
    WHERE id = mz_standin.replica_id(cluster_name, replica_name);
    IF target.id IS NULL THEN
        RETURN;  -- IF EXISTS
    END IF;
    PERFORM mz_standin.require_owner(target.owner_id, 'CLUSTER REPLICA ' || cluster_name || '.' || replica_name);
    -- inner.rs: only INTERNAL replicas of a managed cluster may be dropped.
    IF (SELECT managed FROM mz_catalog.mz_clusters WHERE id = target.cluster_id)
       AND NOT EXISTS (SELECT 1 FROM mz_internal.mz_internal_cluster_replicas WHERE id = target.id) THEN
        RAISE EXCEPTION 'cannot drop replica of managed cluster';
    END IF;
    DELETE FROM mz_catalog.mz_cluster_replicas WHERE id = target.id;
    DELETE FROM mz_internal.mz_internal_cluster_replicas WHERE id = target.id;
    DELETE FROM mz_internal.mz_comments WHERE id = target.id AND object_type = 'cluster-replica';
    INSERT INTO mz_catalog.mz_audit_events (event_type, object_type, details, "user") VALUES (
        'drop', 'cluster-replica',
        jsonb_build_object('replica_id', target.id, 'replica_name', replica_name, 'cluster_name', cluster_name),
        session_user);
END $$;
"""

# The ledger's owners and the table's grants, in Materialize's role-id spelling.
_FACTS_QUERY = sql.SQL(
    """
    SELECT mz_standin.role_id(n.nspowner::regrole::text), mz_standin.role_id(n.nspowner::regrole::text),
           mz_standin.role_id(c.relowner::regrole::text), mz_standin.acl(coalesce(c.relacl::text, '{{}}'))
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = {} AND c.relname = {}
    """
).format(sql.Literal(LEDGER_SCHEMA), sql.Literal(LEDGER_TABLE))


def install(conn: psycopg.Connection[Any], clusters: list[Cluster], sizes: list[str]) -> None:
    """(Re)create the stand-in in the connection's database (as a PostgreSQL superuser)."""
    conn.execute(SCHEMA)
    for cluster in clusters:
        conn.execute(
            "INSERT INTO mz_catalog.mz_clusters VALUES ('u' || nextval('mz_standin.cluster_ids'), %s, %s, %s)",
            (cluster.name, cluster.owner, cluster.managed),
        )
    for size in sizes:
        conn.execute("INSERT INTO mz_standin.sizes VALUES (%s)", (size,))


def add_managed_replica(conn: psycopg.Connection[Any], cluster: str, name: str, size: str) -> str:
    """A replica as Materialize's own cluster controller makes one for a managed cluster (r1, r2, ...), not via DDL."""
    row = conn.execute(
        "INSERT INTO mz_catalog.mz_cluster_replicas (id, name, cluster_id, size, owner_id) "
        "SELECT 'u' || nextval('mz_standin.replica_ids'), %s, id, %s, owner_id FROM mz_catalog.mz_clusters "
        "WHERE name = %s RETURNING id",
        (name, size, cluster),
    ).fetchone()
    assert row is not None
    return str(row[0])


def set_system_var(conn: psycopg.Connection[Any], name: str, value: str) -> None:
    conn.execute("UPDATE mz_standin.system_vars SET value = %s WHERE name = %s", (value, name))


class PostgresStandInCatalog(LedgerStatements):
    """ReplicaCatalog over the stand-in: MaterializeCatalog's read query, emulated DDL, a PostgreSQL ledger."""

    table = sql.Identifier(LEDGER_SCHEMA, LEDGER_TABLE)

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

    def rename(self, conn: psycopg.Connection[Any], cluster: str, name: str, to_name: str) -> None:
        conn.execute("SELECT mz_standin.rename_cluster_replica(%s, %s, %s)", (cluster, name, to_name))

    def ensure_ledger(self, conn: psycopg.Connection[Any]) -> None:
        # Owned by whoever creates it, with no grant to anyone else: PostgreSQL's defaults.
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(LEDGER_SCHEMA)))
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (replica_id text NOT NULL, cluster_id text NOT NULL, "
                "cluster_name text NOT NULL, replica_name text NOT NULL, size text NOT NULL, billed_as text, "
                "expires_at timestamptz NOT NULL, set_name text, ticket text)"
            ).format(self.table)
        )

    def ledger_facts(self, conn: psycopg.Connection[Any]) -> LedgerFacts:
        return read_ledger_facts(
            conn, _FACTS_QUERY, "SELECT value FROM mz_standin.system_vars WHERE name = 'enable_rbac_checks'"
        )
