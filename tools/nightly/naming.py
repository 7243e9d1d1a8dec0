"""Names of a night's stacks: `ci-<target>-<run id>`, where the run id starts with its UTC start time.

The start time in the name is what lets the leak sweep judge a stack's age
even when it never got as far as a first update (so its backend records no
update time), and the `ci-` prefix is what the sweep looks for.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

STACK_PREFIX = "ci-"
_STAMP_FORMAT = "%Y%m%dt%H%M"
# Long enough for a CI run id and attempt ("12345678901-2"), short enough that
# names derived from the stack (EKS cluster names, 63 characters) still fit.
MAX_LABEL = 24
_STACK = re.compile(r"^ci-(?P<target>[a-z][a-z0-9]*)-(?P<stamp>\d{8}t\d{4})(?:-(?P<label>[a-z0-9][a-z0-9-]*))?$")


def new_run_id(now: datetime, label: str | None = None) -> str:
    """`20250101t0300`, or `20250101t0300-<label>` with the label cleaned to lower-case letters, digits and '-'."""
    stamp = now.astimezone(UTC).strftime(_STAMP_FORMAT)
    if not label:
        return stamp
    cleaned = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:MAX_LABEL].rstrip("-")
    return f"{stamp}-{cleaned}" if cleaned else stamp


def stack_name(target: str, run_id: str) -> str:
    return f"{STACK_PREFIX}{target}-{run_id}"


@dataclass(frozen=True)
class CiStack:
    name: str
    target: str
    started_at: datetime


def parse_stack_name(name: str) -> CiStack | None:
    """The target and start time a nightly stack name carries, or None for any other name."""
    match = _STACK.match(name)
    if match is None:
        return None
    started = datetime.strptime(match["stamp"], _STAMP_FORMAT).replace(tzinfo=UTC)
    return CiStack(name=name, target=match["target"], started_at=started)


def run_sql_name(prefix: str, run_id: str, limit: int) -> str:
    """`prefix` and the run id as a lower-case SQL name of at most `limit` characters (same run, same name)."""
    return (prefix + re.sub(r"[^a-z0-9]+", "_", run_id.lower()).strip("_"))[:limit].rstrip("_")


def short_name_prefix(stack: str) -> str:
    """A 13-character resource-name prefix unique to the stack (`ci-` and 10 hex digits).

    GCP and Azure name their resources from a prefix (at most 20 and 16
    characters) instead of the stack, and the examples' fixed prefix would
    collide with a night still being torn down, or with a leaked one.
    """
    return f"{STACK_PREFIX}{hashlib.sha256(stack.encode()).hexdigest()[:10]}"
