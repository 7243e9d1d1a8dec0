"""Checks of the Postgres metadata store, over a real connection.

The doctor connects the way Materialize will (same host, user, database and
sslmode) and then verifies what Materialize needs: TLS as requested, a
supported server version, the right to create its schemas (`consensus`,
`tsoracle`), and enough free connection slots.
"""

from __future__ import annotations

import math
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors, sql

from components.metadata_url import MetadataUrl, parse_metadata_url
from tools.doctor.redact import redact_url
from tools.doctor.report import Check, Status

# Materialize is tested against PostgreSQL 15 and newer.
MIN_SERVER_MAJOR = 15
# environmentd alone may hold 50 pooled consensus connections plus 50 for the
# timestamp oracle (Materialize's defaults for
# persist_consensus_connection_pool_max_size and
# pg_timestamp_oracle_connection_pool_max_size), and every cluster replica
# process opens a consensus pool of its own. Less than this many free slots
# per instance risks "too many connections" under load.
HEADROOM_PER_INSTANCE = 100
# Schemas Materialize creates in the metadata database.
MATERIALIZE_SCHEMAS = ("consensus", "tsoracle")


@dataclass(frozen=True)
class ConnectionUsage:
    max_connections: int
    reserved: int
    in_use: int
    role_limit: int  # -1 means unlimited
    database_limit: int  # -1 means unlimited


def check_postgres(url: str, subject: str, timeout: float, instances_on_server: int = 1) -> Iterator[Check]:
    """All metadata-store checks for one instance's URL, in order."""
    try:
        parsed = parse_metadata_url(url)
    except ValueError as error:
        yield Check(
            Status.FAIL,
            subject,
            f"metadata URL {redact_url(url)} rejected: {error}",
            "fix materialize:metadataBackendUrl",
        )
        return
    yield Check(Status.OK, subject, f"metadata URL {parsed.redacted()} parses as Materialize reads it")
    yield from _url_warnings(parsed, subject)

    with tempfile.TemporaryDirectory(prefix="mz-doctor-") as scratch:
        try:
            conn = psycopg.connect(**connect_arguments(parsed, timeout, Path(scratch)))
        except psycopg.OperationalError as error:
            yield classify_connect_error(str(error), parsed, subject, timeout)
            return
        with conn:
            yield _tls_check(conn, parsed, subject)
            yield version_check(conn.info.server_version, subject)
            yield _create_schema_check(conn, parsed, subject)
            yield from _existing_schema_checks(conn, parsed, subject)
            yield headroom_check(_connection_usage(conn), instances_on_server, subject)


def connect_arguments(parsed: MetadataUrl, timeout: float, scratch: Path) -> dict[str, Any]:
    """libpq keyword arguments equivalent to how Materialize connects."""
    sslmode = parsed.sslmode or "prefer"  # Materialize's client default
    arguments: dict[str, Any] = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.user,
        # As with libpq, the database defaults to the user name.
        "dbname": parsed.database or parsed.user,
        "sslmode": sslmode,
        "connect_timeout": max(2, math.ceil(timeout)),
        "application_name": "materialize-doctor",
        "autocommit": True,
    }
    if parsed.password is not None:
        arguments["password"] = parsed.password
    for name in ("sslrootcert", "sslcert", "sslkey"):
        inline = parsed.param(f"{name}_inline")
        path = parsed.param(name)
        if inline is not None:
            arguments[name] = str(_write_private(scratch / name, inline))
        elif path is not None and Path(path).is_file():
            arguments[name] = path
    if sslmode in ("verify-ca", "verify-full") and "sslrootcert" not in arguments:
        # Materialize's OpenSSL client falls back to the system trust store.
        arguments["sslrootcert"] = "system"
    for name in ("channel_binding", "target_session_attrs"):
        value = parsed.param(name)
        if value is not None:
            arguments[name] = value
    return arguments


