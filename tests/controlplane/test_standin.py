"""The stand-in enforces each Materialize rule it claims to model (standin.py cites the source of each).

These drive the stand-in's statements directly, as the users Materialize
has, on a real PostgreSQL server: if the stand-in let through what
Materialize refuses, the support code's tests would pass against a lenient
database and prove nothing.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from components.controlplane.replicas import ReplicaSpec
from tests.controlplane import standin
from tests.controlplane.conftest import NOW, StandIn
from tests.controlplane.standin import PostgresStandInCatalog

CATALOG = PostgresStandInCatalog()


def spec(cluster: str, name: str = "extra", **more: Any) -> ReplicaSpec:
    return ReplicaSpec(cluster, name, "25cc", NOW, **more)


def refused(stand_in: StandIn, user: str, message: str, action: Any) -> None:
    with stand_in.connect(user) as conn, pytest.raises(psycopg.errors.RaiseException, match=message):
        action(conn)


def owners(stand_in: StandIn) -> dict[str, str]:
    with stand_in.connect() as conn:
        rows = conn.execute(
            "SELECT c.name || '.' || r.name, r.owner_id FROM mz_catalog.mz_cluster_replicas r "
            "JOIN mz_catalog.mz_clusters c ON c.id = r.cluster_id"
        ).fetchall()
    return dict(rows)


def test_only_internal_users_may_use_internal_or_billed_as(stand_in: StandIn) -> None:
    # The customer owns analytics, so ownership passes and the sequencer's rule is what refuses.
    message = "cannot specify INTERNAL or BILLED AS as non-internal user"
    refused(stand_in, "customer", message, lambda c: CATALOG.create(c, spec("analytics")))
    refused(stand_in, "customer", message, lambda c: CATALOG.create(c, spec("analytics", billed_as="mz_probe")))
    with stand_in.connect("customer") as conn:
        CATALOG.create(conn, spec("analytics", internal=False))  # a plain replica of its own cluster is fine
    with stand_in.connect() as conn:
        CATALOG.create(conn, spec("analytics", "support", billed_as="mz_probe"))
    assert {r.qualified_name: r.internal for r in stand_in.replicas()} == {
        "analytics.extra": False,
        "analytics.support": True,
    }


def test_billed_as_needs_internal_even_for_mz_system(stand_in: StandIn) -> None:
    refused(
        stand_in,
        "mz_system",
        "must specify INTERNAL when specifying BILLED AS",
        lambda c: CATALOG.create(c, spec("analytics", internal=False, billed_as="mz_probe")),
    )


def test_a_replica_is_owned_by_its_clusters_owner_whoever_creates_it(stand_in: StandIn) -> None:
    with stand_in.connect() as conn:
        CATALOG.create(conn, spec("analytics"))  # by mz_system, in the customer's cluster
        CATALOG.create(conn, spec("quickstart"))
    assert owners(stand_in) == {"analytics.extra": "customer", "quickstart.extra": "mz_system"}
    with stand_in.connect("customer") as conn:
        # ... so the customer may comment on, rename and drop support's replica in its cluster.
        CATALOG.set_comment(conn, "analytics", "extra", "mine")
        CATALOG.rename(conn, "analytics", "extra", "renamed")
        CATALOG.drop(conn, "analytics", "renamed")
    assert {r.qualified_name for r in stand_in.replicas()} == {"quickstart.extra"}


def test_without_ownership_nothing_changes_a_replica(stand_in: StandIn) -> None:
    with stand_in.connect() as conn:
        CATALOG.create(conn, spec("quickstart"))
    for user in ("customer", "mz_support"):
        refused(stand_in, user, "must be owner of CLUSTER REPLICA quickstart.extra",
                lambda c: CATALOG.set_comment(c, "quickstart", "extra", "x"))  # fmt: skip
        refused(stand_in, user, "must be owner of CLUSTER REPLICA quickstart.extra",
                lambda c: CATALOG.rename(c, "quickstart", "extra", "y"))  # fmt: skip
        refused(stand_in, user, "must be owner of CLUSTER REPLICA quickstart.extra",
                lambda c: CATALOG.drop(c, "quickstart", "extra"))  # fmt: skip
    assert {r.qualified_name for r in stand_in.replicas()} == {"quickstart.extra"}


def test_mz_support_is_internal_but_owns_no_cluster(stand_in: StandIn) -> None:
    # INTERNAL is allowed to it, but creating a replica needs ownership of the cluster first.
    refused(stand_in, "mz_support", "must be owner of CLUSTER quickstart",
            lambda c: CATALOG.create(c, spec("quickstart")))  # fmt: skip
    refused(stand_in, "mz_support", "must be owner of CLUSTER analytics",
            lambda c: CATALOG.create(c, spec("analytics", billed_as="mz_probe")))  # fmt: skip
    assert stand_in.replicas() == []


@pytest.mark.parametrize("name", ["r1", "r2", "r10"])
def test_internal_replicas_may_not_take_managed_replica_names(stand_in: StandIn, name: str) -> None:
    refused(stand_in, "mz_system", f"{name} is reserved for replicas of managed clusters",
            lambda c: CATALOG.create(c, spec("analytics", name)))  # fmt: skip
    with stand_in.connect() as conn:
        CATALOG.create(conn, spec("analytics", name, internal=False))  # a plain replica of an unmanaged cluster may
    assert [r.name for r in stand_in.replicas()] == [name]


def test_a_managed_cluster_takes_only_internal_replicas_and_keeps_its_own(stand_in: StandIn) -> None:
    with stand_in.server.superuser_connection(stand_in.server.app_database) as conn:
        standin.add_managed_replica(conn, "quickstart", "r1", "25cc")
    with stand_in.connect() as conn:
        CATALOG.create(conn, spec("quickstart", "support"))
    refused(stand_in, "mz_system", "must specify INTERNAL when creating a replica in a managed cluster",
            lambda c: CATALOG.create(c, spec("quickstart", "plain", internal=False)))  # fmt: skip
    refused(stand_in, "mz_system", "cannot drop replica of managed cluster",
            lambda c: CATALOG.drop(c, "quickstart", "r1"))  # fmt: skip
    with stand_in.connect() as conn:
        CATALOG.drop(conn, "quickstart", "support")  # an INTERNAL one may be dropped
    assert {r.qualified_name for r in stand_in.replicas()} == {"quickstart.r1"}


def test_mz_support_cannot_write_the_ledger(stand_in: StandIn) -> None:
    with stand_in.connect() as conn:
        CATALOG.ensure_ledger(conn)
    with stand_in.connect("mz_support") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("INSERT INTO materialize_support.replicas (replica_id) VALUES ('u1')")
