"""Pulumi dynamic providers for support replicas and replica sets.

They run in Pulumi's dynamic-provider process, with the resource's inputs as
plain dicts (the connection among them, kept secret by the engine). Every
statement goes through a `ReplicaCatalog`, so the same create / read / diff /
update / delete logic runs against Materialize (`MaterializeCatalog`) and, in
the tests, against a PostgreSQL stand-in.

Each replica support creates is recorded in the ledger (ledger.py) with its
id, cluster and name; its comment is only a visible hint. Materialize cannot
change a replica's size or billing (BILLED AS exists only on CREATE), so a
change of cluster, size, billedAs or internal replaces it (deleted first:
the new one has the same name); a single replica's new name replaces it too,
while a set's new name renames its members (ALTER CLUSTER REPLICA ... RENAME
TO). A new expiry or ticket is written to the ledger in place.

Drift is reported, never repaired behind support's back: a recorded replica
someone dropped, renamed or moved reads back with a `drift` output and
otherwise unchanged, so the next `up` does not re-create it; support asks
for that with `pulumi up --replace <urn>`. Nothing is done to a replica the
ledger does not record, or whose cluster or name changed.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any

import psycopg
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from components.controlplane.catalog import MaterializeCatalog, ReplicaCatalog, ReplicaRecord
from components.controlplane.connection import SupportSqlError, open_database
from components.controlplane.expiry import checked_ledger, matched, mismatch
from components.controlplane.ledger import LedgerEntry
from components.controlplane.replicas import (
    BILLED_AS_REASON,
    INTERNAL_REASON,
    ReplicaSpec,
    expiry_problem,
    format_time,
    member_names,
    name_problems,
    parse_time,
)

# Inputs whose change Materialize cannot apply to an existing replica.
REPLACING_KEYS = ("cluster", "name", "size", "billedAs", "internal")
# A set's name is its members' prefix: renaming the set renames them.
SET_REPLACING_KEYS = ("cluster", "size", "billedAs", "internal")
SET_UPDATING_KEYS = ("name", "replicationFactor", "members", "expiresAt", "ticket", "connection")
REPLICA_UPDATING_KEYS = ("expiresAt", "ticket", "connection")
REPLACE_HINT = "to re-create it, run `pulumi up --replace <urn>`; to forget it, remove it from the stack"


class SupportRuleError(ValueError):
    """A replica breaks a support rule, or its state drifted; raised before any SQL that would change it."""


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def spec_from(props: Mapping[str, Any], name: str | None = None, set_name: str | None = None) -> ReplicaSpec:
    return ReplicaSpec(
        cluster=props["cluster"],
        name=name if name is not None else props["name"],
        size=props["size"],
        expires_at=parse_time(props["expiresAt"]),
        billed_as=props.get("billedAs"),
        internal=bool(props.get("internal", True)),
        set_name=set_name,
        ticket=props.get("ticket"),
    )


def _shape_failures(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Rules that need no database and no size list (those are checked when the stack is read)."""
    failures = name_problems(str(props.get("name") or ""))
    if not props.get("cluster"):
        failures.append(("cluster", "must not be empty"))
    if props.get("billedAs") is not None and not props.get("internal", True):
        failures.append(("billedAs", BILLED_AS_REASON))
    if not props.get("internal", True):
        failures.append(("internal", INTERNAL_REASON))
    try:
        parse_time(str(props.get("expiresAt")))
    except ValueError as error:
        failures.append(("expiresAt", str(error)))
    return failures


def _by_name(records: list[ReplicaRecord], cluster: str, name: str) -> ReplicaRecord | None:
    return next((r for r in records if r.cluster == cluster and r.name == name), None)


def _drift(entry: LedgerEntry | None, replica: ReplicaRecord | None) -> str | None:
    """What changed underneath a recorded replica (None when nothing did)."""
    if entry is None:
        return "not in the support ledger (expired and dropped by reconcile, or never recorded)"
    if replica is None:
        return f"{entry.qualified_name} ({entry.replica_id}) was dropped by someone other than support"
    return mismatch(entry, replica)


