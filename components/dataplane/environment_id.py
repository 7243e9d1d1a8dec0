"""Stable environment ids, and the one a license key pins.

environmentd keys its stored data by the environment id, so it must be
globally unique and never change. It is derived from where the instance lives
(organization/project/stack, namespace, name) rather than drawn at random, so
it survives a lost state file; a stack that adopts an existing instance sets
`environmentId` explicitly.

A license key can pin the id. Materialize's operator reads the key from the
backend Secret's `license_key` entry, takes the JWT's `aud` claim as the
environment id, and refuses (on every reconcile, with no status condition) a
`Materialize` whose `spec.environmentId` differs unless that id is nil
(MaterializeInc/materialize src/orchestratord/src/controller/materialize.rs at
e1561dad373980f432daaada986d836d243e7c1f, `apply`: "does not match the
environment_id set in the associated license key"; src/license-keys/src/lib.rs
at ed892df3d4f95baef0fa2aa6717a9ac8ae06cdc9: `environment_id: jwt.claims.aud`).
The key is per stack (`materialize:licenseKey`), shared by every instance, so
reading its payload here (no signature check, no network) turns that endless
reconcile error into a clean error at preview time.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping

import pulumi

from components.settings import PROJECT, InstanceSettings, Settings

_NAMESPACE = uuid.UUID("8a4f3f57-52d4-4c39-a9a3-0f4f53f2c1de")
# The claim the operator reads the environment id from.
ENVIRONMENT_CLAIM = "aud"


def environment_id(instance: InstanceSettings, stack: str) -> str:
    """`stack` is the fully qualified organization/project/stack name."""
    if instance.environment_id is not None:
        return str(instance.environment_id)
    return str(uuid.uuid5(_NAMESPACE, f"{stack}/{instance.resolved_namespace}/{instance.name}"))


def environment_ids(settings: Settings, stack: str) -> dict[str, str]:
    """Every instance's environment id, honouring an id the license key pins."""
    pinned = license_key_environment_id(settings.license_key.get_secret_value())
    if pinned is None:
        return {instance.name: environment_id(instance, stack) for instance in settings.instances}
    if len(settings.instances) > 1:
        names = ", ".join(instance.name for instance in settings.instances)
        raise pulumi.RunError(
            f"{PROJECT}:licenseKey: the key is issued for one environment ({pinned}), "
            f"but it is shared by {len(settings.instances)} instances ({names}) and the operator would refuse "
            "all but one; use one instance per stack with this key, or ask Materialize for a key "
            "that is not tied to an environment"
        )
    instance = settings.instances[0]
    if instance.environment_id is not None and instance.environment_id != pinned:
        raise pulumi.RunError(
            f"{PROJECT}:instances[{instance.name}].environmentId: {instance.environment_id} differs from the "
            f"environment id {pinned} that {PROJECT}:licenseKey is issued for, and the operator would refuse it; "
            "remove environmentId (the key's id is then used) or use the license key issued for this environment"
        )
    return {instance.name: str(pinned)}


def license_key_environment_id(license_key: str) -> uuid.UUID | None:
    """The non-nil environment id a license key's JWT payload names, if any.

    A key that is not a JWT, or whose payload names no id or the nil id (which
    the operator accepts for any environment), gives None. A key that names an
    id the operator could not parse is refused, as the operator would refuse it.
    """
    claim = _jwt_payload(license_key.strip()).get(ENVIRONMENT_CLAIM)
    if claim is None:
        return None
    try:
        pinned = uuid.UUID(claim) if isinstance(claim, str) else None
    except ValueError:
        pinned = None
    if pinned is None:
        raise pulumi.RunError(
            f"{PROJECT}:licenseKey: the key's environment id ({ENVIRONMENT_CLAIM} claim) is not a UUID, "
            "and the operator refuses such a key; check that the whole key was copied"
        )
    return None if pinned.int == 0 else pinned


def _jwt_payload(token: str) -> Mapping[str, object]:
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    encoded = parts[1]
    try:
        payload = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (binascii.Error, ValueError):
        return {}
    return payload if isinstance(payload, dict) else {}
