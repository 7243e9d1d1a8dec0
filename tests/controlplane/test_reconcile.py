"""`python -m tools.support list | reconcile | reconcile-stacks`, on a real PostgreSQL server through the stand-in.

Replicas are made by the real providers (so they are recorded in the
ledger), plus some made behind the tool's back; the command code is the real
one, with the stand-in catalog in place of Materialize's statements.
"""

from __future__ import annotations

import datetime
import io
import json
from typing import Any

import psycopg
import pytest
from psycopg import sql

from components.controlplane.expiry import LedgerNotTrusted, reconcile
from components.controlplane.provider import ReplicaSetProvider, SupportReplicaProvider
from components.controlplane.replicas import Marker, ReplicaSpec, member_names
from tests.controlplane import standin
from tests.controlplane.conftest import NOW, StandIn, clock
from tests.controlplane.standin import PostgresStandInCatalog
from tools.support import cli

FORGED = Marker(datetime.datetime(2026, 9, 1, 12, 5, tzinfo=datetime.UTC), ticket="SUP-9").to_comment()


def populate(stand_in: StandIn) -> None:
    """Support replicas (one expired), an expired set, an unrecorded internal replica and the customer's own."""
    connection = stand_in.connection()
    common: dict[str, Any] = {"internal": True, "ticket": "SUP-9", "connection": connection}
    replicas = SupportReplicaProvider(PostgresStandInCatalog(), clock)
    replicas.create(
        {"cluster": "quickstart", "name": "old", "size": "50cc", "billedAs": "support-free", **common,
         "expiresAt": "2026-09-01T13:00:00Z"}
    )  # fmt: skip
    replicas.create(
        {"cluster": "quickstart", "name": "current", "size": "100cc", "billedAs": None, **common,
         "expiresAt": "2026-12-01T00:00:00Z"}
    )  # fmt: skip
    ReplicaSetProvider(PostgresStandInCatalog(), clock).create(
        {"cluster": "analytics", "name": "burst", "size": "200cc", "billedAs": "support-free", **common,
         "expiresAt": "2026-09-01T12:30:00Z", "replicationFactor": 2, "members": member_names("burst", 2)}
    )  # fmt: skip
    with stand_in.connect() as conn:
        # INTERNAL, but not recorded: someone made it by hand.
        PostgresStandInCatalog().create(conn, ReplicaSpec("analytics", "by_hand", "25cc", NOW))
    with stand_in.connect("customer") as conn:
        # The customer's own replica, with a forged support marker on it.
        catalog = PostgresStandInCatalog()
        catalog.create(conn, ReplicaSpec("analytics", "r1", "25cc", NOW, internal=False))
        catalog.set_comment(conn, "analytics", "r1", FORGED)


def names(stand_in: StandIn) -> set[str]:
    return {r.qualified_name for r in stand_in.replicas()}


def recorded(stand_in: StandIn) -> set[str]:
    with stand_in.connect() as conn:
        return {e.qualified_name for e in PostgresStandInCatalog().ledger(conn)}


ALL = {
    "quickstart.old",
    "quickstart.current",
    "analytics.burst-1",
    "analytics.burst-2",
    "analytics.by_hand",
    "analytics.r1",
}
LATER = NOW + datetime.timedelta(hours=2)


def test_reconcile_drops_the_expired_recorded_replicas_and_only_those(stand_in: StandIn) -> None:
    populate(stand_in)
    with stand_in.connect() as conn:
        rehearsal = reconcile(conn, PostgresStandInCatalog(), LATER, dry_run=True)
        assert {o.entry.qualified_name for o in rehearsal.dropped} == {
            "quickstart.old",
            "analytics.burst-1",
            "analytics.burst-2",
        }
        assert names(stand_in) == ALL

        done = reconcile(conn, PostgresStandInCatalog(), LATER)
    assert done.ok and [o.entry.qualified_name for o in done.active] == ["quickstart.current"]
    assert [r.qualified_name for r in done.unrecorded] == ["analytics.by_hand"]
    assert names(stand_in) == {"quickstart.current", "analytics.by_hand", "analytics.r1"}
    assert recorded(stand_in) == {"quickstart.current"}


