"""Support replicas and replica sets as Pulumi resources.

`SupportReplica` and `ReplicaSet` are dynamic resources (the providers in
provider.py do the SQL); `SupportReplicas` is the component a support stack
registers them under, one per customer instance. The connection goes in as a
secret and stays one in the state (it is needed again to read and delete).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import Resource

from components.controlplane.provider import ReplicaSetProvider, SupportReplicaProvider
from components.controlplane.replicas import ReplicaSpec, format_time, member_names
from components.controlplane.settings import SupportSettings

_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_SECRET_OUTPUTS = ["connection"]
# Outputs the providers add: Python attribute -> property name in the state.
_PROPERTY_NAMES = {"replica_id": "replicaId", "replica_ids": "replicaIds"}
_ATTRIBUTES = {prop: attribute for attribute, prop in _PROPERTY_NAMES.items()}


def resource_name(kind: str, cluster: str, name: str) -> str:
    """A Pulumi name for a replica: readable, and unique even for names with quotes or spaces."""
    qualified = f"{cluster}.{name}"
    if _PLAIN_NAME.match(qualified):
        return f"{kind}-{qualified}"
    digest = hashlib.sha256(qualified.encode()).hexdigest()[:8]
    return f"{kind}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', qualified)}-{digest}"


def _checked_props(
    kind: str,
    spec: ReplicaSpec,
    connection: pulumi.Input[Any],
    known_sizes: Collection[str],
    problems: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """The inputs shared by replicas and sets, once the replica rules pass."""
    # Settings report these with their config keys first; this guards direct use in code.
    problems = (problems or []) + spec.problems(known_sizes)
    if problems:
        details = "; ".join(f"{key}: {reason}" for key, reason in problems)
        raise ValueError(f"{kind} {spec.cluster}.{spec.name}: {details}")
    return {
        "cluster": spec.cluster,
        "name": spec.name,
        "size": spec.size,
        "billedAs": spec.billed_as,
        "internal": spec.internal,
        "expiresAt": format_time(spec.expires_at),
        "ticket": spec.ticket,
        "connection": pulumi.Output.secret(connection),
    }


def _options(opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    # Deleted before it is replaced: the replacement has the same name.
    own = pulumi.ResourceOptions(additional_secret_outputs=_SECRET_OUTPUTS, delete_before_replace=True)
    return pulumi.ResourceOptions.merge(opts, own)


class _Replicas(Resource):
    def translate_input_property(self, prop: str) -> str:
        return _PROPERTY_NAMES.get(prop, prop)

    def translate_output_property(self, prop: str) -> str:
        return _ATTRIBUTES.get(prop, prop)


class SupportReplica(_Replicas, module="controlplane", name="SupportReplica"):
    """A temporary (typically unbilled) replica of one cluster."""

    replica_id: pulumi.Output[str]
    # Set when the replica changed underneath support (dropped, renamed, moved); see provider.py.
    drift: pulumi.Output[str | None]

    def __init__(
        self,
        resource_name: str,
        spec: ReplicaSpec,
        connection: pulumi.Input[Any],
        known_sizes: Collection[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {**_checked_props("support replica", spec, connection, known_sizes), "replica_id": None, "drift": None}
        super().__init__(SupportReplicaProvider(), resource_name, props, _options(opts))


class ReplicaSet(_Replicas, module="controlplane", name="ReplicaSet"):
    """Replicas <set>-1 ... <set>-<replication factor> of one cluster, created and dropped together."""

    members: pulumi.Output[list[str]]
    replica_ids: pulumi.Output[dict[str, str]]
    drift: pulumi.Output[str | None]

    def __init__(
        self,
        resource_name: str,
        spec: ReplicaSpec,
        replication_factor: int,
        connection: pulumi.Input[Any],
        known_sizes: Collection[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        factor = [] if replication_factor >= 1 else [("replicationFactor", "must be 1 or more")]
        props = {
            **_checked_props("replica set", spec, connection, known_sizes, factor),
            "replicationFactor": replication_factor,
            "members": member_names(spec.name, replication_factor),
            "replica_ids": None,
            "drift": None,
        }
        super().__init__(ReplicaSetProvider(), resource_name, props, _options(opts))


@dataclass(frozen=True)
class SupportReplicasArgs:
    settings: SupportSettings


class SupportReplicas(pulumi.ComponentResource):
    """The support replicas and replica sets of one customer instance."""

    def __init__(self, name: str, args: SupportReplicasArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:controlplane:SupportReplicas", name, None, opts)
        settings = args.settings
        connection = settings.connection.to_input()
        child = pulumi.ResourceOptions(parent=self)
        self.replicas: dict[str, SupportReplica] = {}
        self.replica_sets: dict[str, ReplicaSet] = {}
        for entry in settings.replicas:
            self.replicas[f"{entry.cluster}.{entry.name}"] = SupportReplica(
                resource_name("replica", entry.cluster, entry.name),
                entry.spec(settings.ticket),
                connection,
                settings.sizes,
                child,
            )
        for entry in settings.replica_sets:
            self.replica_sets[f"{entry.cluster}.{entry.name}"] = ReplicaSet(
                resource_name("set", entry.cluster, entry.name),
                entry.spec(settings.ticket),
                entry.replication_factor,
                connection,
                settings.sizes,
                child,
            )
        self.register_outputs(
            {
                "replicas": {key: r.replica_id for key, r in self.replicas.items()},
                "replicaSets": {key: s.members for key, s in self.replica_sets.items()},
            }
        )