class _CatalogProvider(ResourceProvider):
    replacing_keys: tuple[str, ...] = REPLACING_KEYS
    # Inputs whose change is applied in place.
    updating_keys: tuple[str, ...] = ()

    def __init__(self, catalog: ReplicaCatalog | None = None, clock: Callable[[], datetime.datetime] = utc_now) -> None:
        super().__init__()
        self.catalog: ReplicaCatalog = catalog if catalog is not None else MaterializeCatalog()
        self.clock = clock

    def _failures(self, props: Mapping[str, Any]) -> list[tuple[str, str]]:
        return _shape_failures(props)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [CheckFailure(key, reason) for key, reason in self._failures(news)])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in self.replacing_keys if olds.get(key) != news.get(key)]
        changed = bool(replaces) or any(olds.get(key) != news.get(key) for key in self.updating_keys)
        return DiffResult(changes=changed, replaces=replaces, stables=[], delete_before_replace=True)

    def _refuse_broken(self, props: Mapping[str, Any]) -> None:
        """What check() reports, and a past expiry, refused before any SQL."""
        failures = self._failures(props)
        if failures:
            raise SupportRuleError("; ".join(f"{key}: {reason}" for key, reason in failures))
        self._refuse_expired(props)

    def _refuse_expired(self, props: Mapping[str, Any]) -> None:
        problem = expiry_problem(parse_time(props["expiresAt"]), self.clock())
        if problem:
            raise SupportRuleError(f"{props['cluster']}.{props['name']}: {problem}")

    def _ledger(self, conn: psycopg.Connection[Any]) -> list[LedgerEntry]:
        """The ledger (created if missing), once it is shown to be mz_system's alone."""
        # Judged before creating anything too: a ledger someone else made first is refused, not adopted.
        checked_ledger(conn, self.catalog)
        self.catalog.ensure_ledger(conn)
        return checked_ledger(conn, self.catalog)

    def _create_one(self, conn: psycopg.Connection[Any], spec: ReplicaSpec) -> ReplicaRecord:
        """CREATE, record and mark one replica; one that cannot be recorded is dropped again."""
        self.catalog.create(conn, spec)
        created = _by_name(self.catalog.replicas(conn), spec.cluster, spec.name)
        if created is None:
            raise SupportSqlError(f"cluster replica {spec.cluster}.{spec.name} was created but cannot be found")
        entry = LedgerEntry(
            created.id,
            created.cluster_id,
            spec.cluster,
            spec.name,
            spec.size,
            spec.billed_as,
            spec.expires_at,
            spec.set_name,
            spec.ticket,
        )
        try:
            self.catalog.record(conn, entry)
        except BaseException:
            # Unrecorded, it would never expire: take it away rather than leave it.
            self.catalog.drop(conn, spec.cluster, spec.name)
            raise
        try:
            self.catalog.set_comment(conn, spec.cluster, spec.name, spec.marker.to_comment())
        except BaseException:
            self.catalog.forget(conn, created.id)
            self.catalog.drop(conn, spec.cluster, spec.name)
            raise
        return created

    def _remark(self, conn: psycopg.Connection[Any], entry: LedgerEntry, spec: ReplicaSpec) -> None:
        """Write a recorded replica's new name, expiry, set and ticket to the ledger, and its hint comment."""
        updated = LedgerEntry(
            entry.replica_id,
            entry.cluster_id,
            entry.cluster,
            spec.name,
            entry.size,
            entry.billed_as,
            spec.expires_at,
            spec.set_name,
            spec.ticket,
        )
        if updated != entry:
            self.catalog.update_entry(conn, updated)
        self.catalog.set_comment(conn, spec.cluster, spec.name, spec.marker.to_comment())

    def _drop_recorded(self, conn: psycopg.Connection[Any], entry: LedgerEntry, replica: ReplicaRecord | None) -> None:
        """Drop a recorded replica that is still the one recorded, and forget it; leave a changed one alone."""
        if replica is not None and mismatch(entry, replica) is not None:
            return  # renamed, moved or not INTERNAL: not support's to drop; reconcile keeps reporting it
        if replica is not None:
            self.catalog.drop(conn, replica.cluster, replica.name)
        self.catalog.forget(conn, entry.replica_id)


