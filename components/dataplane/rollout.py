"""Deterministic rollout requests for the v1alpha1 Materialize CRD.

With v1alpha1 the operator rolls environmentd out only when `requestRollout`
changes. Deriving it from the rollout-relevant part of the spec means an
`up` rolls out exactly when something that matters changed, and a repeated
`up` with the same settings changes nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

# Fields the operator documents as excluded from its own rollout hash: changing
# them must not restart environmentd.
_NOT_ROLLOUT_RELEVANT = frozenset(
    {
        "requestRollout",
        "forcePromote",
        "balancerdExternalCertificateSpec",
        "balancerdReplicas",
        "balancerdResourceRequirements",
        "consoleExternalCertificateSpec",
        "consoleReplicas",
        "consoleResourceRequirements",
        "rolloutRequestTimeout",
    }
)
_NAMESPACE = uuid.UUID("3f0c2a51-6f0e-4f53-9b2e-6d1c7a0e9b11")


def request_rollout(spec: Mapping[str, Any]) -> str:
    relevant = {key: value for key, value in spec.items() if key not in _NOT_ROLLOUT_RELEVANT}
    return str(uuid.uuid5(_NAMESPACE, json.dumps(relevant, sort_keys=True, separators=(",", ":"))))
