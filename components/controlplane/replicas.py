"""What a support replica is, the rules it must follow, and the marker it carries.

Pure code (no SQL, no Pulumi): the settings, the dynamic providers and the
support commands all check replicas with these same rules, so a replica that
passes `pulumi preview` is one Materialize will accept, and the expiry the
commands read back is the one the stack wrote.

The marker is a JSON comment on the replica (`COMMENT ON CLUSTER REPLICA`),
read back from `mz_internal.mz_comments`: a hint for whoever looks at the
replica. It is never trusted, since the replica's owner (the cluster's
owner, usually the customer) may rewrite it; what support recorded is in the
ledger (ledger.py).
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Collection
from dataclasses import dataclass

MANAGED_BY = "materialize-support"
# Materialize names the replicas of a managed cluster r1, r2, ...; a replica
# added beside them must not take a name the cluster may want next.
_RESERVED_NAME = re.compile(r"^r[0-9]+$")
BILLED_AS_REASON = "needs internal: true (Materialize accepts BILLED AS only together with INTERNAL)"
INTERNAL_REASON = (
    "must be true: only INTERNAL replicas can be told apart from the customer's, so only those are ever "
    "expired or dropped by support"
)
RESERVED_NAME_REASON = (
    "names r<digits> are reserved for the replicas Materialize creates for managed clusters (r1, r2, ...)"
)


@dataclass(frozen=True)
class Marker:
    """What the comment on a support replica records."""

    expires_at: datetime.datetime
    set_name: str | None = None
    ticket: str | None = None

    def to_comment(self) -> str:
        return json.dumps(
            {
                "managedBy": MANAGED_BY,
                "expiresAt": format_time(self.expires_at),
                "set": self.set_name,
                "ticket": self.ticket,
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_comment(cls, comment: str | None) -> Marker | None:
        """The marker in a replica's comment; None for a comment that is not ours (or is damaged)."""
        if not comment:
            return None
        try:
            data = json.loads(comment)
            if not isinstance(data, dict) or data.get("managedBy") != MANAGED_BY:
                return None
            set_name, ticket = data.get("set"), data.get("ticket")
            return cls(
                expires_at=parse_time(str(data["expiresAt"])),
                set_name=set_name if isinstance(set_name, str) else None,
                ticket=ticket if isinstance(ticket, str) else None,
            )
        except (ValueError, KeyError):
            return None

    def expired(self, now: datetime.datetime) -> bool:
        return self.expires_at <= now


@dataclass(frozen=True)
class ReplicaSpec:
    """One replica as support declares it."""

    cluster: str
    name: str
    size: str
    expires_at: datetime.datetime
    billed_as: str | None = None
    internal: bool = True
    set_name: str | None = None
    ticket: str | None = None

    @property
    def marker(self) -> Marker:
        return Marker(self.expires_at, self.set_name, self.ticket)

    def problems(self, known_sizes: Collection[str]) -> list[tuple[str, str]]:
        """(key, reason) for every rule the replica breaks: its name's, then spec_problems."""
        return name_problems(self.name) + spec_problems(
            self.cluster, self.size, self.billed_as, self.internal, known_sizes
        )


def format_time(moment: datetime.datetime) -> str:
    """RFC 3339 in UTC with a Z, the one spelling used in markers and outputs."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime.datetime:
    """An RFC 3339 timestamp with an explicit offset (a bare local time is ambiguous)."""
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone; write it in UTC like 2026-10-01T00:00:00Z")
    return moment.astimezone(datetime.UTC)


def member_names(set_name: str, replication_factor: int) -> list[str]:
    """The replicas of a set: <set>-1 ... <set>-<replication factor>."""
    return [f"{set_name}-{n}" for n in range(1, replication_factor + 1)]


def name_problems(name: str, what: str = "name") -> list[tuple[str, str]]:
    if not name:
        return [(what, "must not be empty")]
    if "\x00" in name:
        return [(what, "must not contain a NUL character")]
    if _RESERVED_NAME.match(name):
        return [(what, f"{name!r} is not allowed: {RESERVED_NAME_REASON}")]
    return []


def size_problems(field: str, size: str, known_sizes: Collection[str]) -> list[tuple[str, str]]:
    if size in known_sizes:
        return []
    return [
        (
            field,
            f"{size!r} is not a size the install defines; known sizes: {', '.join(sorted(known_sizes))} "
            "(an install adds sizes with clusterSizes; list them here with extraSizes)",
        )
    ]


def spec_problems(
    cluster: str,
    size: str,
    billed_as: str | None,
    internal: bool,
    known_sizes: Collection[str],
) -> list[tuple[str, str]]:
    """(key, reason) for every rule a replica (or a set's shared settings) breaks."""
    # Only replica names are reserved; a cluster may be named anything.
    problems = [] if cluster else [("cluster", "must not be empty")]
    problems += size_problems("size", size, known_sizes)
    if not internal:
        problems.append(("internal", INTERNAL_REASON))
    if billed_as is not None:
        if not internal:
            problems.append(("billedAs", BILLED_AS_REASON))
        problems += size_problems("billedAs", billed_as, known_sizes)
    return problems


def expiry_problem(expires_at: datetime.datetime, now: datetime.datetime) -> str | None:
    if expires_at > now:
        return None
    return (
        f"expiresAt {format_time(expires_at)} has passed (now {format_time(now)}): "
        "extend it, or remove the replica from the stack"
    )