class SupportReplicaProvider(_CatalogProvider):
    """One temporary replica: inputs cluster, name, size, billedAs, internal, expiresAt, ticket, connection."""

    updating_keys = REPLICA_UPDATING_KEYS

    def _recorded(
        self, conn: psycopg.Connection[Any], replica_id: str
    ) -> tuple[LedgerEntry | None, ReplicaRecord | None]:
        entry = next((e for e in checked_ledger(conn, self.catalog) if e.replica_id == replica_id), None)
        replica = next((r for r in self.catalog.replicas(conn) if r.id == replica_id), None)
        return entry, replica

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._refuse_broken(props)
        spec = spec_from(props)
        with open_database(props["connection"]) as conn:
            self._ledger(conn)
            if _by_name(self.catalog.replicas(conn), spec.cluster, spec.name) is not None:
                raise SupportRuleError(
                    f"cluster replica {spec.cluster}.{spec.name} already exists; drop it or choose another name"
                )
            created = self._create_one(conn, spec)
        return CreateResult(created.id, {**props, "replicaId": created.id, "drift": None})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with open_database(props["connection"]) as conn:
            entry, replica = self._recorded(conn, id_)
        drift = _drift(entry, replica)
        if drift is not None or entry is None or replica is None:
            # Kept as it was, so the next `up` changes nothing: drift is support's to decide on.
            return ReadResult(id_, {**props, "replicaId": id_, "drift": drift})
        outs = {
            **props,
            "size": replica.size,
            "internal": replica.internal,
            # As Materialize recorded it (the audit log), else as support recorded it.
            "billedAs": replica.billed_as if replica.billed_as is not None else entry.billed_as,
            "expiresAt": format_time(entry.expires_at),
            "ticket": entry.ticket,
            "replicaId": replica.id,
            "drift": None,
        }
        return ReadResult(replica.id, outs)

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._refuse_expired(news)
        spec = spec_from(news)
        with open_database(news["connection"]) as conn:
            entry, replica = self._recorded(conn, id_)
            drift = _drift(entry, replica)
            if drift is not None or entry is None:
                raise SupportRuleError(f"{spec.cluster}.{spec.name}: {drift}; {REPLACE_HINT}")
            self._remark(conn, entry, spec)
        return UpdateResult({**news, "replicaId": id_, "drift": None})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with open_database(props["connection"]) as conn:
            entry, replica = self._recorded(conn, id_)
            # Not recorded (expired and dropped, or never ours): nothing of support's to drop.
            if entry is not None:
                self._drop_recorded(conn, entry, replica)


