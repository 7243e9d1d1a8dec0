"""The leak sweep destroys old ci-* stacks, leaves running nights and other stacks alone, and says why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pulumi.automation import StackSummary

from tests.nightly.fakes import FakeClock, cli_error
from tools.nightly.retry import RetryPolicy
from tools.nightly.sweep import parse_age, sweep

NOW = datetime(2025, 1, 2, 12, 0, tzinfo=UTC)


class FakeBackend:
    def __init__(self, stacks: list[StackSummary]) -> None:
        self.stacks = stacks
        self.calls: list[tuple[str, ...]] = []
        self.destroy_errors: dict[str, list[Exception]] = {}
        self.refresh_errors: dict[str, Exception] = {}

    def list_stacks(self) -> list[StackSummary]:
        return self.stacks

    def refresh_config(self, stack: str) -> None:
        self.calls.append(("refresh", stack))
        if stack in self.refresh_errors:
            raise self.refresh_errors[stack]

    def destroy(self, stack: str) -> None:
        self.calls.append(("destroy", stack))
        errors = self.destroy_errors.get(stack) or []
        if errors:
            raise errors.pop(0)

    def remove_stack(self, stack: str, force: bool) -> None:
        self.calls.append(("remove", stack, "force" if force else "safe"))


def summary(name: str, last_update: datetime | None = None, in_progress: bool = False) -> StackSummary:
    # The CLI's update times are UTC without a zone.
    naive = last_update.astimezone(UTC).replace(tzinfo=None) if last_update else None
    return StackSummary(name=name, current=False, update_in_progress=in_progress, last_update=naive)


def run(backend: FakeBackend, dry_run: bool = False) -> tuple[dict[str, tuple[str, str]], FakeClock]:
    clock = FakeClock()
    progress: list[str] = []
    items = sweep(
        backend,
        now=NOW,
        older_than=timedelta(hours=6),
        dry_run=dry_run,
        retry=RetryPolicy(attempts=3, delays=(30.0,)),
        sleep=clock.sleep,
        progress=progress.append,
    )
    assert len(progress) == len(items)
    return {item.stack: (item.outcome, item.detail) for item in items}, clock


def test_old_ci_stacks_are_destroyed_and_removed_and_everything_else_is_left_alone() -> None:
    backend = FakeBackend(
        [
            summary("ci-aws-20250101t0300-77-1"),  # 33h old by its name, never updated
            summary("ci-gcp-20250102t0900-78-1"),  # 3h old: a night still running
            summary("ci-azure-20250101t0300-77-1", last_update=NOW - timedelta(minutes=20)),  # old name, recent update
            summary("production"),
            summary("ci-local-20250101t0300", in_progress=True),
        ]
    )
    items, _ = run(backend)

    assert items["ci-aws-20250101t0300-77-1"][0] == "destroyed"
    assert items["ci-gcp-20250102t0900-78-1"] == ("kept", "last active 3.0h ago")
    assert items["ci-azure-20250101t0300-77-1"] == ("kept", "last active 0.3h ago")
    assert items["ci-local-20250101t0300"] == ("skipped", "an update is in progress")
    assert "production" not in items
    assert backend.calls == [
        ("refresh", "ci-aws-20250101t0300-77-1"),
        ("destroy", "ci-aws-20250101t0300-77-1"),
        ("remove", "ci-aws-20250101t0300-77-1", "safe"),
    ]


def test_a_dry_run_touches_nothing() -> None:
    backend = FakeBackend([summary("ci-aws-20250101t0300")])
    items, _ = run(backend, dry_run=True)
    assert items["ci-aws-20250101t0300"] == ("would destroy", "last active 33.0h ago")
    assert backend.calls == []


def test_an_org_qualified_name_is_aged_by_the_stack_name_it_carries() -> None:
    # Some backends list "org/project/stack"; the start time is in the last part.
    backend = FakeBackend([summary("acme/materialize/ci-aws-20250101t0300-77-1")])
    items, _ = run(backend)
    assert items["ci-aws-20250101t0300-77-1"][0] == "destroyed"
    assert backend.calls[-2:] == [
        ("destroy", "ci-aws-20250101t0300-77-1"),
        ("remove", "ci-aws-20250101t0300-77-1", "safe"),
    ]


def test_a_ci_stack_of_unknown_age_is_not_guessed_at() -> None:
    backend = FakeBackend([summary("ci-handmade"), summary("ci-old-by-update", last_update=NOW - timedelta(days=2))])
    items, _ = run(backend)
    assert items["ci-handmade"][0] == "skipped"
    assert items["ci-old-by-update"][0] == "destroyed"


def test_a_cloud_stack_whose_destroy_fails_is_kept_and_fails_the_sweep() -> None:
    backend = FakeBackend([summary("ci-aws-20250101t0300")])
    backend.destroy_errors["ci-aws-20250101t0300"] = [cli_error("deleting S3 Bucket: AccessDenied")]
    items, clock = run(backend)

    assert items["ci-aws-20250101t0300"] == ("failed", "destroy failed: deleting S3 Bucket: AccessDenied")
    assert ("remove", "ci-aws-20250101t0300", "force") not in backend.calls
    assert clock.sleeps == []


def test_transient_destroy_errors_are_retried_in_the_sweep_too() -> None:
    backend = FakeBackend([summary("ci-gcp-20250101t0300")])
    backend.destroy_errors["ci-gcp-20250101t0300"] = [cli_error("resourceInUseByAnotherResource: subnetwork")]
    items, clock = run(backend)
    assert items["ci-gcp-20250101t0300"][0] == "destroyed"
    assert clock.sleeps == [30.0]


def test_a_local_stack_whose_cluster_is_gone_has_its_state_dropped() -> None:
    backend = FakeBackend([summary("ci-local-20250101t0300")])
    backend.refresh_errors["ci-local-20250101t0300"] = cli_error("no previous deployment")
    backend.destroy_errors["ci-local-20250101t0300"] = [cli_error("Kubernetes cluster unreachable")]
    items, _ = run(backend)

    outcome, detail = items["ci-local-20250101t0300"]
    assert outcome == "destroyed"
    assert detail.startswith("config not restored (no previous deployment); state removed; its cluster is gone")
    assert backend.calls[-1] == ("remove", "ci-local-20250101t0300", "force")


def test_ages_read_like_durations() -> None:
    assert parse_age("6h") == timedelta(hours=6)
    assert parse_age("1h30m") == timedelta(minutes=90)
    assert parse_age("2d") == timedelta(days=2)
    with pytest.raises(ValueError, match="not an age"):
        parse_age("six hours")


def test_a_sweep_for_some_targets_touches_only_their_stacks() -> None:
    backend = FakeBackend([summary("ci-aws-20250101t0300"), summary("ci-gcp-20250101t0300"), summary("ci-handmade")])
    clock = FakeClock()
    items = sweep(
        backend,
        now=NOW,
        older_than=timedelta(hours=6),
        dry_run=False,
        retry=RetryPolicy(),
        sleep=clock.sleep,
        progress=lambda line: None,
        targets={"gcp"},
    )
    assert [item.stack for item in items] == ["ci-gcp-20250101t0300"]
    assert {call[1] for call in backend.calls} == {"ci-gcp-20250101t0300"}
