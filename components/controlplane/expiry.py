"""Listing support replicas and dropping the expired ones, from the database alone.

Everything needed is on the replicas themselves (the marker comment, the
internal flag, the audit log), so these work without any Pulumi state: the
nightly job can expire replicas of a stack nobody has run for weeks.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import psycopg

from components.controlplane.catalog import ReplicaCatalog, ReplicaRecord


def support_replicas(records: list[ReplicaRecord], clusters: Collection[str] | None = None) -> list[ReplicaRecord]:
    """Internal replicas, and every replica carrying a support marker (even one created without INTERNAL).

    With `clusters`, only those of these clusters.
    """
    return [r for r in records if (r.internal or r.marker is not None) and (clusters is None or r.cluster in clusters)]


@dataclass(frozen=True)
class Reconciliation:
    expired: list[ReplicaRecord]
    active: list[ReplicaRecord]
    # Internal replicas without a support marker: nobody recorded an expiry, so
    # they are reported and left alone.
    unmarked: list[ReplicaRecord]
    dry_run: bool


def reconcile(
    conn: psycopg.Connection[Any],
    catalog: ReplicaCatalog,
    now: datetime.datetime,
    dry_run: bool = False,
    clusters: Collection[str] | None = None,
) -> Reconciliation:
    """Drop every support replica (of `clusters`, or of all) whose expiry has passed; dry_run only reports."""
    expired, active, unmarked = [], [], []
    for record in support_replicas(catalog.replicas(conn), clusters):
        marker = record.marker
        if marker is None:
            unmarked.append(record)
        elif marker.expired(now):
            expired.append(record)
        else:
            active.append(record)
    if not dry_run:
        for record in expired:
            catalog.drop(conn, record.cluster, record.name)
    return Reconciliation(expired, active, unmarked, dry_run)
