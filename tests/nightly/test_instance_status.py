"""A not-ready instance's status and events, as the nightly reports them (tools/instance_status.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kubernetes import client

from tools.instance_status import EVENT_LIMIT, describe_events, describe_status, diagnosis, read_diagnosis

IMAGE = "docker.io/materialize/environmentd:v26.37.0"


def event(reason: str, message: str, minute: int, kind: str = "Materialize", type_: str = "Warning") -> Any:
    return client.CoreV1Event(
        metadata=client.V1ObjectMeta(name=f"e{minute}"),
        involved_object=client.V1ObjectReference(kind=kind, name="main"),
        reason=reason,
        message=message,
        type=type_,
        count=1,
        last_timestamp=datetime(2026, 12, 2, 8, minute, tzinfo=UTC),
    )


def test_a_failed_rollout_names_the_condition_and_both_images() -> None:
    resource = {
        "spec": {"environmentdImageRef": IMAGE},
        "status": {
            "resourceId": "abc123",
            "lastCompletedRolloutEnvironmentdImageRef": "docker.io/materialize/environmentd:v26.36.0",
            "conditions": [
                {"type": "UpToDate", "status": "False", "reason": "FailedDeploy", "message": "pod crashlooping"}
            ],
        },
    }
    assert describe_status(resource) == [
        f"requested image: {IMAGE}",
        "last completed rollout: docker.io/materialize/environmentd:v26.36.0",
        "resource id: abc123",
        "condition UpToDate=False (FailedDeploy): pod crashlooping",
    ]


def test_a_refused_resource_without_conditions_points_at_the_operator() -> None:
    lines = describe_status({"spec": {"environmentdImageRef": IMAGE}, "status": {}})
    assert "last completed rollout: (none yet)" in lines
    assert any("has not accepted it yet" in line for line in lines)
    assert describe_status(None) == ["the resource does not exist"]


def test_events_come_newest_last_and_at_most_the_limit() -> None:
    events = [event("Tick", f"m{i}", i) for i in range(EVENT_LIMIT + 3)][::-1]
    lines = describe_events(events)
    assert len(lines) == EVENT_LIMIT
    assert lines[-1] == f"Warning Tick Materialize/main: m{EVENT_LIMIT + 2}"
    assert lines[0].endswith(": m3")


def test_the_diagnosis_lists_each_namespace() -> None:
    refused = event("ReconcileFailed", "environment_id does not match the license key", 5, kind="Materialize")
    text = diagnosis({"spec": {}, "status": {}}, [("materialize-main", []), ("materialize", [refused])])
    assert "no recent events in materialize-main" in text
    assert "recent events in materialize:\n  Warning ReconcileFailed Materialize/main: environment_id" in text


class _Api:
    """Stands in for CoreV1Api's transport: answers list_namespaced_event from a table."""

    def __init__(self, events: dict[str, list[Any]], failing: set[str]) -> None:
        self.events, self.failing = events, failing

    def list(self, namespace: str, **_: Any) -> Any:
        if namespace in self.failing:
            raise client.exceptions.ApiException(status=403)
        return client.CoreV1EventList(items=self.events.get(namespace, []))


def test_read_diagnosis_names_a_read_that_failed(monkeypatch: Any) -> None:
    api = _Api({"materialize": [event("Started", "ok", 1, kind="Pod", type_="Normal")]}, failing={"materialize-main"})
    monkeypatch.setattr(client.CoreV1Api, "list_namespaced_event", lambda self, ns, **kw: api.list(ns, **kw))
    text = read_diagnosis(None, lambda: {"spec": {}, "status": {}}, "materialize-main", "materialize")
    assert "cannot list events in materialize-main: ApiException" in text
    assert "recent events in materialize:\n  Normal Started Pod/main: ok" in text

    def broken() -> Any:
        raise RuntimeError("token expired")

    assert read_diagnosis(None, broken, "materialize-main", "materialize") == ("cannot read the resource: RuntimeError")
