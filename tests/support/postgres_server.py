"""A throwaway PostgreSQL server on loopback, with password auth and TLS.

`start_postgres()` runs initdb and postgres from the machine's PostgreSQL
binaries in a temporary directory and returns a `PostgresServer` with:

- a superuser for setup (scram-sha-256 password auth on 127.0.0.1);
- an application user whose password contains URL-hostile characters, and a
  database it owns (so it may create schemas);
- a database the application user may connect to but not create schemas in;
- a self-signed certificate (also usable as the root certificate for
  sslmode=verify-full against 127.0.0.1 or localhost) with `ssl = on`.

PostgreSQL refuses to run as root, so when the tests run as root the server
runs as the unprivileged `nobody` account and the data directory is handed
to it. `stop()` shuts the server down and deletes everything.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from components.metadata_url import postgres_url
from tests.support.net import LOOPBACK, free_port

_UNPRIVILEGED_USER = "nobody"
_START_ATTEMPTS = 3
# Enough that an idle test server shows healthy connection headroom.
_MAX_CONNECTIONS = 150


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are not installed on this machine."""


@dataclass
class PostgresServer:
    port: int
    base_dir: Path
    bin_dir: Path
    run_as: str | None
    ca_file: Path
    superuser: str = "postgres"
    superuser_password: str = field(default="", repr=False)
    app_user: str = "mz_app"
    app_password: str = field(default="", repr=False)
    app_database: str = "mz_app_db"
    locked_database: str = "mz_locked_db"
    host: str = LOOPBACK

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    def url(
        self,
        *,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        sslmode: str | None = None,
    ) -> str:
        """A metadata URL, by default for the application user and database."""
        return postgres_url(
            self.host,
            self.port,
            database or self.app_database,
            user or self.app_user,
            self.app_password if password is None else password,
            sslmode,
        )

    @contextmanager
    def superuser_connection(self, database: str = "postgres") -> Iterator[psycopg.Connection]:
        with psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.superuser,
            password=self.superuser_password,
            dbname=database,
            sslmode="disable",
            connect_timeout=10,
            autocommit=True,
        ) as conn:
            yield conn

    def stop(self) -> None:
        if self.data_dir.exists():
            _run(
                [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"],
                self.run_as,
                check=False,
            )
        shutil.rmtree(self.base_dir, ignore_errors=True)


def find_postgres_bin_dir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres, if installed."""
    candidates = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
        candidates.append(Path(on_path).parent)
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_major_version, reverse=True)
    candidates.extend(versions)
    for directory in candidates:
        if all((directory / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


def start_postgres(timeout: float = 30.0) -> PostgresServer:
    """Start a fresh server; raises PostgresUnavailable without binaries."""
    bin_dir = find_postgres_bin_dir()
    if bin_dir is None:
        raise PostgresUnavailable(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH "
            "or in /usr/lib/postgresql/*/bin; run .ci/install-services.sh"
        )
    run_as = _UNPRIVILEGED_USER if os.geteuid() == 0 else None
    base_dir = Path(tempfile.mkdtemp(prefix="mz-test-postgres-"))
    server = PostgresServer(
        port=0,
        base_dir=base_dir,
        bin_dir=bin_dir,
        run_as=run_as,
        ca_file=base_dir / "server.crt",
        superuser_password=secrets.token_urlsafe(18),
        # Characters that break naively built URLs: each must be encoded.
        app_password="p@ss/w:rd+%#?&= " + secrets.token_urlsafe(12),
    )
    try:
        _init_cluster(server)
        _start(server, timeout)
        _create_roles_and_databases(server)
    except BaseException:
        server.stop()
        raise
    return server


def _init_cluster(server: PostgresServer) -> None:
    _hand_over(server, server.base_dir)
    password_file = server.base_dir / "superuser-password"
    password_file.write_text(server.superuser_password + "\n")
    _hand_over(server, password_file)
    _run(
        [
            str(server.bin_dir / "initdb"),
            "-D",
            str(server.data_dir),
            "-U",
            server.superuser,
            f"--pwfile={password_file}",
            "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ],
        server.run_as,
    )
    password_file.unlink()
    _write_certificate(server)


def _start(server: PostgresServer, timeout: float) -> None:
    config = server.data_dir / "postgresql.conf"
    base_config = config.read_text()
    for _ in range(_START_ATTEMPTS):
        server.port = free_port()
        config.write_text(base_config + _settings(server))
        result = _run(
            [
                str(server.bin_dir / "pg_ctl"),
                "-D",
                str(server.data_dir),
                "-l",
                str(server.base_dir / "server.log"),
                "-w",
                "-t",
                str(int(timeout)),
                "start",
            ],
            server.run_as,
            check=False,
        )
        if result.returncode == 0:
            return
    log = server.base_dir / "server.log"
    tail = log.read_text()[-2000:] if log.exists() else "(no log)"
    raise RuntimeError(f"PostgreSQL did not start after {_START_ATTEMPTS} attempts:\n{tail}")


def _settings(server: PostgresServer) -> str:
    return "\n".join(
        [
            "",
            f"port = {server.port}",
            f"listen_addresses = '{LOOPBACK}'",
            f"unix_socket_directories = '{server.base_dir}'",
            f"max_connections = {_MAX_CONNECTIONS}",
            "ssl = on",
            f"ssl_cert_file = '{server.base_dir / 'server.crt'}'",
            f"ssl_key_file = '{server.base_dir / 'server.key'}'",
            # Durability is pointless for a server deleted after the session.
            "fsync = off",
            "synchronous_commit = off",
            "full_page_writes = off",
            "",
        ]
    )


def _create_roles_and_databases(server: PostgresServer) -> None:
    with server.superuser_connection() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(server.app_user), sql.Literal(server.app_password)
            )
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(server.app_database), sql.Identifier(server.app_user)
            )
        )
        # Owned by the superuser: PUBLIC may connect but holds no CREATE.
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(server.locked_database)))


def _write_certificate(server: PostgresServer) -> None:
    cert_file = server.base_dir / "server.crt"
    key_file = server.base_dir / "server.key"
    try:
        cert_pem, key_pem = _self_signed_certificate()
    except ImportError:
        _self_signed_certificate_with_openssl(cert_file, key_file)
    else:
        cert_file.write_bytes(cert_pem)
        key_file.write_bytes(key_pem)
    # PostgreSQL refuses a key others can read.
    key_file.chmod(0o600)
    _hand_over(server, cert_file)
    _hand_over(server, key_file)


def _self_signed_certificate() -> tuple[bytes, bytes]:
    """A certificate for localhost/127.0.0.1 that is its own root."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def _self_signed_certificate_with_openssl(cert_file: Path, key_file: Path) -> None:
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-nodes",
            "-days",
            "1",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-keyout",
            str(key_file),
            "-out",
            str(cert_file),
            "-subj",
            "/CN=localhost",
            "-addext",
            f"subjectAltName=DNS:localhost,IP:{LOOPBACK}",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )


def _hand_over(server: PostgresServer, path: Path) -> None:
    if server.run_as is not None:
        account = pwd.getpwnam(server.run_as)
        os.chown(path, account.pw_uid, account.pw_gid)


def _run(command: list[str], run_as: str | None, check: bool = True) -> subprocess.CompletedProcess[str]:
    tool = Path(command[0]).name
    if run_as is not None:
        command = [*_switch_user(run_as), *command]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if check and result.returncode != 0:
        raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr[-2000:]}")
    return result


def _switch_user(user: str) -> list[str]:
    if shutil.which("runuser"):
        return ["runuser", "-u", user, "--"]
    account = pwd.getpwnam(user)
    return ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--clear-groups"]


def _major_version(bin_dir: Path) -> int:
    name = bin_dir.parent.name
    return int(name) if name.isdigit() else 0