def classify_connect_error(message: str, parsed: MetadataUrl, subject: str, timeout: float) -> Check:
    """One distinct, actionable line per way a connection attempt fails."""
    text = message.lower()
    where = f"{parsed.host}:{parsed.port}"
    database = parsed.database or parsed.user
    if "password authentication failed" in text or "password is required" in text:
        return Check(
            Status.FAIL,
            subject,
            f"authentication failed: the server rejected the password for user {parsed.user!r}",
            "correct the password in metadataBackendUrl (percent-encode @ : / ? # % + and spaces)",
        )
    if "role" in text and "does not exist" in text:
        return Check(
            Status.FAIL,
            subject,
            f"user {parsed.user!r} does not exist on {where}",
            f"create it: CREATE ROLE \"{parsed.user}\" LOGIN PASSWORD '...'",
        )
    if "database" in text and "does not exist" in text:
        return Check(
            Status.FAIL,
            subject,
            f"database {database!r} does not exist on {where}",
            f'create it: CREATE DATABASE "{database}" OWNER "{parsed.user}"',
        )
    if "no pg_hba.conf entry" in text:
        return Check(
            Status.FAIL,
            subject,
            f"{where} refuses this client (no pg_hba.conf entry for user {parsed.user!r}, database {database!r})",
            "allow the cluster's network in pg_hba.conf, or use sslmode=require if only hostssl lines exist",
        )
    if "server does not support ssl" in text or "ssl was required" in text:
        return Check(
            Status.FAIL,
            subject,
            f"sslmode={parsed.sslmode} requires TLS but {where} does not offer it",
            "enable ssl on the server (recommended) or change sslmode",
        )
    if "certificate" in text and ("verify" in text or "does not match" in text or "root" in text):
        return Check(
            Status.FAIL,
            subject,
            f"TLS certificate of {where} could not be verified (sslmode={parsed.sslmode})",
            "give the server's CA as sslrootcert_inline=<percent-encoded PEM>, fix the host name, "
            "or use sslmode=require",
        )
    if "too many connections" in text or "remaining connection slots" in text:
        return Check(
            Status.FAIL,
            subject,
            f"{where} has no free connection slots",
            "raise max_connections or close idle clients",
        )
    if any(
        marker in text
        for marker in (
            "connection refused",
            "timeout expired",
            "timed out",
            "could not translate host name",
            "failed to resolve host",
            "name or service not known",
            "no route to host",
            "network is unreachable",
            "could not connect",
        )
    ):
        return Check(
            Status.FAIL,
            subject,
            f"cannot reach {where} within {timeout:g}s",
            "check the host name, port, DNS and firewall or security-group rules; run the doctor "
            "from a network that reaches the database as the cluster does",
        )
    first_line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return Check(Status.FAIL, subject, f"could not connect to {where}: {first_line}")


def version_check(server_version: int, subject: str) -> Check:
    major = server_version // 10000
    minor = server_version % 10000
    if major < MIN_SERVER_MAJOR:
        return Check(
            Status.WARN,
            subject,
            f"PostgreSQL {major}.{minor} is older than {MIN_SERVER_MAJOR}, "
            "the oldest version Materialize is tested with",
            f"upgrade the server to PostgreSQL {MIN_SERVER_MAJOR} or newer",
        )
    return Check(Status.OK, subject, f"PostgreSQL {major}.{minor}")


def headroom_check(usage: ConnectionUsage, instances_on_server: int, subject: str) -> Check:
    """Whether the server has room for Materialize's connection pools."""
    free = usage.max_connections - usage.reserved - usage.in_use
    needed = HEADROOM_PER_INSTANCE * max(1, instances_on_server)
    detail = f"max_connections {usage.max_connections}, {usage.reserved} reserved, {usage.in_use} in use: {free} free"
    sharing = f" for {instances_on_server} instances" if instances_on_server > 1 else ""
    if free <= 0:
        return Check(
            Status.FAIL,
            subject,
            f"no free connection slots ({detail})",
            "raise max_connections or close idle clients",
        )
    limits = [
        (name, limit)
        for name, limit in (("user", usage.role_limit), ("database", usage.database_limit))
        if 0 <= limit < needed
    ]
    if limits:
        name, limit = limits[0]
        return Check(
            Status.WARN,
            subject,
            f"the {name} allows only {limit} connections; Materialize may need {needed}{sharing}",
            f"ALTER {'ROLE' if name == 'user' else 'DATABASE'} ... CONNECTION LIMIT -1 (or at least {needed})",
        )
    if free < needed:
        return Check(
            Status.WARN,
            subject,
            f"little connection headroom ({detail}); Materialize may need up to {needed}{sharing}",
            f"raise max_connections so at least {needed} slots stay free",
        )
    return Check(Status.OK, subject, f"connection headroom ok ({detail})")


