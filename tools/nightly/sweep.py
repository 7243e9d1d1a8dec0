"""The leak sweep: destroy and remove `ci-*` stacks that outlived their night.

A night destroys its own stacks, but a cancelled job, a lost runner or a
destroy that failed three times leaves stacks (and their cloud bills)
behind. The sweep runs after every night and destroys any `ci-*` stack
whose last sign of life (the start time in its name, or its last update,
whichever is later) is older than the threshold, so a night still running
is never touched. Stacks with an update in progress are left alone too.

A sweep runs on a machine that never saw the stack's configuration file,
so it first restores the configuration from the stack's last deployment
(`pulumi config refresh`), which also restores what the passphrase secrets
provider needs. Stacks of targets whose resources die with the CI machine
(the local kind cluster) are removed even when their destroy cannot reach
that cluster any more; for cloud targets a failed destroy keeps the stack
and fails the sweep, so someone looks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from tools.nightly.lifecycle import summarize_error
from tools.nightly.naming import STACK_PREFIX, CiStack, parse_stack_name
from tools.nightly.retry import RetryPolicy, with_retries
from tools.nightly.targets import TARGETS

SweepOutcome = Literal["destroyed", "would destroy", "kept", "skipped", "failed"]


class SweepBackend(Protocol):
    """The Automation API calls the sweep makes (a LocalWorkspace and the stacks on it)."""

    def list_stacks(self) -> Sequence[Any]: ...

    def refresh_config(self, stack: str) -> None: ...

    def destroy(self, stack: str) -> None: ...

    def remove_stack(self, stack: str, force: bool) -> None: ...


@dataclass(frozen=True)
class SweepItem:
    stack: str
    outcome: SweepOutcome
    detail: str


def parse_age(text: str) -> timedelta:
    """`6h`, `90m`, `2d`, `45s`, or combinations such as `1h30m`."""
    units = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    parts = re.fullmatch(r"(?:\d+[dhms])+", text.strip())
    if parts is None:
        raise ValueError(f"{text!r} is not an age such as 6h, 90m or 1d")
    total = timedelta()
    for amount, unit in re.findall(r"(\d+)([dhms])", text):
        total += timedelta(**{units[unit]: int(amount)})
    return total


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    # The CLI reports update times in UTC without a zone.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def last_sign_of_life(parsed: CiStack | None, last_update: datetime | None) -> datetime | None:
    moments = [m for m in (parsed.started_at if parsed else None, _as_utc(last_update)) if m is not None]
    return max(moments) if moments else None


def _state_dies_with_runner(parsed: CiStack | None) -> bool:
    target = next((t for t in TARGETS if parsed is not None and t.name == parsed.target), None)
    return target is not None and not target.resources_outlive_runner


def sweep(
    backend: SweepBackend,
    *,
    now: datetime,
    older_than: timedelta,
    dry_run: bool,
    retry: RetryPolicy,
    sleep: Callable[[float], None],
    progress: Callable[[str], None],
    targets: set[str] | None = None,
) -> list[SweepItem]:
    """Sweeps every ci-* stack, or with `targets` only those whose name says they belong to one of them."""
    items: list[SweepItem] = []
    for summary in sorted(backend.list_stacks(), key=lambda s: s.name):
        name = summary.name.rsplit("/", 1)[-1]  # "org/project/stack" on some backends
        if not name.startswith(STACK_PREFIX):
            continue
        parsed = parse_stack_name(name)
        if targets is not None and (parsed is None or parsed.target not in targets):
            # Another target's stack: this job may not even hold credentials for its cloud.
            continue
        item = _sweep_one(backend, summary, name, parsed, now, older_than, dry_run, retry, sleep)
        progress(f"[sweep] {name}: {item.outcome} ({item.detail})")
        items.append(item)
    return items


def _sweep_one(
    backend: SweepBackend,
    summary: Any,
    name: str,
    parsed: CiStack | None,
    now: datetime,
    older_than: timedelta,
    dry_run: bool,
    retry: RetryPolicy,
    sleep: Callable[[float], None],
) -> SweepItem:
    if summary.update_in_progress:
        return SweepItem(name, "skipped", "an update is in progress")
    alive = last_sign_of_life(parsed, summary.last_update)
    if alive is None:
        return SweepItem(name, "skipped", "age unknown: no start time in its name and no recorded update")
    age = now - alive
    if age < older_than:
        return SweepItem(name, "kept", f"last active {_hours(age)} ago")
    if dry_run:
        return SweepItem(name, "would destroy", f"last active {_hours(age)} ago")
    try:
        backend.refresh_config(name)
    except Exception as error:
        # A stack that never deployed has no configuration to restore, and nothing to destroy either.
        restore_note = f"config not restored ({summarize_error(error, 200)}); "
    else:
        restore_note = ""
    try:
        with_retries(lambda: backend.destroy(name), retry, sleep)
    except Exception as error:
        if not _state_dies_with_runner(parsed):
            return SweepItem(name, "failed", f"{restore_note}destroy failed: {summarize_error(error)}")
        # Its cluster died with the CI machine that ran it: only the state is left to drop.
        try:
            backend.remove_stack(name, True)
        except Exception as remove_error:
            return SweepItem(name, "failed", f"removing the stack failed: {summarize_error(remove_error)}")
        return SweepItem(name, "destroyed", f"{restore_note}state removed; its cluster is gone ({_hours(age)} old)")
    try:
        with_retries(lambda: backend.remove_stack(name, False), retry, sleep)
    except Exception as error:
        return SweepItem(name, "failed", f"destroyed, but removing the stack failed: {summarize_error(error)}")
    return SweepItem(name, "destroyed", f"{restore_note}{_hours(age)} old")


def _hours(age: timedelta) -> str:
    return f"{age.total_seconds() / 3600:.1f}h"


class AutomationSweepBackend:
    """SweepBackend over the Automation API: one workspace on the nightly's backend."""

    def __init__(self, workspace: Any, open_stack: Callable[[str], Any], on_output: Callable[[str], None]) -> None:
        self._workspace = workspace
        self._open_stack = open_stack
        self._on_output = on_output

    def list_stacks(self) -> Sequence[Any]:
        return list(self._workspace.list_stacks())

    def refresh_config(self, stack: str) -> None:
        self._workspace.refresh_config(stack)

    def destroy(self, stack: str) -> None:
        self._open_stack(stack).destroy(on_output=self._on_output, on_error=self._on_output, color="never")

    def remove_stack(self, stack: str, force: bool) -> None:
        self._workspace.remove_stack(stack, force=force)
