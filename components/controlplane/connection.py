"""Connecting to an instance's SQL endpoint as mz_system, and reporting what goes wrong.

A connection is described by a plain mapping (it travels as a dynamic
resource's input, kept secret, and is given to the support commands):

    {"url": "postgres://mz_system:...@host:6875/materialize?sslmode=require"}
    {"portForward": {"kubeconfig": ..., "kubeContext": ..., "namespace": ..., "service": ..., "port": 6877},
     "user": "mz_system", "password": None, "database": "materialize", "sslmode": "prefer"}

Errors from the database reach the user with Materialize's own message,
followed by a hint about which user to connect as; a password or URL never
appears in a message.

Only mz_system may be used. Materialize has two internal users, mz_system and
mz_support (src/sql/src/session/user.rs@01b0bf37, INTERNAL_USER_NAMES), and
both may name INTERNAL and BILLED AS; but only mz_system is a superuser there
(User::kind), and RBAC applies to the system roles even when it is off for
everyone else (src/sql/src/rbac.rs@8d0ca153, rbac_preamble). mz_support holds
USAGE on clusters, databases and schemas and nothing more
(src/catalog/src/durable/initialize.rs@00185d2b, default privileges), while
CREATE CLUSTER REPLICA needs ownership of the cluster and COMMENT, ALTER ...
RENAME and DROP need ownership of the replica (rbac.rs@8d0ca153), and the
ledger is owned by mz_system alone. So every change would fail for
mz_support, and it is refused up front with that reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from components.kubeconfig import is_kubeconfig_content

SYSTEM_USER = "mz_system"
SUPPORT_USER = "mz_support"
INTERNAL_SQL_PORT = 6877
SQL_PORT = 6875
HINT = (
    "hint: support replicas are created, changed and dropped as mz_system. "
    f"On an instance without password authentication connect as mz_system to environmentd's internal SQL "
    f"port {INTERNAL_SQL_PORT}; with authenticator Password or Sasl the operator closes that port and "
    f"mz_system signs in with its password on the SQL port {SQL_PORT}."
)
MZ_SUPPORT_REASON = (
    "mz_support cannot do this: it is not a superuser and holds only USAGE on clusters, while creating a "
    "replica needs ownership of its cluster and commenting on, renaming or dropping one needs ownership of "
    "the replica (and the ledger is mz_system's alone); connect as mz_system"
)
_REDACTED = "****"


class SupportSqlError(RuntimeError):
    """The database refused or could not be reached; the message is safe to show."""


def user_problem(user: str | None) -> str | None:
    """Why support cannot work as `user` (None when it is mz_system)."""
    if user == SYSTEM_USER:
        return None
    if user == SUPPORT_USER:
        return MZ_SUPPORT_REASON
    return (
        f"connects as {user!r}; support replicas need mz_system "
        "(only it may use INTERNAL and BILLED AS, own the clusters' replicas and write the ledger)"
    )


def describe(connection: Mapping[str, Any]) -> tuple[str, str]:
    """(where, user) of a connection, for messages: never a password or a whole URL."""
    if connection.get("url"):
        parts = conninfo_to_dict(connection["url"])
        where = f"{parts.get('host', 'localhost')}:{parts.get('port', '5432')}"
        return where, str(parts.get("user", "(the URL's default user)"))
    forward = connection["portForward"]
    where = f"service {forward['namespace']}/{forward['service']} port {forward['port']} (port-forward)"
    return where, str(connection.get("user") or SYSTEM_USER)


def _secrets(connection: Mapping[str, Any]) -> list[str]:
    found = [connection.get("url"), connection.get("password")]
    if connection.get("url"):
        found.append(conninfo_to_dict(connection["url"]).get("password"))
    forward = connection.get("portForward") or {}
    if forward.get("kubeconfig") and is_kubeconfig_content(forward["kubeconfig"]):
        found.append(forward["kubeconfig"])
    return [s for s in found if s]


def scrub(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, _REDACTED)
    return text


def _message(error: psycopg.Error) -> str:
    diag = error.diag
    text = diag.message_primary or str(error).strip()
    if diag.message_detail:
        text += f"\nDETAIL: {diag.message_detail}"
    if diag.message_hint:
        text += f"\nHINT: {diag.message_hint}"
    return text


@contextmanager
def _raw_connection(connection: Mapping[str, Any]) -> Iterator[psycopg.Connection[Any]]:
    # autocommit: Materialize runs DDL only outside explicit transactions.
    common = {"autocommit": True, "connect_timeout": 15, "application_name": "materialize-support"}
    if connection.get("url"):
        with psycopg.connect(connection["url"], **common) as conn:
            yield conn
        return
    # Imported here: only a port-forwarded connection needs the Kubernetes client.
    from components.port_forward import port_forward

    forward = connection["portForward"]
    kubeconfig = forward["kubeconfig"]
    if not is_kubeconfig_content(kubeconfig):
        kubeconfig = os.path.expanduser(kubeconfig)
    with (
        port_forward(
            kubeconfig, forward["namespace"], forward["service"], int(forward["port"]), forward.get("kubeContext")
        ) as (host, port),
        psycopg.connect(
            host=host,
            port=port,
            user=connection.get("user") or SYSTEM_USER,
            password=connection.get("password") or None,
            dbname=connection.get("database") or "materialize",
            sslmode=connection.get("sslmode") or "prefer",
            **common,
        ) as conn,
    ):
        yield conn


@contextmanager
def open_database(connection: Mapping[str, Any]) -> Iterator[psycopg.Connection[Any]]:
    """A connection for the block, as mz_system; any database error leaves it as a SupportSqlError with the hint."""
    where, user = describe(connection)
    secrets = _secrets(connection)
    refused = user_problem(user)
    if refused:
        raise SupportSqlError(f"not connecting to {where}: {refused}")
    connected = False
    try:
        with _raw_connection(connection) as conn:
            connected = True
            yield conn
    except psycopg.Error as error:
        if not connected:
            text = f"could not connect to {where} as {user}: {str(error).strip()}"
        else:
            text = f"Materialize refused a statement (connected to {where} as {user}): {_message(error)}"
        raise SupportSqlError(scrub(f"{text}\n{HINT}", secrets)) from None
    except Exception as error:
        if connected:
            raise
        # The port-forward (Kubernetes client) or the network failed before any SQL.
        raise SupportSqlError(scrub(f"could not reach {where}: {type(error).__name__}: {error}", secrets)) from None