def _url_warnings(parsed: MetadataUrl, subject: str) -> Iterator[Check]:
    for name in ("sslrootcert", "sslcert", "sslkey"):
        path = parsed.param(name)
        if path is not None:
            found = "found" if Path(path).is_file() else "not found"
            yield Check(
                Status.WARN,
                subject,
                f"{name}={path} is a file path Materialize reads inside its pod ({found} on this machine)",
                f"prefer {name}_inline=<percent-encoded PEM>, which travels with the URL",
            )


def _tls_check(conn: psycopg.Connection, parsed: MetadataUrl, subject: str) -> Check:
    sslmode = parsed.sslmode or "prefer"
    # Ask the server, not the client library, whether this session is encrypted.
    row = conn.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
    if row is not None and row[0]:
        protocol = row[1] or "TLS"
        verified = {
            "verify-full": "certificate and host name verified",
            "verify-ca": "certificate verified, host name not checked",
        }.get(sslmode, "server certificate not verified")
        message = f"connected; session encrypted with {protocol} (sslmode={sslmode}, {verified})"
        return Check(Status.OK, subject, message)
    if sslmode == "disable":
        return Check(
            Status.WARN,
            subject,
            "connected, but the session is NOT encrypted (sslmode=disable)",
            "use sslmode=require (or verify-full) unless the network is fully trusted",
        )
    return Check(
        Status.WARN,
        subject,
        f"connected, but the session is NOT encrypted: the server offers no TLS and sslmode={sslmode} allowed that",
        "enable TLS on the server and set sslmode=require",
    )


def _create_schema_check(conn: psycopg.Connection, parsed: MetadataUrl, subject: str) -> Check:
    database = parsed.database or parsed.user
    schema = f"mz_doctor_{uuid.uuid4().hex[:12]}"
    try:
        # Rolled back whatever happens: the check leaves nothing behind.
        with conn.transaction(force_rollback=True):
            conn.execute(sql.SQL("CREATE SCHEMA {} AUTHORIZATION CURRENT_USER").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("CREATE TABLE {}.probe (id bigint)").format(sql.Identifier(schema)))
    except errors.InsufficientPrivilege:
        return Check(
            Status.FAIL,
            subject,
            f"user {parsed.user!r} may not create schemas in database {database!r} "
            f"(Materialize creates {' and '.join(MATERIALIZE_SCHEMAS)})",
            f'GRANT CREATE ON DATABASE "{database}" TO "{parsed.user}" (or make the user the database owner)',
        )
    except errors.ReadOnlySqlTransaction:
        return Check(
            Status.FAIL,
            subject,
            f"database {database!r} is read-only here (a standby?)",
            "point metadataBackendUrl at the primary",
        )
    except psycopg.Error as error:
        return Check(Status.FAIL, subject, f"creating a test schema failed: {type(error).__name__}")
    return Check(
        Status.OK,
        subject,
        f"user {parsed.user!r} may create schemas in database {database!r} (checked in a rolled-back transaction)",
    )


def _existing_schema_checks(conn: psycopg.Connection, parsed: MetadataUrl, subject: str) -> Iterator[Check]:
    rows = conn.execute(
        "SELECT nspname, has_schema_privilege(oid, 'USAGE') AND has_schema_privilege(oid, 'CREATE')"
        " FROM pg_namespace WHERE nspname = ANY(%s) ORDER BY nspname",
        (list(MATERIALIZE_SCHEMAS),),
    ).fetchall()
    blocked = [name for name, usable in rows if not usable]
    if blocked:
        yield Check(
            Status.FAIL,
            subject,
            f"schema(s) {', '.join(blocked)} already exist but user {parsed.user!r} lacks USAGE/CREATE on them",
            "; ".join(f'ALTER SCHEMA {name} OWNER TO "{parsed.user}"' for name in blocked),
        )
    elif rows:
        yield Check(
            Status.OK,
            subject,
            f"database already holds Materialize state (schemas {', '.join(name for name, _ in rows)}); "
            "fine when it belongs to this instance, wrong for a new one",
        )


def _connection_usage(conn: psycopg.Connection) -> ConnectionUsage:
    row = conn.execute(
        """
        SELECT current_setting('max_connections')::int,
               current_setting('superuser_reserved_connections')::int
                 + coalesce(current_setting('reserved_connections', true), '0')::int,
               (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int,
               (SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user),
               (SELECT datconnlimit FROM pg_database WHERE datname = current_database())
        """
    ).fetchone()
    assert row is not None
    return ConnectionUsage(*row)


def _write_private(path: Path, content: str) -> Path:
    path.touch(mode=0o600)
    path.write_text(content)
    return path