def test_a_customer_replica_with_a_forged_marker_is_never_dropped(stand_in: StandIn) -> None:
    populate(stand_in)
    with stand_in.connect() as conn:
        result = reconcile(conn, PostgresStandInCatalog(), NOW + datetime.timedelta(days=365))
    assert "analytics.r1" in names(stand_in)
    assert "analytics.r1" not in {o.entry.qualified_name for o in result.dropped + result.skipped + result.failed}


def test_a_customer_edit_of_the_comment_does_not_change_the_expiry(stand_in: StandIn) -> None:
    populate(stand_in)
    with stand_in.connect("customer") as conn:
        # The customer owns analytics and so support's replicas in it; the comment is theirs to write.
        far = Marker(datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC), set_name="burst").to_comment()
        PostgresStandInCatalog().set_comment(conn, "analytics", "burst-1", far)
    with stand_in.connect() as conn:
        result = reconcile(conn, PostgresStandInCatalog(), LATER)
    assert "analytics.burst-1" in {o.entry.qualified_name for o in result.dropped}
    assert "analytics.burst-1" not in names(stand_in)


def test_the_customer_cannot_write_the_ledger(stand_in: StandIn) -> None:
    populate(stand_in)
    with stand_in.connect("customer") as conn:
        for statement in (
            "UPDATE materialize_support.replicas SET expires_at = '2030-01-01T00:00:00Z'",
            "INSERT INTO materialize_support.replicas SELECT * FROM materialize_support.replicas",
            "DELETE FROM materialize_support.replicas",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_one_failing_drop_does_not_stop_the_others_and_every_outcome_is_reported(stand_in: StandIn) -> None:
    populate(stand_in)

    class OldCannotBeDropped(PostgresStandInCatalog):
        def drop(self, conn: Any, cluster: str, name: str) -> None:
            if name == "old":
                conn.execute("SELECT 1/0")
            super().drop(conn, cluster, name)

    with stand_in.connect("customer") as conn:
        PostgresStandInCatalog().rename(conn, "analytics", "burst-2", "mine")  # renamed underneath
    with stand_in.connect() as conn:
        result = reconcile(conn, OldCannotBeDropped(), LATER)
    assert [(o.entry.qualified_name, o.reason) for o in result.failed] == [("quickstart.old", "division by zero")]
    assert [o.entry.qualified_name for o in result.dropped] == ["analytics.burst-1"]
    [skipped] = result.skipped
    assert skipped.entry.qualified_name == "analytics.burst-2" and "renamed to analytics.mine" in skipped.reason
    assert not result.ok
    assert {"quickstart.old", "analytics.mine"} <= names(stand_in)
    assert recorded(stand_in) == {"quickstart.old", "quickstart.current", "analytics.burst-2"}


def test_a_recorded_replica_someone_dropped_is_reported_and_forgotten_once_expired(stand_in: StandIn) -> None:
    populate(stand_in)
    with stand_in.connect("customer") as conn:
        PostgresStandInCatalog().drop(conn, "analytics", "burst-1")
    with stand_in.connect() as conn:
        before = reconcile(conn, PostgresStandInCatalog(), NOW)
        assert [o.entry.qualified_name for o in before.gone] == ["analytics.burst-1"]
        assert "analytics.burst-1" in recorded(stand_in)  # not yet expired: kept, and reported
        after = reconcile(conn, PostgresStandInCatalog(), LATER)
    assert [o.entry.qualified_name for o in after.gone] == ["analytics.burst-1"]
    assert "analytics.burst-1" not in recorded(stand_in)


def test_nothing_expires_before_its_time(stand_in: StandIn) -> None:
    populate(stand_in)
    with stand_in.connect() as conn:
        result = reconcile(conn, PostgresStandInCatalog(), NOW)
    assert result.dropped == [] and result.ok
    assert names(stand_in) == ALL


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (
            "ALTER TABLE materialize_support.replicas OWNER TO customer",
            "the ledger's table is owned by role u_customer, not mz_system",
        ),
        ("GRANT UPDATE ON materialize_support.replicas TO customer", "grants privileges to u_customer"),
        ("GRANT SELECT ON materialize_support.replicas TO PUBLIC", "grants privileges to PUBLIC"),
        ("UPDATE mz_standin.system_vars SET value = 'off'", "enable_rbac_checks is off"),
    ],
)
def test_a_ledger_others_could_have_written_is_not_acted_on(stand_in: StandIn, tamper: str, reason: str) -> None:
    populate(stand_in)
    with stand_in.server.superuser_connection(stand_in.server.app_database) as conn:
        conn.execute(tamper)
    with stand_in.connect() as conn, pytest.raises(LedgerNotTrusted, match=reason):
        reconcile(conn, PostgresStandInCatalog(), LATER)
    assert names(stand_in) == ALL
    code, _, err = run(stand_in, "reconcile", "--now", "2026-09-01T14:00:00Z")
    assert code == 1 and "the support ledger cannot be trusted, so nothing was done" in err


