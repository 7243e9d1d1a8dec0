"""What a `Materialize` resource that is not ready says about why, in a few lines.

The operator reports a rollout's progress only in the resource's status (an
`UpToDate` condition with a reason and message; `lastCompletedRollout*`
fields once a rollout finished) and in Kubernetes events; a refused resource
(say, an environmentId its license key does not allow) gets no condition at
all, only the operator's events and log. The nightly prints this for an
instance that never became ready, so a failed night says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

EVENT_LIMIT = 10
_NEVER = datetime.min.replace(tzinfo=UTC)


def describe_status(resource: Mapping[str, Any] | None) -> list[str]:
    if resource is None:
        return ["the resource does not exist"]
    spec = resource.get("spec") or {}
    status = resource.get("status") or {}
    lines = [
        f"requested image: {spec.get('environmentdImageRef', '(none)')}",
        f"last completed rollout: {status.get('lastCompletedRolloutEnvironmentdImageRef') or '(none yet)'}",
    ]
    if status.get("resourceId"):
        lines.append(f"resource id: {status['resourceId']}")
    conditions = status.get("conditions") or []
    if not conditions:
        lines.append("no conditions: the operator has not accepted it yet (read its events and log)")
    for condition in conditions:
        message = condition.get("message") or ""
        lines.append(
            f"condition {condition.get('type')}={condition.get('status')} ({condition.get('reason') or 'no reason'})"
            + (f": {message}" if message else "")
        )
    return lines


def _when(event: Any) -> datetime:
    moment = event.last_timestamp or event.event_time or event.first_timestamp
    if moment is None:
        return _NEVER
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def describe_events(events: Iterable[Any], limit: int = EVENT_LIMIT) -> list[str]:
    """The newest events (kubernetes.client CoreV1Event objects), newest last."""
    recent = sorted(events, key=_when)[-limit:]
    lines = []
    for event in recent:
        involved = event.involved_object
        subject = f"{involved.kind}/{involved.name}" if involved is not None else "?"
        count = f" (x{event.count})" if event.count and event.count > 1 else ""
        lines.append(f"{event.type} {event.reason} {subject}{count}: {(event.message or '').strip()}")
    return lines


def diagnosis(resource: Mapping[str, Any] | None, events_by_namespace: Sequence[tuple[str, Iterable[Any]]]) -> str:
    lines = describe_status(resource)
    for namespace, events in events_by_namespace:
        described = describe_events(events)
        lines.append(f"recent events in {namespace}:" if described else f"no recent events in {namespace}")
        lines += [f"  {line}" for line in described]
    return "\n".join(lines)


def read_diagnosis(
    api_client: Any, read_resource: Any, namespace: str, operator_namespace: str, timeout: float = 10.0
) -> str:
    """diagnosis() of what the API says now; a read that fails is named, never raised."""
    from kubernetes import client

    core = client.CoreV1Api(api_client)
    try:
        resource = read_resource()
    except Exception as error:
        return f"cannot read the resource: {type(error).__name__}"
    found: list[tuple[str, Iterable[Any]]] = []
    failures: list[str] = []
    for where in (namespace, operator_namespace):
        try:
            found.append((where, core.list_namespaced_event(where, _request_timeout=timeout).items))
        except Exception as error:
            failures.append(f"cannot list events in {where}: {type(error).__name__}")
    return "\n".join([diagnosis(resource, found), *failures])
