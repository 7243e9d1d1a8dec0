"""Stable environment ids.

environmentd keys its stored data by the environment id, so it must be
globally unique and never change. It is derived from where the instance lives
(organization/project/stack, namespace, name) rather than drawn at random, so
it survives a lost state file; a stack that adopts an existing instance sets
`environmentId` explicitly.
"""

from __future__ import annotations

import uuid

from components.settings import InstanceSettings

_NAMESPACE = uuid.UUID("8a4f3f57-52d4-4c39-a9a3-0f4f53f2c1de")


def environment_id(instance: InstanceSettings, stack: str) -> str:
    """`stack` is the fully qualified organization/project/stack name."""
    if instance.environment_id is not None:
        return str(instance.environment_id)
    return str(uuid.uuid5(_NAMESPACE, f"{stack}/{instance.resolved_namespace}/{instance.name}"))
