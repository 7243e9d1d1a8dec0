"""Rollouts: deterministic rollout requests for the v1alpha1 Materialize CRD,
and what `pulumi up` waits for until a rollout is done.

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


# What `pulumi up` waits for before it records an instance as deployed.
#
# pulumi-kubernetes reads the `pulumi.com/waitFor` annotation as one expression
# or a JSON list of them, all of which must hold at once
# (provider/pkg/metadata/overrides.go `ReadyCondition`, provider/pkg/await/
# condition/all.go at 0fb51f6722d9b531457ddbc703bece7670241a36);
# `jsonpath={path}=value` compares the first match with a literal, and
# `condition=Type` wants that status condition True
# (provider/pkg/jsonpath/jsonpath.go at 988fc3a4359d86e0cf8db5c3d3677f1413820307).
# Values must hold no "=", "{" or quotes, which that parser splits or refuses.
#
# The operator keeps the previous `UpToDate=True` until it picks an update up,
# and records the image (and, for v1alpha1, the rollout request) only when a
# rollout completes, in the same status write that sets `UpToDate=True/Applied`
# (MaterializeInc/materialize src/orchestratord/src/controller/materialize.rs at
# e1561dad373980f432daaada986d836d243e7c1f, `promote`). Naming what this `up`
# requests is what keeps the previous rollout's status from satisfying the wait.
# A cancelled rollout (`RolloutTimeout`) also marks the request completed, but
# with `UpToDate=False`, so the condition stays in the list.
UP_TO_DATE = "condition=UpToDate"
IMAGE_PATH = "{.status.lastCompletedRolloutEnvironmentdImageRef}"
REQUEST_PATH = "{.status.lastCompletedRolloutRequest}"
# The operator writes exactly one condition; with ManuallyPromote a staged
# generation waits at `UpToDate=Unknown/ReadyToPromote` for a human (the CRD's
# rolloutStrategy description: "If the condition's reason is `ReadyToPromote`
# the new generation is ready to promote").
REASON_PATH = "{.status.conditions[0].reason}"
READY_TO_PROMOTE = "ReadyToPromote"


def ready_conditions(strategy: str, image: str, rollout_request: str | None) -> list[str]:
    """The waitFor expressions for one instance; `rollout_request` is v1alpha1's requestRollout."""
    if strategy == "ManuallyPromote":
        return [f"jsonpath={REASON_PATH}={READY_TO_PROMOTE}"]
    conditions = [UP_TO_DATE, f"jsonpath={IMAGE_PATH}={_literal(image)}"]
    if rollout_request is not None:
        conditions.append(f"jsonpath={REQUEST_PATH}={_literal(rollout_request)}")
    return conditions


def wait_for_annotation(strategy: str, image: str, rollout_request: str | None) -> str:
    return json.dumps(ready_conditions(strategy, image, rollout_request))


def _literal(value: str) -> str:
    if any(c in value for c in "={}'\""):
        raise ValueError(f"{value!r} cannot be compared in a pulumi.com/waitFor JSONPath expression")
    return value