def test_a_ledger_made_by_the_customer_first_is_refused(stand_in: StandIn) -> None:
    with stand_in.server.superuser_connection(stand_in.server.app_database) as conn:
        conn.execute("CREATE SCHEMA materialize_support AUTHORIZATION customer")
        conn.execute("CREATE TABLE materialize_support.replicas (LIKE mz_standin.sizes)")
        conn.execute("ALTER TABLE materialize_support.replicas OWNER TO customer")
    with pytest.raises(LedgerNotTrusted, match="schema is owned by role u_customer"):
        SupportReplicaProvider(PostgresStandInCatalog(), clock).create(
            {"cluster": "quickstart", "name": "x", "size": "25cc", "billedAs": None, "internal": True,
             "expiresAt": "2026-12-01T00:00:00Z", "ticket": None, "connection": stand_in.connection()}
        )  # fmt: skip
    assert names(stand_in) == set()


def run(stand_in: StandIn, *argv: str, url: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    environ = {cli.URL_ENV: url or stand_in.connection()["url"]}
    code = cli.main(list(argv), environ=environ, catalog=PostgresStandInCatalog(), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_list_shows_the_catalog_beside_the_ledger_for_every_internal_replica(stand_in: StandIn) -> None:
    populate(stand_in)
    with stand_in.connect("customer") as conn:
        PostgresStandInCatalog().rename(conn, "analytics", "burst-2", "mine")
    code, out, err = run(stand_in, "list", "--now", "2026-09-01T12:45:00Z")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["replica", "id", "size"] and "billed as (audit log)" in lines[0]
    rows = {line.split()[0]: line for line in lines[1:] if line and "." in line.split()[0]}
    assert set(rows) >= {"quickstart.old", "quickstart.current", "analytics.burst-1", "analytics.mine"}
    assert "analytics.r1" not in rows  # the customer's own replica is not support's
    old = rows["quickstart.old"].split()
    assert old[2:5] == ["50cc", "support-free", "support-free"] and "2026-09-01T13:00:00Z" in old
    assert rows["quickstart.old"].rstrip().endswith("recorded")
    assert "2026-09-01T12:30:00Z (expired)" in rows["analytics.burst-1"]
    assert "renamed to analytics.mine by someone else" in rows["analytics.mine"]
    assert "not in ledger: left alone" in rows["analytics.by_hand"]
    sets = out.split("replica sets (this project's grouping of replicas, not a Materialize object):\n")[1]
    assert sets.splitlines()[1].split()[:3] == ["analytics.burst", "burst-1,", "burst-2"]


def test_reconcile_prints_every_outcome_and_dry_run_drops_nothing(stand_in: StandIn) -> None:
    populate(stand_in)
    code, out, _ = run(stand_in, "reconcile", "--dry-run", "--now", "2026-09-01T12:45:00Z")
    assert code == 0
    assert "would drop analytics.burst-1 (" in out and "would drop quickstart.old" not in out
    assert "left alone analytics.by_hand" in out
    assert out.splitlines()[-1] == "2 would drop, 0 failed, 0 skipped, 2 not yet expired, 0 gone, 1 not recorded"
    assert names(stand_in) == ALL

    code, out, _ = run(stand_in, "reconcile", "--now", "2026-09-01T12:45:00Z")
    assert code == 0
    assert "dropped analytics.burst-1 (" in out and "dropped analytics.burst-2 (" in out
    assert "expires 2026-09-01T12:30:00Z" in out
    assert names(stand_in) == ALL - {"analytics.burst-1", "analytics.burst-2"}


def test_reconcile_exits_non_zero_when_a_drop_failed(stand_in: StandIn) -> None:
    populate(stand_in)
    with stand_in.server.superuser_connection(stand_in.server.app_database) as conn:
        # Materialize refusing the drop, for one replica: the stand-in function raises for it.
        conn.execute(
            "CREATE OR REPLACE FUNCTION mz_standin.drop_cluster_replica(cluster_name text, replica_name text) "
            "RETURNS void LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused: %', replica_name; END $$"
        )
    code, out, _ = run(stand_in, "reconcile", "--now", "2026-09-01T14:00:00Z")
    assert code == 1
    assert out.count("FAILED to drop") == 3 and "refused: old" in out and "refused: burst-2" in out
    assert "0 dropped, 3 failed" in out.splitlines()[-1]


def test_a_cluster_filter_limits_list_and_reconcile(stand_in: StandIn) -> None:
    populate(stand_in)
    code, out, _ = run(stand_in, "list", "--cluster", "quickstart")
    assert code == 0 and "analytics" not in out and "quickstart.old" in out
    code, out, _ = run(stand_in, "reconcile", "--cluster", "quickstart", "--now", "2026-09-02T00:00:00Z")
    assert code == 0 and "dropped quickstart.old (" in out and "analytics" not in out
    assert names(stand_in) == ALL - {"quickstart.old"}


def test_the_commands_fail_cleanly_with_the_hint_and_without_the_password(stand_in: StandIn) -> None:
    url = stand_in.connection("mz_system", password="Wrong-Password-99")["url"]
    code, out, err = run(stand_in, "list", url=url)
    assert code == 1 and out == ""
    assert err.startswith("error: could not connect to 127.0.0.1:")
    assert "as mz_system" in err and "Wrong-Password-99" not in err
    code, _, err = run(stand_in, "list", url=stand_in.connection("mz_support")["url"])
    assert code == 1 and "mz_support cannot do this" in err


def test_the_commands_need_a_connection() -> None:
    err = io.StringIO()
    assert cli.main(["reconcile"], environ={}, out=io.StringIO(), err=err) == 2
    assert "no connection" in err.getvalue()
    err = io.StringIO()
    assert cli.main(["list", "--namespace", "materialize-main"], environ={}, out=io.StringIO(), err=err) == 2
    assert "--kubeconfig, --namespace and --service" in err.getvalue()


def stack_config(url: str) -> dict[str, Any]:
    """A support stack's config as `pulumi config --json --show-secrets` prints it."""
    support = {"connection": {"url": url}, "replicas": []}
    return {"materialize:support": {"value": json.dumps(support), "objectValue": support, "secret": True}}


def test_reconcile_stacks_goes_through_every_stack_and_reports_each(stand_in: StandIn) -> None:
    populate(stand_in)
    configs = {
        "support-acme": stack_config(stand_in.connection()["url"]),
        "support-wrong": stack_config(stand_in.connection(password="nope-Nope-1")["url"]),
        "an-install": {"materialize:target": {"value": "local", "secret": False}},
    }
    out, err = io.StringIO(), io.StringIO()
    argv = ["reconcile-stacks", "support-wrong", "an-install", "support-acme", "--now", "2026-09-01T14:00:00Z"]
    code = cli.main(argv, catalog=PostgresStandInCatalog(), out=out, err=err, read_config=configs.__getitem__)
    assert code == 1  # two stacks failed
    assert "error: support-wrong: could not connect" in err.getvalue() and "nope-Nope-1" not in err.getvalue()
    assert "error: an-install: stack an-install: not a support stack" in err.getvalue()
    assert "== support-acme" in out.getvalue() and "dropped quickstart.old (" in out.getvalue()
    assert names(stand_in) == {"quickstart.current", "analytics.by_hand", "analytics.r1"}


def test_the_ledger_is_made_once_and_again_without_harm(stand_in: StandIn) -> None:
    with stand_in.connect() as conn:
        catalog = PostgresStandInCatalog()
        catalog.ensure_ledger(conn)
        catalog.ensure_ledger(conn)
        facts = catalog.ledger_facts(conn)
    assert facts.exists and facts.owners == {"database": "s1", "schema": "s1", "table": "s1"}
    assert facts.other_grantees == [] and facts.rbac_checks
    with stand_in.server.superuser_connection(stand_in.server.app_database) as conn:
        count = conn.execute(
            sql.SQL("SELECT count(*) FROM pg_tables WHERE schemaname = {}").format(sql.Literal(standin.LEDGER_SCHEMA))
        ).fetchone()
    assert count == (1,)
