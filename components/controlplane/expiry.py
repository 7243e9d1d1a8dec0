"""Listing support replicas and dropping the expired ones, from the database alone.

What support recorded is in the ledger (ledger.py), so these work without
any Pulumi state: the scheduled job expires replicas of a stack nobody has
run for weeks. A replica is acted on only when three things agree: the
ledger records it (by replica id), the catalog still lists it INTERNAL
(mz_internal.mz_internal_cluster_replicas: only mz_system and mz_support can
create such a replica), and its cluster and name are still the ones
recorded. A comment on a replica is never trusted: its owner, the customer,
may write it. One failed drop does not stop the others; every outcome is
reported.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import psycopg

from components.controlplane.catalog import ReplicaCatalog, ReplicaRecord
from components.controlplane.ledger import LedgerEntry, trust_problems


class LedgerNotTrusted(RuntimeError):
    """The ledger could have been written by someone other than mz_system; nothing is done."""


@dataclass(frozen=True)
class Outcome:
    """A ledger entry, the replica the catalog holds for it (if any), and why it went as it did."""

    entry: LedgerEntry
    replica: ReplicaRecord | None
    reason: str = ""


@dataclass(frozen=True)
class Reconciliation:
    dropped: list[Outcome] = field(default_factory=list)
    # Expired, but not dropped on purpose: renamed, moved or no longer INTERNAL.
    skipped: list[Outcome] = field(default_factory=list)
    # Expired, and the drop (or the ledger write after it) failed.
    failed: list[Outcome] = field(default_factory=list)
    active: list[Outcome] = field(default_factory=list)
    # Recorded, but the replica is gone (someone dropped it): drift, reported.
    gone: list[Outcome] = field(default_factory=list)
    # INTERNAL replicas the ledger does not record: left alone.
    unrecorded: list[ReplicaRecord] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed


def checked_ledger(conn: psycopg.Connection[Any], catalog: ReplicaCatalog) -> list[LedgerEntry]:
    """The ledger's entries, once its objects are shown to be mz_system's alone; LedgerNotTrusted otherwise."""
    facts = catalog.ledger_facts(conn)
    problems = trust_problems(facts)
    if problems:
        raise LedgerNotTrusted("the support ledger cannot be trusted, so nothing was done: " + "; ".join(problems))
    return catalog.ledger(conn) if facts.exists else []


def mismatch(entry: LedgerEntry, replica: ReplicaRecord) -> str | None:
    """Why `replica` is no longer the one `entry` recorded (None while it is)."""
    if not replica.internal:
        return f"{replica.qualified_name} is not INTERNAL, so it is not support's"
    if replica.cluster_id != entry.cluster_id or replica.cluster != entry.cluster:
        return (
            f"recorded in cluster {entry.cluster} ({entry.cluster_id}), now in {replica.cluster} ({replica.cluster_id})"
        )
    if replica.name != entry.name:
        return f"recorded as {entry.qualified_name}, renamed to {replica.qualified_name} by someone else"
    return None


def matched(
    entries: list[LedgerEntry], records: list[ReplicaRecord], clusters: Collection[str] | None = None
) -> list[tuple[LedgerEntry, ReplicaRecord | None]]:
    """Each entry (of `clusters`, or all) with the replica of the same id, if the catalog still has it."""
    by_id = {r.id: r for r in records}
    return [(e, by_id.get(e.replica_id)) for e in entries if clusters is None or e.cluster in clusters]


def reconcile(
    conn: psycopg.Connection[Any],
    catalog: ReplicaCatalog,
    now: datetime.datetime,
    dry_run: bool = False,
    clusters: Collection[str] | None = None,
) -> Reconciliation:
    """Drop every recorded support replica (of `clusters`, or of all) whose expiry has passed; dry_run only reports."""
    entries = checked_ledger(conn, catalog)
    records = catalog.replicas(conn)
    result = Reconciliation(dry_run=dry_run)
    recorded = {e.replica_id for e in entries}
    result.unrecorded.extend(
        r for r in records if r.internal and r.id not in recorded and (clusters is None or r.cluster in clusters)
    )
    for entry, replica in matched(entries, records, clusters):
        if replica is None:
            result.gone.append(Outcome(entry, None, "dropped by someone else"))
            if entry.expired(now) and not dry_run:
                # Nothing left to expire; the entry would only be reported again.
                _forget_or_fail(conn, catalog, Outcome(entry, None, "dropped by someone else"), result, gone=True)
            continue
        problem = mismatch(entry, replica)
        if not entry.expired(now):
            result.active.append(Outcome(entry, replica, problem or ""))
        elif problem:
            result.skipped.append(Outcome(entry, replica, problem))
        elif dry_run:
            result.dropped.append(Outcome(entry, replica, "expired"))
        else:
            try:
                catalog.drop(conn, replica.cluster, replica.name)
            except psycopg.Error as error:
                result.failed.append(Outcome(entry, replica, _error_text(error)))
                continue
            _forget_or_fail(conn, catalog, Outcome(entry, replica, "expired"), result, gone=False)
    return result


def _forget_or_fail(
    conn: psycopg.Connection[Any], catalog: ReplicaCatalog, outcome: Outcome, result: Reconciliation, gone: bool
) -> None:
    try:
        catalog.forget(conn, outcome.entry.replica_id)
    except psycopg.Error as error:
        result.failed.append(Outcome(outcome.entry, outcome.replica, "ledger: " + _error_text(error)))
        return
    if not gone:
        result.dropped.append(outcome)


def _error_text(error: psycopg.Error) -> str:
    return error.diag.message_primary or str(error).strip()
