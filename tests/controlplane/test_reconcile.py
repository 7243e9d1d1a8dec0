"""`python -m tools.support list | reconcile`, on a real PostgreSQL server through the stand-in.

Replicas are made by the real providers (so they carry real markers), plus
some made behind the tool's back; the command code is the real one, with the
stand-in catalog in place of Materialize's statements.
"""

from __future__ import annotations

import datetime
import io
from typing import Any

from components.controlplane.expiry import reconcile
from components.controlplane.provider import ReplicaSetProvider, SupportReplicaProvider
from components.controlplane.replicas import ReplicaSpec, member_names
from tests.controlplane.conftest import NOW, StandIn, clock
from tests.controlplane.standin import PostgresStandInCatalog
from tools.support import cli


def populate(stand_in: StandIn) -> None:
    """Two support replicas (one expired), an expired set, an unmarked internal replica and a customer's."""
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
        catalog = PostgresStandInCatalog()
        catalog.create(conn, ReplicaSpec("analytics", "by_hand", "25cc", NOW))  # internal, no marker
        catalog.create(conn, ReplicaSpec("analytics", "r1", "25cc", NOW, internal=False))  # the customer's own


def names(stand_in: StandIn) -> set[str]:
    return {r.qualified_name for r in stand_in.replicas()}


ALL = {
    "quickstart.old",
    "quickstart.current",
    "analytics.burst-1",
    "analytics.burst-2",
    "analytics.by_hand",
    "analytics.r1",
}


def test_reconcile_drops_only_what_has_expired(stand_in: StandIn) -> None:
    populate(stand_in)
    later = NOW + datetime.timedelta(hours=2)
    with stand_in.connect() as conn:
        rehearsal = reconcile(conn, PostgresStandInCatalog(), later, dry_run=True)
        assert {r.qualified_name for r in rehearsal.expired} == {
            "quickstart.old",
            "analytics.burst-1",
            "analytics.burst-2",
        }
        assert names(stand_in) == ALL

        done = reconcile(conn, PostgresStandInCatalog(), later)
    assert [r.qualified_name for r in done.active] == ["quickstart.current"]
    assert [r.qualified_name for r in done.unmarked] == ["analytics.by_hand"]
    assert names(stand_in) == {"quickstart.current", "analytics.by_hand", "analytics.r1"}


def test_nothing_expires_before_its_time(stand_in: StandIn) -> None:
    populate(stand_in)
    with stand_in.connect() as conn:
        result = reconcile(conn, PostgresStandInCatalog(), NOW)
    assert result.expired == []
    assert names(stand_in) == ALL


def run(stand_in: StandIn, *argv: str, url: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    environ = {cli.URL_ENV: url or stand_in.connection()["url"]}
    code = cli.main(list(argv), environ=environ, catalog=PostgresStandInCatalog(), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_list_shows_size_billing_set_and_expiry_of_every_internal_replica(stand_in: StandIn) -> None:
    populate(stand_in)
    code, out, err = run(stand_in, "list", "--now", "2026-09-01T12:45:00Z")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["replica", "id", "size", "billed", "as", "internal", "set", "expires", "ticket"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == ALL - {"analytics.r1"}  # the customer's own replica is not support's
    assert rows["quickstart.old"][2:6] == ["50cc", "support-free", "yes", "-"]
    assert rows["quickstart.old"][6:] == ["2026-09-01T13:00:00Z", "SUP-9"]
    assert rows["analytics.burst-2"][2:8] == [
        "200cc",
        "support-free",
        "yes",
        "burst",
        "2026-09-01T12:30:00Z",
        "(expired)",
    ]
    assert rows["quickstart.current"][3] == "-"
    assert "no expiry recorded" in " ".join(rows["analytics.by_hand"])


def test_reconcile_prints_what_it_dropped_and_dry_run_drops_nothing(stand_in: StandIn) -> None:
    populate(stand_in)
    code, out, _ = run(stand_in, "reconcile", "--dry-run", "--now", "2026-09-01T12:45:00Z")
    assert code == 0
    assert "would drop analytics.burst-1 (" in out and "would drop quickstart.old" not in out
    assert out.splitlines()[-1].startswith("2 would drop, 2 not yet expired, 1 internal without a recorded expiry")
    assert names(stand_in) == ALL

    code, out, _ = run(stand_in, "reconcile", "--now", "2026-09-01T12:45:00Z")
    assert code == 0
    assert "dropped analytics.burst-1 (" in out and "dropped analytics.burst-2 (" in out
    assert "expired 2026-09-01T12:30:00Z" in out
    assert names(stand_in) == ALL - {"analytics.burst-1", "analytics.burst-2"}


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
    assert "mz_system or mz_support" in err and "Wrong-Password-99" not in err


def test_the_commands_need_a_connection() -> None:
    err = io.StringIO()
    assert cli.main(["reconcile"], environ={}, out=io.StringIO(), err=err) == 2
    assert "no connection" in err.getvalue()
    err = io.StringIO()
    assert cli.main(["list", "--namespace", "materialize-main"], environ={}, out=io.StringIO(), err=err) == 2
    assert "--kubeconfig, --namespace and --service" in err.getvalue()
