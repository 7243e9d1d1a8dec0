"""Retrying a Pulumi operation, only for the few cloud errors known to clear up by themselves.

Anything not on the list fails at once: a retry that hides a real bug would
turn a red night green. Each entry says which operation hits it and why
waiting is the fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Transient:
    name: str
    pattern: re.Pattern[str]


TRANSIENT_ERRORS: tuple[Transient, ...] = (
    # AWS, at destroy: a security group, subnet or VPC cannot go while network
    # interfaces the load balancer controller or EKS created are still being
    # detached in the background; they are gone a minute or two later.
    Transient("aws-dependency-violation", re.compile(r"\bDependencyViolation\b")),
    # GCP, at destroy: a subnet, firewall or network is still referenced by
    # forwarding rules and NEGs that GKE removes asynchronously after its
    # Services and the cluster are deleted.
    Transient("gcp-resource-in-use", re.compile(r"\bresourceInUseByAnotherResource\b")),
    # Azure, at up and destroy: AKS and the VNet serialize operations, so a
    # request made while a pool or the cluster is still being updated is refused.
    Transient("azure-operation-in-progress", re.compile(r"\bAnotherOperationInProgress\b")),
    # Azure, at destroy: the subnet's NICs (internal load balancer, nodes) are
    # released by AKS after the cluster reports deleted, like AWS's ENIs.
    Transient("azure-subnet-in-use", re.compile(r"\bInUseSubnetCannotBeDeleted\b")),
    # Every cloud, any operation: API rate limits that outlasted the
    # providers' own retries; a pause lets the quota window pass.
    Transient(
        "rate-limited",
        re.compile(r"\b(Throttling|ThrottlingException|RequestLimitExceeded|rateLimitExceeded|TooManyRequests)\b"),
    ),
)
# Deliberately absent: Pulumi's "Another update is currently in progress".
# Every night's stacks are new, so a lock on one means another process is
# working on it (or died holding it); waiting would not make that safe.


def transient_reason(error: BaseException) -> str | None:
    """The allow-list entry the error matches, or None when it must not be retried."""
    text = str(error)
    for entry in TRANSIENT_ERRORS:
        if entry.pattern.search(text):
            return entry.name
    return None


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    # Seconds before the 2nd, 3rd, ... attempt; the last value repeats.
    delays: tuple[float, ...] = (60.0, 180.0)


def with_retries(
    call: Callable[[], T],
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    on_retry: Callable[[int, str, BaseException], None] = lambda attempt, reason, error: None,
) -> T:
    """call(), again after a pause while it fails with an allow-listed error, at most policy.attempts times."""
    attempt = 1
    while True:
        try:
            return call()
        except Exception as error:
            reason = transient_reason(error)
            if reason is None or attempt >= policy.attempts:
                raise
            on_retry(attempt, reason, error)
            sleep(policy.delays[min(attempt - 1, len(policy.delays) - 1)])
            attempt += 1
