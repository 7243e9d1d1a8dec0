"""Waiting until a `Materialize` resource reports that its spec is applied.

The operator keeps an `UpToDate` condition in the resource's status (the
same status structure in v1 and v1alpha1): `True` once the current spec is
rolled out (reason `Applied`), `Unknown` while a rollout runs, `False` with a
reason when it is stuck. A condition written for an older generation of the
resource says nothing about the current spec, so it does not count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

GROUP = "materialize.cloud"
PLURAL = "materializes"
CONDITION = "UpToDate"

Reader = Callable[[], Mapping[str, Any] | None]


class NotReadyError(RuntimeError):
    """The resource did not report UpToDate before the deadline."""


@dataclass(frozen=True)
class Readiness:
    ready: bool
    detail: str


def readiness(resource: Mapping[str, Any] | None) -> Readiness:
    if resource is None:
        return Readiness(False, "the resource does not exist")
    status = resource.get("status") or {}
    condition = next((c for c in status.get("conditions") or [] if c.get("type") == CONDITION), None)
    if condition is None:
        return Readiness(False, f"no {CONDITION} condition yet")
    generation = (resource.get("metadata") or {}).get("generation")
    observed = condition.get("observedGeneration")
    if generation is not None and observed is not None and observed != generation:
        return Readiness(False, f"{CONDITION} describes generation {observed}; the resource is at {generation}")
    reason = condition.get("reason") or "no reason"
    if condition.get("status") == "True":
        return Readiness(True, f"{CONDITION} ({reason})")
    message = condition.get("message") or ""
    return Readiness(False, f"{CONDITION}={condition.get('status')} ({reason}){': ' + message if message else ''}")


def wait_until_ready(
    read: Reader,
    *,
    what: str,
    timeout: float,
    interval: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> str:
    """Polls read() until the resource is ready; returns how it reported, or raises NotReadyError."""
    deadline = clock() + timeout
    while True:
        try:
            state = readiness(read())
        except Exception as error:
            # The API can blink (a load balancer settling, a token refresh);
            # only the deadline decides, and the last error is reported.
            state = Readiness(False, f"cannot read it: {error}")
        if state.ready:
            return state.detail
        if clock() >= deadline:
            raise NotReadyError(f"{what} not ready after {timeout:.0f}s: {state.detail}")
        sleep(interval)


def materialize_reader(api_client: Any, namespace: str, name: str, version: str) -> Reader:
    """A reader of one Materialize resource through the Kubernetes API (None when it does not exist)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    custom = client.CustomObjectsApi(api_client)

    def read() -> Mapping[str, Any] | None:
        try:
            found = custom.get_namespaced_custom_object(GROUP, version, namespace, PLURAL, name)
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        # The generated client types the body loosely; a custom object is a JSON object.
        if not isinstance(found, Mapping):
            raise TypeError(f"{namespace}/{name}: the API answered {type(found).__name__}, not an object")
        return found

    return read
