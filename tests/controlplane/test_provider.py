"""The dynamic providers' create / read / diff / update / delete, on a real PostgreSQL server.

The Materialize statements are the stand-in's (tests/controlplane/standin.py);
everything else is the providers' real code. What Materialize itself does is
checked by test_materialize.py, against a real Materialize, when one is given.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest

from components.controlplane.connection import SupportSqlError
from components.controlplane.provider import ReplicaSetProvider, SupportReplicaProvider, SupportRuleError
from components.controlplane.replicas import Marker, ReplicaSpec, member_names
from tests.controlplane.conftest import NOW, StandIn, clock
from tests.controlplane.standin import PostgresStandInCatalog

LATER = "2026-10-01T00:00:00Z"


def replica_props(stand_in: StandIn, **overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "cluster": "quickstart",
        "name": "support_boost",
        "size": "100cc",
        "billedAs": "support-free",
        "internal": True,
        "expiresAt": LATER,
        "ticket": "SUP-1",
        "connection": stand_in.connection(),
    }
    props.update(overrides)
    return props


def set_props(stand_in: StandIn, factor: int = 2, **overrides: Any) -> dict[str, Any]:
    props = replica_props(stand_in, cluster="analytics", name="burst", size="200cc")
    props.update(replicationFactor=factor, members=member_names(str(overrides.get("name", "burst")), factor))
    props.update(overrides)
    return props


def replicas_provider() -> SupportReplicaProvider:
    return SupportReplicaProvider(PostgresStandInCatalog(), clock)


def sets_provider() -> ReplicaSetProvider:
    return ReplicaSetProvider(PostgresStandInCatalog(), clock)


def catalog_state(stand_in: StandIn) -> dict[str, Any]:
    """What the catalog holds, read as mz_system: qualified name -> record."""
    return {r.qualified_name: r for r in stand_in.replicas()}


def test_create_then_read_reports_what_the_catalog_holds(stand_in: StandIn) -> None:
    provider = replicas_provider()
    props = replica_props(stand_in)
    created = provider.create(props)

    record = catalog_state(stand_in)["quickstart.support_boost"]
    assert created.id == record.id == created.outs["replicaId"]
    assert (record.size, record.internal, record.billed_as) == ("100cc", True, "support-free")
    assert record.marker == Marker(datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC), None, "SUP-1")

    read = provider.read(created.id, created.outs)
    assert read.id == created.id
    assert read.outs == created.outs
    assert provider.diff(created.id, read.outs, props).changes is False


def ledger(stand_in: StandIn) -> dict[str, Any]:
    """What the ledger records, read as mz_system: qualified name -> entry."""
    with stand_in.connect() as conn:
        return {e.qualified_name: e for e in PostgresStandInCatalog().ledger(conn)}


def test_create_records_the_replica_in_the_ledger(stand_in: StandIn) -> None:
    created = replicas_provider().create(replica_props(stand_in))
    entry = ledger(stand_in)["quickstart.support_boost"]
    assert (entry.replica_id, entry.size, entry.billed_as, entry.ticket) == (
        created.id,
        "100cc",
        "support-free",
        "SUP-1",
    )
    assert entry.expires_at == datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC)
    assert entry.cluster_id == catalog_state(stand_in)["quickstart.support_boost"].cluster_id


def test_a_replica_dropped_out_of_band_is_drift_not_recreated_and_delete_is_idempotent(stand_in: StandIn) -> None:
    provider = replicas_provider()
    props = replica_props(stand_in)
    created = provider.create(props)
    with stand_in.connect() as conn:
        PostgresStandInCatalog().drop(conn, "quickstart", "support_boost")

    read = provider.read(created.id, created.outs)
    # Still in the state, unchanged but for the drift: the next `up` changes nothing.
    assert read.id == created.id and "dropped by someone other than support" in read.outs["drift"]
    assert provider.diff(created.id, read.outs, props).changes is False
    with pytest.raises(SupportRuleError, match=r"dropped by someone other than support; .*pulumi up --replace"):
        provider.update(created.id, read.outs, {**props, "expiresAt": "2026-11-01T00:00:00Z"})
    provider.delete(created.id, created.outs)  # already gone: no error, and the entry is forgotten
    assert "quickstart.support_boost" not in catalog_state(stand_in) and ledger(stand_in) == {}


def test_a_replica_recreated_by_hand_under_the_same_name_is_not_adopted_or_dropped(stand_in: StandIn) -> None:
    provider = replicas_provider()
    created = provider.create(replica_props(stand_in))
    with stand_in.connect() as conn:
        catalog = PostgresStandInCatalog()
        catalog.drop(conn, "quickstart", "support_boost")
        catalog.create(conn, ReplicaSpec("quickstart", "support_boost", "25cc", NOW))

    assert provider.read(created.id, created.outs).outs["drift"] is not None
    provider.delete(created.id, created.outs)
    assert catalog_state(stand_in)["quickstart.support_boost"].size == "25cc"


def test_a_comment_someone_else_writes_changes_nothing(stand_in: StandIn) -> None:
    provider = replicas_provider()
    props = replica_props(stand_in, cluster="analytics")
    created = provider.create(props)
    forged = Marker(datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)).to_comment()
    with stand_in.connect("customer") as conn:
        # The customer owns analytics, so its replicas: the comment is theirs to write.
        PostgresStandInCatalog().set_comment(conn, "analytics", "support_boost", forged)

    read = provider.read(created.id, created.outs)
    assert read.outs["expiresAt"] == LATER and read.outs["drift"] is None  # from the ledger
    assert provider.diff(created.id, read.outs, props).changes is False


def test_a_replica_renamed_underneath_is_drift_and_never_dropped(stand_in: StandIn) -> None:
    provider = replicas_provider()
    created = provider.create(replica_props(stand_in, cluster="analytics"))
    with stand_in.connect("customer") as conn:
        PostgresStandInCatalog().rename(conn, "analytics", "support_boost", "mine_now")

    read = provider.read(created.id, created.outs)
    assert "renamed to analytics.mine_now by someone else" in read.outs["drift"]
    provider.delete(created.id, created.outs)
    assert "analytics.mine_now" in catalog_state(stand_in)  # left alone, and still reported
    assert "analytics.support_boost" in ledger(stand_in)


def test_diff_replaces_on_what_materialize_cannot_alter_and_updates_the_rest(stand_in: StandIn) -> None:
    provider = replicas_provider()
    olds = replica_props(stand_in)
    for key, value in [("size", "200cc"), ("billedAs", None), ("internal", False), ("cluster", "analytics")]:
        diff = provider.diff("u1", olds, {**olds, key: value})
        assert (diff.changes, diff.replaces, diff.delete_before_replace) == (True, [key], True)
    for key, value in [("expiresAt", "2026-11-01T00:00:00Z"), ("ticket", "SUP-2")]:
        diff = provider.diff("u1", olds, {**olds, key: value})
        assert (diff.changes, diff.replaces) == (True, [])
    assert provider.diff("u1", olds, dict(olds)).changes is False


def test_update_extends_the_expiry_in_place(stand_in: StandIn) -> None:
    provider = replicas_provider()
    created = provider.create(replica_props(stand_in))
    news = {**created.outs, "expiresAt": "2026-12-24T18:30:00+01:00", "ticket": "SUP-2"}
    updated = provider.update(created.id, created.outs, news)

    record = catalog_state(stand_in)["quickstart.support_boost"]
    assert record.id == created.id == updated.outs["replicaId"]
    assert record.marker == Marker(datetime.datetime(2026, 12, 24, 17, 30, tzinfo=datetime.UTC), None, "SUP-2")


def test_an_expiry_in_the_past_is_refused_before_any_sql(stand_in: StandIn) -> None:
    provider = replicas_provider()
    with pytest.raises(
        SupportRuleError, match=r"expiresAt 2026-08-31T00:00:00Z has passed \(now 2026-09-01T12:00:00Z\)"
    ):
        provider.create(replica_props(stand_in, expiresAt="2026-08-31T00:00:00Z"))
    created = provider.create(replica_props(stand_in))
    with pytest.raises(SupportRuleError, match="has passed"):
        provider.update(created.id, created.outs, {**created.outs, "expiresAt": "2026-09-01T12:00:00Z"})
    assert catalog_state(stand_in)["quickstart.support_boost"].marker.expires_at.month == 10


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "r1"}, "reserved for the replicas Materialize creates for managed clusters"),
        ({"billedAs": None, "internal": False}, "internal: must be true: only INTERNAL replicas"),
        ({"expiresAt": "2026-10-01T00:00:00"}, "expiresAt: .*has no time zone"),
    ],
)
def test_check_and_create_refuse_broken_rules(stand_in: StandIn, overrides: dict[str, Any], message: str) -> None:
    provider = replicas_provider()
    props = replica_props(stand_in, **overrides)
    failures = provider.check({}, props).failures
    assert len(failures) == 1
    with pytest.raises(SupportRuleError, match=message):
        provider.create(props)
    assert catalog_state(stand_in) == {}


def test_the_databases_refusal_reaches_the_user_unchanged_with_a_hint(stand_in: StandIn) -> None:
    provider = replicas_provider()
    with pytest.raises(SupportSqlError) as raised:
        # A size the settings would have refused; the provider alone leaves it to the database.
        provider.create(replica_props(stand_in, size="huge"))
    text = str(raised.value)
    assert "stand-in: unknown cluster replica size huge" in text
    assert "as mz_system" in text
    assert "hint: " in text and "as mz_system" in text and "6877" in text
    assert stand_in.passwords["mz_system"] not in text
    assert catalog_state(stand_in) == {} and ledger(stand_in) == {}


def test_connections_as_anyone_but_mz_system_are_refused_before_any_sql(stand_in: StandIn) -> None:
    provider = replicas_provider()
    for user in ("mz_support", "customer"):
        with pytest.raises(SupportSqlError, match=r"not connecting to 127\.0\.0\.1:") as raised:
            provider.create(replica_props(stand_in, connection=stand_in.connection(user)))
        assert stand_in.passwords[user] not in str(raised.value)
    assert catalog_state(stand_in) == {}


def test_a_failed_connection_names_where_and_who_but_never_the_password(stand_in: StandIn) -> None:
    provider = replicas_provider()
    wrong = stand_in.connection("mz_system", password="not-the-Password-42")
    with pytest.raises(SupportSqlError) as raised:
        provider.create(replica_props(stand_in, connection=wrong))
    text = str(raised.value)
    assert text.startswith("could not connect to 127.0.0.1:") and "as mz_system" in text
    assert "not-the-Password-42" not in text and "postgres://" not in text


def test_a_replica_that_cannot_be_marked_is_dropped_again(stand_in: StandIn) -> None:
    class CommentFails(PostgresStandInCatalog):
        def set_comment(self, conn: Any, cluster: str, name: str, comment: str) -> None:
            super().set_comment(conn, cluster, "no such replica", comment)

    provider = SupportReplicaProvider(CommentFails(), clock)
    with pytest.raises(SupportSqlError, match=r"unknown cluster replica quickstart\.no such replica"):
        provider.create(replica_props(stand_in))
    assert catalog_state(stand_in) == {} and ledger(stand_in) == {}


def test_a_replica_that_cannot_be_recorded_is_dropped_again(stand_in: StandIn) -> None:
    class RecordFails(PostgresStandInCatalog):
        def record(self, conn: Any, entry: Any) -> None:
            conn.execute("SELECT 1/0")

    with pytest.raises(SupportSqlError, match="division by zero"):
        SupportReplicaProvider(RecordFails(), clock).create(replica_props(stand_in))
    assert catalog_state(stand_in) == {} and ledger(stand_in) == {}


def test_odd_identifiers_survive_the_round_trip(stand_in: StandIn) -> None:
    provider = replicas_provider()
    props = replica_props(stand_in, cluster='Odd "Cluster" ü', name="Support 'Boost' \\ ünï")
    created = provider.create(props)
    assert set(catalog_state(stand_in)) == {"Odd \"Cluster\" ü.Support 'Boost' \\ ünï"}
    assert provider.read(created.id, created.outs).id == created.id
    provider.delete(created.id, created.outs)
    assert catalog_state(stand_in) == {}


def test_a_replica_set_is_created_grown_shrunk_and_dropped_together(stand_in: StandIn) -> None:
    provider = sets_provider()
    created = provider.create(set_props(stand_in, factor=2))
    assert created.outs["members"] == ["burst-1", "burst-2"]
    state = catalog_state(stand_in)
    assert set(state) == {"analytics.burst-1", "analytics.burst-2"}
    assert {r.marker.set_name for r in state.values() if r.marker} == {"burst"}
    assert created.outs["replicaIds"] == {
        "burst-1": state["analytics.burst-1"].id,
        "burst-2": state["analytics.burst-2"].id,
    }

    grown_props = set_props(stand_in, factor=3)
    assert provider.diff(created.id, created.outs, grown_props).replaces == []
    grown = provider.update(created.id, created.outs, grown_props)
    assert grown.outs["members"] == ["burst-1", "burst-2", "burst-3"]
    kept_id = catalog_state(stand_in)["analytics.burst-1"].id
    assert kept_id == state["analytics.burst-1"].id  # untouched members are not recreated

    shrunk = provider.update(created.id, grown.outs, set_props(stand_in, factor=1, expiresAt="2026-12-01T00:00:00Z"))
    assert shrunk.outs["members"] == ["burst-1"]
    state = catalog_state(stand_in)
    assert set(state) == {"analytics.burst-1"} and state["analytics.burst-1"].marker.expires_at.month == 12

    provider.delete(created.id, shrunk.outs)
    assert catalog_state(stand_in) == {}


def test_a_set_reads_back_its_members_and_reports_a_missing_one_as_drift(stand_in: StandIn) -> None:
    provider = sets_provider()
    props = set_props(stand_in, factor=2)
    created = provider.create(props)
    assert provider.read(created.id, created.outs).outs == {**created.outs, "replicationFactor": 2}

    with stand_in.connect("customer") as conn:
        PostgresStandInCatalog().drop(conn, "analytics", "burst-2")
    read = provider.read(created.id, created.outs)
    assert read.outs["members"] == ["burst-1", "burst-2"] and "analytics.burst-2" in read.outs["drift"]
    assert provider.diff(created.id, read.outs, props).changes is False  # not silently re-created
    with pytest.raises(SupportRuleError, match=r"burst-2 .* dropped by someone other than support"):
        provider.update(created.id, read.outs, set_props(stand_in, factor=3))

    provider.delete(created.id, read.outs)
    assert catalog_state(stand_in) == {} and ledger(stand_in) == {}
    assert provider.read(created.id, read.outs).outs["drift"] is not None


def test_renaming_a_set_renames_its_members_in_place(stand_in: StandIn) -> None:
    provider = sets_provider()
    created = provider.create(set_props(stand_in, factor=2))
    ids = created.outs["replicaIds"]
    news = set_props(stand_in, factor=3, name="wave")
    assert provider.diff(created.id, created.outs, news).replaces == []
    renamed = provider.update(created.id, created.outs, news)

    assert renamed.outs["members"] == ["wave-1", "wave-2", "wave-3"]
    assert {n: renamed.outs["replicaIds"][n] for n in ("wave-1", "wave-2")} == {
        "wave-1": ids["burst-1"],
        "wave-2": ids["burst-2"],
    }  # the same replicas, renamed
    assert set(catalog_state(stand_in)) == {"analytics.wave-1", "analytics.wave-2", "analytics.wave-3"}
    assert {e.set_name for e in ledger(stand_in).values()} == {"wave"}


def test_a_set_cannot_be_renamed_onto_names_taken_in_its_cluster(stand_in: StandIn) -> None:
    replicas_provider().create(replica_props(stand_in, cluster="analytics", name="wave-2"))
    provider = sets_provider()
    created = provider.create(set_props(stand_in, factor=2))
    with pytest.raises(SupportRuleError, match="cannot be renamed to wave: wave-2 already exist"):
        provider.update(created.id, created.outs, set_props(stand_in, factor=2, name="wave"))
    assert {"analytics.burst-1", "analytics.burst-2"} <= set(catalog_state(stand_in))


def test_a_change_of_billing_replaces_a_set(stand_in: StandIn) -> None:
    provider = sets_provider()
    olds = set_props(stand_in)
    # BILLED AS exists only on CREATE: a billed member cannot join an unbilled set in place.
    assert provider.diff("analytics.burst", olds, {**olds, "billedAs": None}).replaces == ["billedAs"]


def test_a_set_may_not_collide_with_a_replica_of_its_cluster(stand_in: StandIn) -> None:
    replicas = replicas_provider()
    replicas.create(replica_props(stand_in, cluster="analytics", name="burst"))
    with pytest.raises(SupportRuleError, match="collides with existing replicas: burst already exist in analytics"):
        sets_provider().create(set_props(stand_in))

    replicas.create(replica_props(stand_in, cluster="analytics", name="wave-2"))
    with pytest.raises(SupportRuleError, match="wave-2"):
        sets_provider().create(set_props(stand_in, name="wave"))
    assert set(catalog_state(stand_in)) == {"analytics.burst", "analytics.wave-2"}


def test_a_set_that_fails_half_way_leaves_nothing_behind(stand_in: StandIn) -> None:
    class SecondMemberRefused(PostgresStandInCatalog):
        def create(self, conn: Any, spec: ReplicaSpec) -> None:
            # The database refuses the second member (a size it does not know).
            super().create(conn, dataclasses.replace(spec, size="nope") if spec.name.endswith("-2") else spec)

    provider = ReplicaSetProvider(SecondMemberRefused(), clock)
    with pytest.raises(SupportSqlError, match="unknown cluster replica size nope"):
        provider.create(set_props(stand_in, factor=3))
    assert catalog_state(stand_in) == {}
