"""The ledger: where support records its replicas, in a table the customer cannot write.

A replica's comment can be rewritten by the replica's owner, and in
Materialize a replica's owner is its cluster's owner, usually the customer
(src/adapter/src/coord/sequencer/inner/cluster.rs@b03caa5d: "Replicas have
the same owner as their cluster"; src/sql/src/rbac.rs@8d0ca153: COMMENT needs
ownership of the object). So the expiry and set of a support replica live
here instead: a table in a database and schema that `mz_system` creates and
owns, with no privilege granted to anyone else. Writing a table needs INSERT,
UPDATE or DELETE on it and USAGE on its schema (rbac.rs@8d0ca153, Insert and
ReadThenWrite), and dropping the schema or database needs their ownership
(rbac.rs@8d0ca153, DropObjects), so a customer without superuser cannot
change it. What cannot be had: the ledger cannot be hidden, since
mz_catalog.mz_databases, mz_schemas and mz_tables are readable by everyone
(src/catalog/src/builtin.rs@ca79ae23, `access: vec![PUBLIC_SELECT]`), and a
superuser (mz_system itself, or a role with SUPERUSER) bypasses every check.

Nothing here trusts the ledger blindly either: before acting, `trust_problems`
checks that the objects are still owned by mz_system, that the table grants
nothing to anyone else, and that RBAC checks are on (with them off Materialize
skips every check on user objects, which the ledger's objects are:
rbac.rs@8d0ca153, rbac_preamble and filter_to_mandatory_requirements).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from psycopg import sql

DATABASE = "materialize_support"
SCHEMA = "ledger"
TABLE = "replicas"
# RoleId::System(1), written "s1" (src/sql/src/session/user.rs@01b0bf37, MZ_SYSTEM_ROLE_ID).
MZ_SYSTEM_ROLE_ID = "s1"
SYSTEM_USER = "mz_system"

COLUMNS = (
    "replica_id",
    "cluster_id",
    "cluster_name",
    "replica_name",
    "size",
    "billed_as",
    "expires_at",
    "set_name",
    "ticket",
)


@dataclass(frozen=True)
class LedgerEntry:
    """One support replica as support recorded it when it created the replica."""

    replica_id: str
    cluster_id: str
    cluster: str
    name: str
    size: str
    billed_as: str | None
    expires_at: datetime.datetime
    set_name: str | None = None
    ticket: str | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.cluster}.{self.name}"

    def expired(self, now: datetime.datetime) -> bool:
        return self.expires_at <= now

    def values(self) -> tuple[object, ...]:
        return (
            self.replica_id,
            self.cluster_id,
            self.cluster,
            self.name,
            self.size,
            self.billed_as,
            self.expires_at,
            self.set_name,
            self.ticket,
        )

    @classmethod
    def from_row(cls, row: tuple[object, ...]) -> LedgerEntry:
        replica_id, cluster_id, cluster, name, size, billed_as, expires_at, set_name, ticket = row
        assert isinstance(expires_at, datetime.datetime)
        return cls(
            str(replica_id),
            str(cluster_id),
            str(cluster),
            str(name),
            str(size),
            None if billed_as is None else str(billed_as),
            expires_at.astimezone(datetime.UTC),
            None if set_name is None else str(set_name),
            None if ticket is None else str(ticket),
        )


@dataclass(frozen=True)
class LedgerFacts:
    """What the catalog says about the ledger's objects, for `trust_problems`."""

    exists: bool
    # object kind ("database", "schema", "table") -> its owner's role id
    owners: dict[str, str]
    # the grantees of the table's privileges other than the owner, as role ids ("" for PUBLIC)
    other_grantees: list[str]
    rbac_checks: bool


def trust_problems(facts: LedgerFacts) -> list[str]:
    """Why the ledger cannot be trusted (empty when it can); an absent ledger records nothing and is fine."""
    if not facts.exists:
        return []
    where = f"{DATABASE}.{SCHEMA}.{TABLE}"
    problems = [
        f"the ledger's {kind} is owned by role {owner}, not mz_system ({MZ_SYSTEM_ROLE_ID}): "
        "whoever owns it can change what support recorded"
        for kind, owner in sorted(facts.owners.items())
        if owner != MZ_SYSTEM_ROLE_ID
    ]
    if facts.other_grantees:
        grantees = ", ".join(g or "PUBLIC" for g in sorted(facts.other_grantees))
        problems.append(f"{where} grants privileges to {grantees}; revoke them (only mz_system may hold any)")
    if not facts.rbac_checks:
        problems.append(
            "enable_rbac_checks is off: Materialize then skips every privilege check on user objects, "
            f"so anyone can write {where}"
        )
    return problems


def other_grantees(acl_text: str, owner: str) -> list[str]:
    """Grantees other than `owner` in an mz_aclitem[] printed as text: {grantee=privileges/grantor,...}.

    An item prints as `grantee=privileges/grantor`, with an empty grantee for
    PUBLIC (src/repr/src/adt/mz_acl_item.rs@f939552b, Display for MzAclItem);
    role ids hold no ',' '=' or '/'.
    """
    items = [item for item in acl_text.strip().strip("{}").split(",") if item]
    grantees = [item.split("=", 1)[0].strip('"') for item in items]
    return sorted({g for g in grantees if g != owner})


def qualified_table() -> sql.Composed:
    return sql.SQL("{}.{}.{}").format(sql.Identifier(DATABASE), sql.Identifier(SCHEMA), sql.Identifier(TABLE))


# Idempotent: each statement is a no-op once its object exists. CREATE
# DATABASE also makes a `public` schema; the ledger lives in its own.
CREATE_STATEMENTS = (
    sql.SQL("CREATE DATABASE IF NOT EXISTS {}").format(sql.Identifier(DATABASE)),
    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}.{}").format(sql.Identifier(DATABASE), sql.Identifier(SCHEMA)),
    sql.SQL(
        "CREATE TABLE IF NOT EXISTS {} (replica_id text NOT NULL, cluster_id text NOT NULL, "
        "cluster_name text NOT NULL, replica_name text NOT NULL, size text NOT NULL, billed_as text, "
        "expires_at timestamptz NOT NULL, set_name text, ticket text)"
    ).format(qualified_table()),
)

FACTS_QUERY = sql.SQL(
    """
    SELECT d.owner_id, s.owner_id, t.owner_id, t.privileges::text
    FROM mz_catalog.mz_tables AS t
    JOIN mz_catalog.mz_schemas AS s ON s.id = t.schema_id
    JOIN mz_catalog.mz_databases AS d ON d.id = s.database_id
    WHERE d.name = {} AND s.name = {} AND t.name = {}
    """
).format(sql.Literal(DATABASE), sql.Literal(SCHEMA), sql.Literal(TABLE))
