"""Waiting for a Materialize resource's UpToDate condition, with time that only passes when asked to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from tests.nightly.fakes import FakeClock
from tools.nightly.ready import NotReadyError, materialize_reader, readiness, wait_until_ready


def resource(status: str | None, *, reason: str = "Applied", generation: int = 2, observed: int = 2) -> dict[str, Any]:
    conditions = []
    if status is not None:
        conditions.append(
            {"type": "UpToDate", "status": status, "reason": reason, "message": "", "observedGeneration": observed}
        )
    return {
        "metadata": {"name": "main", "generation": generation},
        "status": {"resourceId": "abc", "conditions": conditions},
    }


def test_only_a_true_uptodate_for_the_current_generation_is_ready() -> None:
    assert readiness(resource("True")).ready
    assert readiness(resource("True")).detail == "UpToDate (Applied)"
    assert not readiness(None).ready
    assert not readiness({"metadata": {"generation": 1}}).ready
    assert not readiness(resource(None)).ready
    assert not readiness(resource("Unknown", reason="Promoting")).ready
    stale = readiness(resource("True", generation=3, observed=2))
    assert not stale.ready and stale.detail == "UpToDate describes generation 2; the resource is at 3"
    stuck = readiness(
        {
            **resource("False", reason="FailedDeploy"),
            "status": {
                "conditions": [
                    {"type": "UpToDate", "status": "False", "reason": "FailedDeploy", "message": "image pull failed"}
                ]
            },
        }
    )
    assert stuck.detail == "UpToDate=False (FailedDeploy): image pull failed"


def test_waiting_polls_until_the_condition_turns_true() -> None:
    clock = FakeClock()
    answers = [None, resource(None), resource("Unknown", reason="Promoting"), resource("True")]
    detail = wait_until_ready(
        lambda: answers.pop(0), what="Materialize ns/main", timeout=600, interval=10, sleep=clock.sleep, clock=clock
    )
    assert detail == "UpToDate (Applied)"
    assert clock.sleeps == [10, 10, 10]


def test_waiting_gives_up_at_the_deadline_with_the_last_state() -> None:
    clock = FakeClock()
    with pytest.raises(NotReadyError) as raised:
        wait_until_ready(
            lambda: resource("False", reason="FailedDeploy"),
            what="Materialize ns/main",
            timeout=60,
            interval=10,
            sleep=clock.sleep,
            clock=clock,
        )
    assert str(raised.value) == "Materialize ns/main not ready after 60s: UpToDate=False (FailedDeploy)"
    assert sum(clock.sleeps) == 60


def test_api_errors_while_waiting_are_retried_and_reported_if_they_last() -> None:
    clock = FakeClock()

    def unreachable() -> Mapping[str, Any] | None:
        raise ConnectionError("connection refused")

    with pytest.raises(NotReadyError, match="cannot read it: connection refused"):
        wait_until_ready(unreachable, what="m", timeout=30, interval=10, sleep=clock.sleep, clock=clock)
    assert len(clock.sleeps) == 3


class FakeCustomObjects:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.asked: list[tuple[str, ...]] = []

    def get_namespaced_custom_object(self, group: str, version: str, namespace: str, plural: str, name: str) -> Any:
        self.asked.append((group, version, namespace, plural, name))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_the_reader_asks_for_the_resource_in_the_configured_crd_version(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubernetes import client

    api = FakeCustomObjects(resource("True"))
    monkeypatch.setattr(client, "CustomObjectsApi", lambda api_client: api)
    assert materialize_reader(object(), "materialize-main", "main", "v1alpha1")() == resource("True")
    assert api.asked == [("materialize.cloud", "v1alpha1", "materialize-main", "materializes", "main")]

    api.answer = ApiException(status=404, reason="Not Found")
    assert materialize_reader(object(), "materialize-main", "main", "v1")() is None
    api.answer = ApiException(status=403, reason="Forbidden")
    with pytest.raises(ApiException):
        materialize_reader(object(), "materialize-main", "main", "v1")()
