"""Support replica commands: list them, and drop the ones past their expiry.

    python -m tools.support list --url "$MZ_SUPPORT_URL"
    python -m tools.support reconcile --dry-run
    python -m tools.support reconcile --kubeconfig ~/.kube/config --context prod \\
        --namespace materialize-main --service mz1a2b3c-environmentd
    python -m tools.support reconcile-stacks support-acme support-globex

The connection is a URL (--url, or MZ_SUPPORT_URL) or a port-forward to
environmentd's Service (--namespace and --service; the password, when the
instance uses password authentication, comes from MZ_SUPPORT_PASSWORD); it
must be mz_system's. `reconcile-stacks` takes each support stack's own
connection from its config through the Pulumi CLI. Exit status: 0 when done,
1 when a drop failed, the ledger cannot be trusted, or the database refused
or could not be reached, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from components.controlplane.catalog import MaterializeCatalog, ReplicaCatalog, ReplicaRecord
from components.controlplane.connection import INTERNAL_SQL_PORT, SYSTEM_USER, SupportSqlError, open_database
from components.controlplane.expiry import LedgerNotTrusted, Outcome, checked_ledger, matched, mismatch, reconcile
from components.controlplane.ledger import LedgerEntry
from components.controlplane.replicas import format_time, parse_time
from components.controlplane.settings import SUPPORT_KEY, ConnectionSettings
from components.settings import PROJECT

URL_ENV = "MZ_SUPPORT_URL"
PASSWORD_ENV = "MZ_SUPPORT_PASSWORD"
# Reads one stack's config, secrets decrypted: (stack) -> `pulumi config --json` output.
StackConfigReader = Callable[[str], Mapping[str, Any]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.support", description=(__doc__ or "").split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser(
        "list", help="every internal replica and what the ledger records: size, billed-as size, set, expiry"
    )
    expire = commands.add_parser("reconcile", help="drop the recorded support replicas whose expiry has passed")
    stacks = commands.add_parser(
        "reconcile-stacks", help="reconcile every instance the named support stacks point at (their own connection)"
    )
    stacks.add_argument("stacks", nargs="+", metavar="STACK", help="support stack names (pulumi stack ls)")
    for command in (listing, expire, stacks):
        command.add_argument("--now", help="RFC 3339 time to judge expiry by (default: now), e.g. to rehearse")
        command.add_argument(
            "--cluster", action="append", dest="clusters", metavar="NAME", help="only this cluster (repeatable)"
        )
    for command in (expire, stacks):
        command.add_argument("--dry-run", action="store_true", help="only print what would be dropped")
    for command in (listing, expire):
        where = command.add_argument_group("connection (a URL, or a port-forward)")
        where.add_argument("--url", help=f"postgres:// URL of the SQL endpoint (default: ${URL_ENV})")
        where.add_argument("--kubeconfig", help="kubeconfig file for the port-forward")
        where.add_argument("--context", help="kubeconfig context")
        where.add_argument("--namespace", help="the instance's namespace, e.g. materialize-main")
        where.add_argument("--service", help="environmentd's Service, mz<resourceId>-environmentd")
        where.add_argument("--port", type=int, default=INTERNAL_SQL_PORT, help="Service port (6875 with passwords)")
        where.add_argument("--user", default=SYSTEM_USER, help="mz_system (the only user that can)")
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


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


def _expiry(entry: LedgerEntry | None, now: datetime.datetime) -> str:
    if entry is None:
        return "not recorded"
    return format_time(entry.expires_at) + (" (expired)" if entry.expired(now) else "")


def _status(entry: LedgerEntry | None, replica: ReplicaRecord | None) -> str:
    if entry is None:
        return "not in ledger: left alone"
    if replica is None:
        return "gone: dropped by someone else"
    return mismatch(entry, replica) or "recorded"


def _name_and_id(entry: LedgerEntry | None, replica: ReplicaRecord | None) -> tuple[str, str]:
    if replica is not None:
        return replica.qualified_name, replica.id
    assert entry is not None
    return entry.qualified_name, entry.replica_id


def listing(records: list[ReplicaRecord], entries: list[LedgerEntry], now: datetime.datetime) -> list[str]:
    """Every internal replica and every ledger entry: the catalog's view beside the ledger's."""
    header: tuple[str, ...] = ("replica", "id", "size", "billed as (audit log)", "billed as (ledger)", "set",
                               "expires", "ticket", "status")  # fmt: skip
    rows: list[tuple[str, ...]] = [header]
    pairs: list[tuple[LedgerEntry | None, ReplicaRecord | None]] = list(matched(entries, records))
    recorded = {e.replica_id for e in entries}
    pairs += [(None, r) for r in records if r.internal and r.id not in recorded]
    for entry, replica in sorted(pairs, key=lambda pair: _name_and_id(*pair)):
        name, replica_id = _name_and_id(entry, replica)
        rows.append(
            (
                name,
                replica_id,
                (replica.size if replica else entry.size if entry else None) or "-",
                (replica.billed_as if replica else None) or "-",
                (entry.billed_as if entry else None) or "-",
                (entry.set_name if entry else None) or "-",
                _expiry(entry, now),
                (entry.ticket if entry else None) or "-",
                _status(entry, replica),
            )
        )
    return _columns(rows)


def set_listing(entries: list[LedgerEntry], now: datetime.datetime) -> list[str]:
    """Each replica set (this project's grouping, recorded in the ledger) with its members."""
    sets: dict[tuple[str, str], list[LedgerEntry]] = {}
    for entry in entries:
        if entry.set_name is not None:
            sets.setdefault((entry.cluster, entry.set_name), []).append(entry)
    if not sets:
        return []
    rows = [("set", "members", "size", "billed as", "expires")]
    for (cluster, name), members in sorted(sets.items()):
        rows.append(
            (
                f"{cluster}.{name}",
                ", ".join(sorted(m.name for m in members)),
                ", ".join(sorted({m.size for m in members})),
                ", ".join(sorted({m.billed_as or "-" for m in members})),
                ", ".join(sorted({_expiry(m, now) for m in members})),
            )
        )
    return _columns(rows)


def run_list(
    conn: Any, catalog: ReplicaCatalog, now: datetime.datetime, out: TextIO, clusters: list[str] | None = None
) -> None:
    entries = [e for e in checked_ledger(conn, catalog) if clusters is None or e.cluster in clusters]
    records = [r for r in catalog.replicas(conn) if clusters is None or r.cluster in clusters]
    if not entries and not any(r.internal for r in records):
        print("no internal replicas and nothing in the support ledger", file=out)
        return
    print("\n".join(listing(records, entries, now)), file=out)
    sets = set_listing(entries, now)
    if sets:
        print("\nreplica sets (this project's grouping of replicas, not a Materialize object):", file=out)
        print("\n".join(sets), file=out)


def _line(verb: str, outcome: Outcome) -> str:
    expired = format_time(outcome.entry.expires_at)
    reason = f": {outcome.reason}" if outcome.reason and verb != "dropped" else ""
    return f"{verb} {outcome.entry.qualified_name} ({outcome.entry.replica_id}, expires {expired}){reason}"


def run_reconcile(
    conn: Any,
    catalog: ReplicaCatalog,
    now: datetime.datetime,
    dry_run: bool,
    out: TextIO,
    clusters: list[str] | None = None,
) -> bool:
    """Reconcile and print every outcome; False when a drop failed."""
    result = reconcile(conn, catalog, now, dry_run=dry_run, clusters=clusters)
    verb = "would drop" if dry_run else "dropped"
    for outcome in result.dropped:
        print(_line(verb, outcome), file=out)
    for outcome in result.failed:
        print(_line("FAILED to drop", outcome), file=out)
    for outcome in result.skipped:
        print(_line("skipped", outcome), file=out)
    for outcome in result.gone:
        print(_line("drift: gone", outcome), file=out)
    for record in result.unrecorded:
        print(f"left alone {record.qualified_name} ({record.id}): INTERNAL but not in the support ledger", file=out)
    print(
        f"{len(result.dropped)} {verb}, {len(result.failed)} failed, {len(result.skipped)} skipped, "
        f"{len(result.active)} not yet expired, {len(result.gone)} gone, {len(result.unrecorded)} not recorded",
        file=out,
    )
    return result.ok


def pulumi_stack_config(stack: str) -> Mapping[str, Any]:
    """`pulumi config --json --show-secrets` of a stack (the CLI must be signed in to its backend)."""
    done = subprocess.run(
        ["pulumi", "config", "--json", "--show-secrets", "--stack", stack],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ValueError(f"stack {stack}: pulumi config failed: {done.stderr.strip()}")
    config: Mapping[str, Any] = json.loads(done.stdout)
    return config


def stack_connection(stack: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The support stack's connection, from its config as `pulumi config --json` prints it."""
    entry = config.get(f"{PROJECT}:{SUPPORT_KEY}")
    if entry is None:
        raise ValueError(f"stack {stack}: not a support stack (no {PROJECT}:{SUPPORT_KEY})")
    support = entry.get("objectValue")
    if support is None:
        support = json.loads(entry["value"])
    connection = ConnectionSettings.model_validate(support.get("connection") or {})
    return connection.to_input()


def run_stacks(
    stacks: list[str],
    read_config: StackConfigReader,
    catalog: ReplicaCatalog,
    now: datetime.datetime,
    dry_run: bool,
    out: TextIO,
    err: TextIO,
    clusters: list[str] | None = None,
) -> bool:
    """Reconcile each stack's instance in turn; one that fails does not stop the rest."""
    ok = True
    for stack in stacks:
        print(f"== {stack}", file=out)
        try:
            connection = stack_connection(stack, read_config(stack))
            with open_database(connection) as conn:
                ok = run_reconcile(conn, catalog, now, dry_run, out, clusters) and ok
        except (ValueError, SupportSqlError, LedgerNotTrusted) as error:
            print(f"error: {stack}: {error}", file=err)
            ok = False
    return ok


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    catalog: ReplicaCatalog | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    read_config: StackConfigReader = pulumi_stack_config,
) -> int:
    """The command; `catalog` and `read_config` are replaceable so the tests can run it against a stand-in."""
    args = _parser().parse_args(argv)
    environ = os.environ if environ is None else environ
    catalog = catalog if catalog is not None else MaterializeCatalog()
    try:
        now = parse_time(args.now) if args.now else datetime.datetime.now(datetime.UTC)
        if args.command == "reconcile-stacks":
            return 0 if run_stacks(args.stacks, read_config, catalog, now, args.dry_run, out, err, args.clusters) else 1
        connection = connection_from(args, environ)
    except ValueError as error:
        print(f"error: {error}", file=err)
        return 2
    try:
        with open_database(connection) as conn:
            if args.command == "list":
                run_list(conn, catalog, now, out, args.clusters)
                return 0
            return 0 if run_reconcile(conn, catalog, now, args.dry_run, out, args.clusters) else 1
    except (SupportSqlError, LedgerNotTrusted) as error:
        print(f"error: {error}", file=err)
        return 1
