"""The control plane, checked for real on each night's fresh instance.

The support code's tests run on PostgreSQL through a stand-in; only a real
Materialize shows that its statements (CREATE CLUSTER REPLICA with INTERNAL
and BILLED AS, COMMENT ON CLUSTER REPLICA, the catalog query) do what the
code expects. So each night, through the same connection as the SQL probe
(mz_system), the real provider creates one unbilled support replica
(creating the ledger on the way), reads it back (internal, billed-as size,
the expiry the ledger records), `reconcile` drops it once its expiry has
passed, and a second read reports it gone. The replica is dropped in any
case before the phase ends.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from components.cluster_sizes import CHART_SIZE_NAMES
from components.controlplane.catalog import ReplicaCatalog
from components.controlplane.connection import open_database
from components.controlplane.expiry import reconcile
from components.controlplane.provider import SupportReplicaProvider, utc_now
from components.controlplane.replicas import format_time
from tools.nightly.naming import run_sql_name

# Self-managed installs start with this cluster; the probe uses it too.
CLUSTER = "quickstart"
# The smallest sizes every chart defines: a replica of the smallest regular
# size, billed as the chart's zero-credit probe size.
SIZE = "25cc"
BILLED_AS = "mz_probe"
assert {SIZE, BILLED_AS} <= set(CHART_SIZE_NAMES)


class SupportCheckError(RuntimeError):
    """The control plane did not behave as its code expects against this instance."""


def replica_name(run_id: str) -> str:
    """Deterministic per run (a retried phase finds its own leftover), never a reserved r<digits> name."""
    return run_sql_name("nightly_support_", run_id, 63)


def run_support_check(
    conninfo: str,
    run_id: str,
    catalog: ReplicaCatalog | None = None,
    clock: Callable[[], datetime.datetime] = utc_now,
) -> str:
    """Create, read, expire and re-read one support replica; returns what it saw, or raises SupportCheckError."""
    provider = SupportReplicaProvider(catalog, clock)
    expires_at = (clock() + datetime.timedelta(hours=1)).replace(microsecond=0)
    props: dict[str, Any] = {
        "cluster": CLUSTER,
        "name": replica_name(run_id),
        "size": SIZE,
        "billedAs": BILLED_AS,
        "internal": True,
        "expiresAt": format_time(expires_at),
        "ticket": f"nightly {run_id}",
        "connection": {"url": conninfo},
    }
    qualified = f"{CLUSTER}.{props['name']}"
    # A leftover of an earlier attempt of this phase would make create refuse the name.
    with open_database(props["connection"]) as conn:
        provider.catalog.ensure_ledger(conn)
        for entry in provider.catalog.ledger(conn):
            if (entry.cluster, entry.name) == (CLUSTER, props["name"]):
                provider.catalog.forget(conn, entry.replica_id)
        provider.catalog.drop(conn, CLUSTER, props["name"])
    created = provider.create(props)
    try:
        seen = provider.read(created.id, props).outs or {}
        expected = {"size": SIZE, "billedAs": BILLED_AS, "internal": True, "expiresAt": props["expiresAt"]}
        wrong = {key: seen.get(key) for key, value in expected.items() if seen.get(key) != value}
        if wrong:
            raise SupportCheckError(f"{qualified} reads back as {wrong}, expected {expected}")
        with open_database(props["connection"]) as conn:
            # At its expiry; only this run's replica exists on a night's fresh instance.
            result = reconcile(conn, provider.catalog, expires_at, clusters=[CLUSTER])
        dropped = [outcome.entry.name for outcome in result.dropped]
        if props["name"] not in dropped or not result.ok:
            failed = [f"{o.entry.name}: {o.reason}" for o in result.failed]
            raise SupportCheckError(
                f"reconcile at the expiry did not drop {qualified} (dropped: {dropped}, failed: {failed})"
            )
        if (provider.read(created.id, props).outs or {}).get("drift") is None:
            raise SupportCheckError(f"{qualified} still reads back as present after reconcile dropped it")
    finally:
        provider.delete(created.id, props)
    return f"{qualified} ({SIZE}, billed as {BILLED_AS}, internal) created, read back, expired by reconcile"