class ReplicaSetProvider(_CatalogProvider):
    """Replicas <set>-1 ... <set>-<replicationFactor> of one cluster, sharing size, billing and expiry.

    A set is this project's grouping, recorded in the ledger: Materialize has
    no replica-set object.
    """

    replacing_keys = SET_REPLACING_KEYS
    updating_keys = SET_UPDATING_KEYS

    def _failures(self, props: Mapping[str, Any]) -> list[tuple[str, str]]:
        failures = _shape_failures(props)
        factor = props.get("replicationFactor")
        # The wire format has only doubles: 2.0 is a whole number of replicas.
        if not isinstance(factor, (int, float)) or int(factor) != factor or factor < 1:
            failures.append(("replicationFactor", f"{factor!r} is not a whole number of replicas (1 or more)"))
        elif props.get("members") != member_names(str(props.get("name")), int(factor)):
            failures.append(("members", "must be <set>-1 ... <set>-<replicationFactor>"))
        return failures

    @staticmethod
    def _number(set_name: str, name: str) -> int:
        """A member's number (<set>-<n>); 0 for a name that does not follow the pattern."""
        suffix = name.removeprefix(f"{set_name}-")
        return int(suffix) if suffix.isdigit() else 0

    def _members(
        self, conn: psycopg.Connection[Any], cluster: str, set_name: str
    ) -> list[tuple[LedgerEntry, ReplicaRecord | None]]:
        """The set's recorded members with their replicas (None when gone), in member order."""
        ours = [e for e in checked_ledger(conn, self.catalog) if e.cluster == cluster and e.set_name == set_name]
        found = matched(ours, self.catalog.replicas(conn))
        return sorted(found, key=lambda pair: self._number(set_name, pair[0].name))

    @staticmethod
    def _outs(props: Mapping[str, Any], members: list[tuple[LedgerEntry, ReplicaRecord | None]]) -> dict[str, Any]:
        drifted = [d for d in (_drift(e, r) for e, r in members) if d]
        return {
            **props,
            "members": [e.name for e, _ in members],
            "replicaIds": {e.name: e.replica_id for e, _ in members},
            "drift": "; ".join(drifted) or None,
        }

    def _refuse_taken(self, conn: psycopg.Connection[Any], cluster: str, names: list[str], what: str) -> None:
        taken = sorted(r.name for r in self.catalog.replicas(conn) if r.cluster == cluster and r.name in names)
        if taken:
            raise SupportRuleError(
                f"{what}: {', '.join(taken)} already exist in {cluster}; replica names are unique in a cluster"
            )

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._refuse_broken(props)
        cluster, set_name = props["cluster"], props["name"]
        with open_database(props["connection"]) as conn:
            self._ledger(conn)
            self._refuse_taken(
                conn,
                cluster,
                [set_name, *props["members"]],
                f"replica set {cluster}.{set_name} collides with existing replicas",
            )
            created: list[str] = []
            try:
                for name in props["members"]:
                    self._create_one(conn, spec_from(props, name=name, set_name=set_name))
                    created.append(name)
            except BaseException:
                for name in reversed(created):
                    gone = _by_name(self.catalog.replicas(conn), cluster, name)
                    self.catalog.drop(conn, cluster, name)
                    if gone is not None:
                        self.catalog.forget(conn, gone.id)
                raise
            members = self._members(conn, cluster, set_name)
        return CreateResult(f"{cluster}.{set_name}", self._outs(props, members))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with open_database(props["connection"]) as conn:
            members = self._members(conn, props["cluster"], props["name"])
        if not members:
            # Nothing recorded any more: expired and dropped by reconcile.
            return ReadResult(id_, {**props, "drift": _drift(None, None)})
        present = [(e, r) for e, r in members if r is not None and mismatch(e, r) is None]

        def shared(values: list[Any]) -> Any:
            # A value every member agrees on; None (which differs from any input) when they do not.
            return values[0] if values and all(v == values[0] for v in values) else None

        outs = {
            **self._outs(props, members),
            "size": shared([r.size for _, r in present]) if present else props.get("size"),
            "internal": shared([r.internal for _, r in present]) if present else props.get("internal"),
            "billedAs": shared([r.billed_as if r.billed_as is not None else e.billed_as for e, r in present])
            if present
            else props.get("billedAs"),
            "expiresAt": shared([format_time(e.expires_at) for e, _ in members]),
            "ticket": shared([e.ticket for e, _ in members]),
            # What support recorded: a member someone dropped is drift, not a smaller set.
            "replicationFactor": len(members),
        }
        return ReadResult(id_, outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._refuse_expired(news)
        cluster, old_name, set_name = news["cluster"], olds["name"], news["name"]
        wanted = list(news["members"])
        with open_database(news["connection"]) as conn:
            members = self._members(conn, cluster, old_name)
            drifted = [d for d in (_drift(e, r) for e, r in members) if d]
            if drifted:
                raise SupportRuleError(f"replica set {cluster}.{old_name}: {'; '.join(drifted)}; {REPLACE_HINT}")
            # Members keep their numbers: <old>-<n> becomes <new>-<n>.
            renamed = {e.name: f"{set_name}-{self._number(old_name, e.name)}" for e, _ in members}
            if set_name != old_name:
                self._refuse_taken(
                    conn,
                    cluster,
                    [set_name, *wanted],
                    f"replica set {cluster}.{old_name} cannot be renamed to {set_name}",
                )
                for entry, _ in members:
                    self.catalog.rename(conn, cluster, entry.name, renamed[entry.name])
            current = {renamed[e.name]: e for e, _ in members}
            growing = [name for name in wanted if name not in current]
            self._refuse_taken(conn, cluster, growing, f"replica set {cluster}.{set_name} cannot grow")
            # Shrink from the highest member down, then grow, then re-record the rest.
            for name in sorted(set(current) - set(wanted), key=lambda n: -self._number(set_name, n)):
                self.catalog.drop(conn, cluster, name)
                self.catalog.forget(conn, current[name].replica_id)
            for name in wanted:
                spec = spec_from(news, name=name, set_name=set_name)
                if name in current:
                    self._remark(conn, current[name], spec)
                else:
                    self._create_one(conn, spec)
            members = self._members(conn, cluster, set_name)
        return UpdateResult(self._outs(news, members))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        with open_database(props["connection"]) as conn:
            for entry, replica in self._members(conn, props["cluster"], props["name"]):
                self._drop_recorded(conn, entry, replica)
