"""The support stack's program: settings -> support replicas -> exports.

components/program.py runs this instead of the install program when a stack
sets `materialize:support`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.controlplane.resources import SupportReplicas, SupportReplicasArgs
from components.controlplane.settings import ReplicaSetSettings, ReplicaSettings, load_support_settings


def _declared(entry: ReplicaSettings | ReplicaSetSettings) -> dict[str, Any]:
    return {"size": entry.size, "billedAs": entry.billed_as, "internal": entry.internal, "expiresAt": entry.expires}


def support_main(values: Mapping[str, Any], secret_keys: frozenset[str]) -> dict[str, Any]:
    # Bad configuration fails here, before anything is registered.
    settings = load_support_settings(values, secret_keys)
    support = SupportReplicas("support", SupportReplicasArgs(settings=settings))
    return {
        "supportReplicas": {
            key: {"replicaId": replica.replica_id, **_declared(entry)}
            for (key, replica), entry in zip(support.replicas.items(), settings.replicas, strict=True)
        },
        "supportReplicaSets": {
            key: {"members": replica_set.members, **_declared(entry)}
            for (key, replica_set), entry in zip(support.replica_sets.items(), settings.replica_sets, strict=True)
        },
    }
