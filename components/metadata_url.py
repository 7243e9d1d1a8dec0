"""Postgres metadata-store URLs (`metadata_backend_url`): build and parse.

Materialize reads this URL with its fork of tokio-postgres
(MaterializeInc/rust-postgres, tokio-postgres/src/config.rs `UrlParser`),
whose rules differ from a generic URL parser in ways that matter here:

- only the lowercase prefixes `postgres://` and `postgresql://` are URLs;
- credentials end at the *first* `@`, user and password split at the first
  `:`; every component is percent-decoded and `+` stays a plus sign;
- query parameters outside its fixed list are an error, and `sslmode`
  accepts disable, prefer, require, verify-ca and verify-full only;
- environmentd derives its persist-consensus and timestamp-oracle URLs by
  appending `options=--search_path=consensus` (and `tsoracle`) to this URL
  with `Url::parse_with_params` (MaterializeInc/materialize
  src/environmentd/src/environmentd/main.rs, where `consensus_uri` and
  `timestamp_oracle_url` fall back to `metadata_backend_url`), and the client
  keeps only the last `options` (`Config::options` replaces the value;
  MaterializeInc/rust-postgres tokio-postgres/src/config.rs at
  f0b4df201dfd9dd2796277176b8b200ea8fbc59a). Every connection environmentd
  makes to this database (the catalog lives in persist too) therefore drops a
  user-supplied `options`: the `options=-c statement_timeout=...` that
  Materialize's own Terraform examples pass
  (materialize-terraform-self-managed aws/examples/simple/main.tf at
  187f61a88393ab2110df08bfa82b435cd0b98eb2) has no effect. We refuse
  `options` so nobody relies on it; a statement timeout that does apply is a
  role setting (`ALTER ROLE ... SET statement_timeout`), which the targets
  that create the role set (METADATA_STATEMENT_TIMEOUT), and dead connections
  are already cut by environmentd's own `crdb_connect_timeout` (5s) and
  `crdb_tcp_user_timeout` (30s) system parameters
  (src/persist-client/src/cfg.rs).

We are stricter than Materialize where the URL could never work from a pod:
no Unix-socket hosts, exactly one host, and a user is required (Materialize
needs it to name the owner of the schemas it creates).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, unquote_to_bytes

SSLMODES: tuple[str, ...] = ("disable", "prefer", "require", "verify-ca", "verify-full")

# Query parameters Materialize's Postgres client accepts.
QUERY_PARAMETERS: tuple[str, ...] = (
    "user",
    "password",
    "dbname",
    "options",
    "application_name",
    "sslcert",
    "sslcert_inline",
    "sslkey",
    "sslkey_inline",
    "sslmode",
    "sslrootcert",
    "sslrootcert_inline",
    "sslnegotiation",
    "connect_timeout",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
    "replication",
)

# Parameters that select the server; one host in the authority is all we allow.
_HOST_PARAMETERS = ("host", "hostaddr", "port")

# Parameters whose values must never be printed.
SECRET_PARAMETERS: tuple[str, ...] = ("password", "sslkey_inline")

_PREFIXES = ("postgres://", "postgresql://")

REDACTED = "****"

# Bounds one metadata query, so a lock or a stuck server cannot hold an
# environmentd request forever; the value Materialize's own Terraform examples
# intend (`database_statement_timeout = "15min"`). Consensus writes are small
# compare-and-sets that take milliseconds, so it never cuts healthy work.
METADATA_STATEMENT_TIMEOUT = "15min"


@dataclass(frozen=True)
class MetadataUrl:
    """A parsed metadata URL. The password is kept but never shown by repr()."""

    host: str
    port: int
    database: str | None
    user: str
    password: str | None = field(default=None, repr=False)
    sslmode: str | None = None
    # Remaining query parameters in URL order, secrets excluded from repr.
    params: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def has_password(self) -> bool:
        return self.password is not None

    def param(self, name: str) -> str | None:
        """The last value of query parameter `name`, as Materialize reads it."""
        found = None
        for key, value in self.params:
            if key == name:
                found = value
        return found

    def redacted(self) -> str:
        """The URL with secrets replaced, safe to print."""
        userinfo = quote(self.user, safe="")
        if self.has_password:
            userinfo += f":{REDACTED}"
        query = []
        if self.sslmode is not None:
            query.append(f"sslmode={self.sslmode}")
        for key, value in self.params:
            shown = REDACTED if key in SECRET_PARAMETERS else quote(value, safe="")
            if key.endswith("_inline") and key not in SECRET_PARAMETERS:
                shown = "..."
            query.append(f"{key}={shown}")
        database = quote(self.database, safe="{}") if self.database else ""
        url = f"postgres://{userinfo}@{_host_for_url(self.host)}:{self.port}/{database}"
        return url + (f"?{'&'.join(query)}" if query else "")


def postgres_url(
    host: str,
    port: int,
    database: str,
    user: str,
    password: str | None = None,
    sslmode: str | None = None,
    params: Sequence[tuple[str, str]] = (),
) -> str:
    """Build a metadata URL Materialize decodes back to these values.

    User, password and database are percent-encoded in full, except that
    `{` and `}` are left in the database name so an `{instance}` placeholder
    stays readable for later substitution. `params` are further query
    parameters from QUERY_PARAMETERS (such as `sslcert_inline`), each value
    percent-encoded in full: PEM text keeps its newlines, `+` and `/`.
    """
    if not host or host.startswith("/"):
        raise ValueError("host must be a TCP host name or address, not empty or a socket path")
    if not 0 < port < 65536:
        raise ValueError(f"port must be between 1 and 65535, got {port}")
    if not user:
        raise ValueError("user must not be empty")
    if not database:
        raise ValueError("database must not be empty")
    if sslmode is not None and sslmode not in SSLMODES:
        raise ValueError(f"sslmode must be one of {', '.join(SSLMODES)}")
    for key, _ in params:
        if key not in QUERY_PARAMETERS or key in ("sslmode", "options", "user", "password", "dbname"):
            raise ValueError(f"{key!r} is not a query parameter postgres_url adds (see QUERY_PARAMETERS)")
    userinfo = quote(user, safe="")
    if password is not None:
        userinfo += ":" + quote(password, safe="")
    url = f"postgres://{userinfo}@{_host_for_url(host)}:{port}/{quote(database, safe='{}')}"
    query = ([f"sslmode={sslmode}"] if sslmode else []) + [f"{key}={quote(value, safe='')}" for key, value in params]
    return url + (f"?{'&'.join(query)}" if query else "")


def parse_metadata_url(url: str) -> MetadataUrl:
    """Parse a metadata URL the way Materialize does.

    Raises ValueError for anything Materialize would reject or that cannot
    work from a Kubernetes pod. Messages never contain the password.
    """
    rest = next((url[len(p) :] for p in _PREFIXES if url.startswith(p)), None)
    if rest is None:
        raise ValueError("metadata URL must start with postgres:// or postgresql:// (lowercase)")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        # A trailing newline from a file or raw spaces in a password: Materialize's
        # URL handling may strip or keep them, so insist on clean, encoded text.
        raise ValueError("metadata URL contains whitespace or control characters; percent-encode spaces as %20")

    creds, at, after = rest.partition("@")
    if not at:
        creds, after = "", rest
    user_part, colon, password_part = creds.partition(":")
    user = _decode(user_part, "user name") if at else None
    password = _decode(password_part, "password") if colon else None

    host_end = min((i for i in (after.find("/"), after.find("?")) if i >= 0), default=len(after))
    authority, after = after[:host_end], after[host_end:]
    host, port = _parse_authority(authority)

    database: str | None = None
    if after.startswith("/"):
        path, _, query = after[1:].partition("?")
        database = _decode(path, "database name") or None
    else:
        query = after[1:] if after.startswith("?") else ""

    sslmode: str | None = None
    params: list[tuple[str, str]] = []
    for key, value in _parse_query(query):
        if key in _HOST_PARAMETERS:
            raise ValueError(
                f"metadata URL sets {key!r} in the query; give exactly one "
                "host and port as postgres://user:password@host:port/database"
            )
        if key not in QUERY_PARAMETERS:
            raise ValueError(
                f"unknown metadata URL query parameter {key!r}; Materialize's "
                f"Postgres client accepts only: {', '.join(QUERY_PARAMETERS)}"
            )
        if key == "user":
            user = value
        elif key == "password":
            password = value
        elif key == "dbname":
            database = value or None
        elif key == "sslmode":
            if value not in SSLMODES:
                raise ValueError(f"sslmode must be one of {', '.join(SSLMODES)}")
            sslmode = value
        elif key == "options":
            raise ValueError(
                "metadata URL sets options; remove it: environmentd replaces it with its own "
                "(--search_path=consensus, --search_path=tsoracle), so it would be silently ignored. "
                "For a statement timeout, set it on the role: "
                f"ALTER ROLE <user> SET statement_timeout = '{METADATA_STATEMENT_TIMEOUT}'"
            )
        else:
            params.append((key, value))

    if not user:
        raise ValueError(
            "metadata URL has no user; Materialize needs one (postgres://user:password@host:port/database)"
        )
    return MetadataUrl(
        host=host,
        port=port,
        database=database,
        user=user,
        password=password,
        sslmode=sslmode,
        params=tuple(params),
    )


def _parse_authority(authority: str) -> tuple[str, int]:
    if not authority:
        raise ValueError("metadata URL has no host")
    if "," in authority:
        raise ValueError("metadata URL lists several hosts; give exactly one")
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise ValueError("metadata URL has an unclosed '[' in the host")
        host, tail = authority[1:end], authority[end + 1 :]
        if tail and not tail.startswith(":"):
            raise ValueError("metadata URL has text after the IPv6 host")
        port_text = tail[1:] if tail else None
    else:
        host, colon, port_text_raw = authority.partition(":")
        port_text = port_text_raw if colon else None
    host = _decode(host, "host")
    if host.startswith("/"):
        raise ValueError("metadata URL points at a Unix socket; Materialize runs in pods and needs a TCP host name")
    if not host:
        raise ValueError("metadata URL has no host")
    if port_text is None or port_text == "":
        return host, 5432
    if not re.fullmatch(r"[0-9]{1,5}", port_text) or not 0 < int(port_text) < 65536:
        raise ValueError("metadata URL port must be a number between 1 and 65535")
    return host, int(port_text)


def _parse_query(query: str) -> list[tuple[str, str]]:
    pairs = []
    for item in query.split("&") if query else []:
        key, eq, value = item.partition("=")
        if not eq:
            raise ValueError("metadata URL has a query parameter without '='")
        pairs.append((_decode(key, "parameter name"), _decode(value, "parameter value")))
    return pairs


def _decode(text: str, what: str) -> str:
    try:
        return unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"metadata URL {what} is not valid UTF-8 after percent-decoding") from None


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host
