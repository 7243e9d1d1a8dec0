"""Provider-like outputs for the control plane's dynamic resources (support stacks).

A dynamic provider answers `create` with the inputs it was given plus what the
database assigned: Materialize's replica ids (u<number>). The ids here are
derived from the names, so two evaluations agree.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from pulumi.runtime import mocks as pulumi_mocks

from tools.offline.stable import stable_hex


def _replica_id(cluster: str, name: str) -> str:
    return f"u{int(stable_hex(cluster, name, length=6), 16) % 10_000 + 1}"


def _support_replica(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    state = copy.deepcopy(dict(args.inputs))
    state["replicaId"] = _replica_id(state["cluster"], state["name"])
    return state


def _replica_set(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    state = copy.deepcopy(dict(args.inputs))
    state["replicaIds"] = {member: _replica_id(state["cluster"], member) for member in state["members"]}
    return state


OUTPUTS: dict[str, Callable[[pulumi_mocks.MockResourceArgs], dict[str, Any]]] = {
    "pulumi-python:dynamic/controlplane:SupportReplica": _support_replica,
    "pulumi-python:dynamic/controlplane:ReplicaSet": _replica_set,
}
INVOKES: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {}
