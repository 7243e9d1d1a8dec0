"""Pulumi dynamic providers for support replicas and replica sets.

They run in Pulumi's dynamic-provider process, with the resource's inputs as
plain dicts (the connection among them, kept secret by the engine). Every
statement goes through a `ReplicaCatalog`, so the same create / read / diff /
update / delete logic runs against Materialize (`MaterializeCatalog`) and, in
the tests, against a PostgreSQL stand-in.

Materialize cannot change a replica's size or billing, so a change of
cluster, name, size, billedAs or internal replaces the replica (deleted first:
the new one has the same name). A new expiry or ticket rewrites the marker
comment in place.
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
from components.controlplane.replicas import (
    BILLED_AS_REASON,
    ReplicaSpec,
    expiry_problem,
    format_time,
    member_names,
    name_problems,
    parse_time,
)

# Inputs whose change Materialize cannot apply to an existing replica.
REPLACING_KEYS = ("cluster", "name", "size", "billedAs", "internal")
SET_UPDATING_KEYS = ("replicationFactor", "members", "expiresAt", "ticket", "connection")
REPLICA_UPDATING_KEYS = ("expiresAt", "ticket", "connection")


class SupportRuleError(ValueError):
    """A replica breaks a support rule; raised before any SQL runs."""


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
    try:
        parse_time(str(props.get("expiresAt")))
    except ValueError as error:
        failures.append(("expiresAt", str(error)))
    return failures


def _find(records: list[ReplicaRecord], cluster: str, name: str) -> ReplicaRecord | None:
    return next((r for r in records if r.cluster == cluster and r.name == name), None)


class _CatalogProvider(ResourceProvider):
    # Inputs whose change is applied in place (a change of a REPLACING_KEYS input replaces).
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
        replaces = [key for key in REPLACING_KEYS if olds.get(key) != news.get(key)]
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

    def _create_one(self, conn: psycopg.Connection[Any], spec: ReplicaSpec) -> None:
        """CREATE and mark one replica; a replica that cannot be marked is dropped again."""
        self.catalog.create(conn, spec)
        try:
            self.catalog.set_comment(conn, spec.cluster, spec.name, spec.marker.to_comment())
        except BaseException:
            # Unmarked, it would never expire: take it away rather than leave it.
            self.catalog.drop(conn, spec.cluster, spec.name)
            raise


class SupportReplicaProvider(_CatalogProvider):
    """One temporary replica: inputs cluster, name, size, billedAs, internal, expiresAt, ticket, connection."""

    updating_keys = REPLICA_UPDATING_KEYS

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._refuse_broken(props)
        spec = spec_from(props)
        with open_database(props["connection"]) as conn:
            if _find(self.catalog.replicas(conn), spec.cluster, spec.name) is not None:
                raise SupportRuleError(
                    f"cluster replica {spec.cluster}.{spec.name} already exists; drop it or choose another name"
                )
            self._create_one(conn, spec)
            created = _find(self.catalog.replicas(conn), spec.cluster, spec.name)
        if created is None:
            raise SupportSqlError(f"cluster replica {spec.cluster}.{spec.name} was created but cannot be found")
        return CreateResult(created.id, {**props, "replicaId": created.id})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with open_database(props["connection"]) as conn:
            found = _find(self.catalog.replicas(conn), props["cluster"], props["name"])
        if found is None or found.id != id_:
            # Dropped out of band (or replaced by a replica this stack did not
            # create): report it gone, so the next `up` creates it again.
            return ReadResult(None, {})
        marker = found.marker
        outs = {
            **props,
            "size": found.size,
            "internal": found.internal,
            # The audit log may no longer hold the create event; what was asked for then stands.
            "billedAs": found.billed_as if found.billed_as is not None else props.get("billedAs"),
            # A missing marker reads as no expiry, which the next `up` writes back.
            "expiresAt": format_time(marker.expires_at) if marker else None,
            "ticket": marker.ticket if marker else None,
            "replicaId": found.id,
        }
        return ReadResult(found.id, outs)

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._refuse_expired(news)
        spec = spec_from(news)
        with open_database(news["connection"]) as conn:
            found = _find(self.catalog.replicas(conn), spec.cluster, spec.name)
            if found is None or found.id != id_:
                raise SupportSqlError(
                    f"cluster replica {spec.cluster}.{spec.name} is gone; run `pulumi refresh`, then `pulumi up`"
                )
            self.catalog.set_comment(conn, spec.cluster, spec.name, spec.marker.to_comment())
        return UpdateResult({**news, "replicaId": id_})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with open_database(props["connection"]) as conn:
            found = _find(self.catalog.replicas(conn), props["cluster"], props["name"])
            # Already gone (expired and dropped, or dropped by hand), or a
            # different replica now holds the name: nothing of ours to drop.
            if found is not None and found.id == id_:
                self.catalog.drop(conn, found.cluster, found.name)


class ReplicaSetProvider(_CatalogProvider):
    """Replicas <set>-1 ... <set>-<replicationFactor> of one cluster, sharing size, billing and expiry."""

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

    def _members(self, records: list[ReplicaRecord], cluster: str, set_name: str) -> list[ReplicaRecord]:
        """The replicas that carry this set's marker, in member order."""
        ours = [r for r in records if r.cluster == cluster and r.marker and r.marker.set_name == set_name]
        return sorted(ours, key=lambda r: self._number(set_name, r.name))

    def _outs(self, props: Mapping[str, Any], members: list[ReplicaRecord]) -> dict[str, Any]:
        return {
            **props,
            "members": [m.name for m in members],
            "replicaIds": {m.name: m.id for m in members},
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._refuse_broken(props)
        cluster, set_name = props["cluster"], props["name"]
        with open_database(props["connection"]) as conn:
            records = self.catalog.replicas(conn)
            taken = [r.name for r in records if r.cluster == cluster and r.name in {set_name, *props["members"]}]
            if taken:
                raise SupportRuleError(
                    f"replica set {cluster}.{set_name} collides with existing replicas of {cluster}: "
                    f"{', '.join(sorted(taken))}; a set's name and its members' names must be free"
                )
            created: list[str] = []
            try:
                for name in props["members"]:
                    self._create_one(conn, spec_from(props, name=name, set_name=set_name))
                    created.append(name)
            except BaseException:
                for name in reversed(created):
                    self.catalog.drop(conn, cluster, name)
                raise
            members = self._members(self.catalog.replicas(conn), cluster, set_name)
        return CreateResult(f"{cluster}.{set_name}", self._outs(props, members))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with open_database(props["connection"]) as conn:
            members = self._members(self.catalog.replicas(conn), props["cluster"], props["name"])
        if not members:
            return ReadResult(None, {})

        def shared(values: list[Any]) -> Any:
            # A value every member agrees on; None (which differs from any input) when they do not.
            return values[0] if all(v == values[0] for v in values) else None

        markers = [m.marker for m in members]
        expiries = [format_time(m.expires_at) if m else None for m in markers]
        billed = [m.billed_as if m.billed_as is not None else props.get("billedAs") for m in members]
        outs = {
            **self._outs(props, members),
            "size": shared([m.size for m in members]),
            "internal": shared([m.internal for m in members]),
            "billedAs": shared(billed),
            "expiresAt": shared(expiries),
            "ticket": shared([m.ticket if m else None for m in markers]),
            "replicationFactor": len(members),
        }
        return ReadResult(id_, outs)

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._refuse_expired(news)
        cluster, set_name = news["cluster"], news["name"]
        wanted = list(news["members"])
        with open_database(news["connection"]) as conn:
            records = self.catalog.replicas(conn)
            current = {m.name: m for m in self._members(records, cluster, set_name)}
            taken = [r.name for r in records if r.cluster == cluster and r.name in wanted and r.name not in current]
            if taken:
                raise SupportRuleError(
                    f"replica set {cluster}.{set_name} cannot grow: {', '.join(sorted(taken))} "
                    f"already exist in {cluster} and are not members of the set"
                )
            # Shrink from the highest member down, then grow, then re-mark the rest.
            for name in sorted(set(current) - set(wanted), key=lambda n: -self._number(set_name, n)):
                self.catalog.drop(conn, cluster, name)
            for name in wanted:
                spec = spec_from(news, name=name, set_name=set_name)
                if name not in current:
                    self._create_one(conn, spec)
                elif current[name].comment != spec.marker.to_comment():
                    self.catalog.set_comment(conn, cluster, name, spec.marker.to_comment())
            members = self._members(self.catalog.replicas(conn), cluster, set_name)
        return UpdateResult(self._outs(news, members))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        with open_database(props["connection"]) as conn:
            for member in self._members(self.catalog.replicas(conn), props["cluster"], props["name"]):
                self.catalog.drop(conn, member.cluster, member.name)
