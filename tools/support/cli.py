"""Support replica commands: list them, and drop the ones past their expiry.

    python -m tools.support list --url "$MZ_SUPPORT_URL"
    python -m tools.support reconcile --dry-run
    python -m tools.support reconcile --kubeconfig ~/.kube/config --context prod \\
        --namespace materialize-main --service mz1a2b3c-environmentd

The connection is a URL (--url, or MZ_SUPPORT_URL) or a port-forward to
environmentd's Service (--namespace and --service; the password, when the
instance uses password authentication, comes from MZ_SUPPORT_PASSWORD). It
must be an internal user's: mz_system or mz_support. Exit status: 0 when
done, 1 when the database refused or could not be reached, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from components.controlplane.catalog import MaterializeCatalog, ReplicaCatalog, ReplicaRecord
from components.controlplane.connection import INTERNAL_SQL_PORT, INTERNAL_USERS, SupportSqlError, open_database
from components.controlplane.expiry import reconcile, support_replicas
from components.controlplane.replicas import format_time, parse_time

URL_ENV = "MZ_SUPPORT_URL"
PASSWORD_ENV = "MZ_SUPPORT_PASSWORD"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.support", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="every internal replica, with size, billed-as size, set and expiry")
    expire = commands.add_parser("reconcile", help="drop the support replicas whose expiry has passed")
    expire.add_argument("--dry-run", action="store_true", help="only print what would be dropped")
    for command in (listing, expire):
        command.add_argument("--now", help="RFC 3339 time to judge expiry by (default: now), e.g. to rehearse")
        command.add_argument(
            "--cluster", action="append", dest="clusters", metavar="NAME", help="only this cluster (repeatable)"
        )
        where = command.add_argument_group("connection (a URL, or a port-forward)")
        where.add_argument("--url", help=f"postgres:// URL of the SQL endpoint (default: ${URL_ENV})")
        where.add_argument("--kubeconfig", help="kubeconfig file for the port-forward")
        where.add_argument("--context", help="kubeconfig context")
        where.add_argument("--namespace", help="the instance's namespace, e.g. materialize-main")
        where.add_argument("--service", help="environmentd's Service, mz<resourceId>-environmentd")
        where.add_argument("--port", type=int, default=INTERNAL_SQL_PORT, help="Service port (6875 with passwords)")
        where.add_argument("--user", choices=INTERNAL_USERS, default=INTERNAL_USERS[0])
        where.add_argument("--database", default="materialize")
        where.add_argument("--sslmode", choices=("disable", "prefer", "require"), default="prefer")
    return parser


def connection_from(args: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, Any]:
    url = args.url or environ.get(URL_ENV)
    if args.namespace or args.service:
        if url:
            raise ValueError(f"give either a URL (--url / ${URL_ENV}) or a port-forward, not both")
        if not (args.namespace and args.service and args.kubeconfig):
            raise ValueError("a port-forward needs --kubeconfig, --namespace and --service")
        return {
            "portForward": {
                "kubeconfig": args.kubeconfig,
                "kubeContext": args.context,
                "namespace": args.namespace,
                "service": args.service,
                "port": args.port,
            },
            "user": args.user,
            "password": environ.get(PASSWORD_ENV),
            "database": args.database,
            "sslmode": args.sslmode,
        }
    if not url:
        raise ValueError(f"no connection: give --url (or set ${URL_ENV}), or --kubeconfig, --namespace and --service")
    return {"url": url}


def _table(records: list[ReplicaRecord], now: datetime.datetime) -> list[str]:
    header = ("replica", "id", "size", "billed as", "internal", "set", "expires", "ticket")
    rows = [header]
    for record in records:
        marker = record.marker
        if marker is None:
            expires = "no expiry recorded"
        else:
            expires = format_time(marker.expires_at) + (" (expired)" if marker.expired(now) else "")
        rows.append(
            (
                record.qualified_name,
                record.id,
                record.size or "-",
                record.billed_as or "-",
                "yes" if record.internal else "no",
                (marker.set_name if marker else None) or "-",
                expires,
                (marker.ticket if marker else None) or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


def run_list(
    conn: Any, catalog: ReplicaCatalog, now: datetime.datetime, out: TextIO, clusters: list[str] | None = None
) -> None:
    found = support_replicas(catalog.replicas(conn), clusters)
    if not found:
        print("no internal or support replicas", file=out)
        return
    print("\n".join(_table(found, now)), file=out)


def run_reconcile(
    conn: Any,
    catalog: ReplicaCatalog,
    now: datetime.datetime,
    dry_run: bool,
    out: TextIO,
    clusters: list[str] | None = None,
) -> None:
    result = reconcile(conn, catalog, now, dry_run=dry_run, clusters=clusters)
    verb = "would drop" if dry_run else "dropped"
    for record in result.expired:
        assert record.marker is not None
        expired = format_time(record.marker.expires_at)
        print(f"{verb} {record.qualified_name} ({record.id}, expired {expired})", file=out)
    summary = f"{len(result.expired)} {verb}, {len(result.active)} not yet expired"
    if result.unmarked:
        names = ", ".join(r.qualified_name for r in result.unmarked)
        summary += f", {len(result.unmarked)} internal without a recorded expiry (left alone: {names})"
    print(summary, file=out)


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    catalog: ReplicaCatalog | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """The command; `catalog` is replaceable so the tests can run it against a stand-in."""
    args = _parser().parse_args(argv)
    environ = os.environ if environ is None else environ
    try:
        connection = connection_from(args, environ)
        now = parse_time(args.now) if args.now else datetime.datetime.now(datetime.UTC)
    except ValueError as error:
        print(f"error: {error}", file=err)
        return 2
    catalog = catalog if catalog is not None else MaterializeCatalog()
    try:
        with open_database(connection) as conn:
            if args.command == "list":
                run_list(conn, catalog, now, out, args.clusters)
            else:
                run_reconcile(conn, catalog, now, args.dry_run, out, args.clusters)
    except SupportSqlError as error:
        print(f"error: {error}", file=err)
        return 1
    return 0
