"""A night: every selected target in parallel, each with the real Automation API, cluster and SQL.

Each target runs in its own thread with its own stack and log file
(<report dir>/<target>.log, Pulumi's output and full error texts); the
console gets one line per phase event. A target's failure, or even a bug
that escapes its phases, never stops another target or its destroy.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from components.dataplane.operator import OPERATOR_NAMESPACE
from policy import PACK_DIR
from tools.instance_status import read_diagnosis
from tools.nightly.lifecycle import PhaseResult, Services, Stack, TargetResult, run_target
from tools.nightly.naming import stack_name
from tools.nightly.probe import MaterializeDialect, ProbeTimings, probe_names, run_probe
from tools.nightly.reach import Instance, KubeAccess, api_client, sql_conninfo
from tools.nightly.ready import NotReadyError, materialize_reader, wait_until_ready
from tools.nightly.retry import RetryPolicy
from tools.nightly.support_check import run_support_check
from tools.nightly.targets import Target
from tools.nightly.workspace import Backend, open_stack, prepare_project_dir


@dataclass(frozen=True)
class RunSettings:
    run_id: str
    backend: Backend
    # Each target's project directory is made inside it.
    project_dir: Path
    report_dir: Path
    # `up` already waits for UpToDate (the resource's waitFor annotation); this
    # bounds the check that it still holds once every other resource is up.
    ready_timeout: float = 1200.0
    ready_interval: float = 10.0
    probe_timings: ProbeTimings = field(default_factory=ProbeTimings)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # The policy pack every `up` is held to (written and tested in policy/).
    policy_packs: tuple[str, ...] = (str(PACK_DIR),)


class Console:
    """Progress lines from many threads, whole lines only, each with the time since the night began."""

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        # Looked up when created, not when this module was imported (tests and tools swap sys.stdout).
        self._stream = stream or sys.stdout
        self._clock = clock
        self._start = clock()
        self._lock = threading.Lock()

    def line(self, text: str) -> None:
        elapsed = int(self._clock() - self._start)
        with self._lock:
            self._stream.write(f"{elapsed // 60:4d}:{elapsed % 60:02d} {text}\n")
            self._stream.flush()


class TargetLog:
    """The target's log file: everything Pulumi printed, and every error in full."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        with self._lock:
            self._handle.write(text if text.endswith("\n") else text + "\n")
            self._handle.flush()

    def close(self) -> None:
        self._handle.close()


def wait_ready(settings: RunSettings) -> Callable[[Instance, KubeAccess], str]:
    def wait(instance: Instance, access: KubeAccess) -> str:
        client = api_client(access)
        read = materialize_reader(client, instance.namespace, instance.name, instance.crd_version)
        try:
            return wait_until_ready(
                read,
                what=f"Materialize {instance.namespace}/{instance.name}",
                timeout=settings.ready_timeout,
                interval=settings.ready_interval,
                sleep=time.sleep,
                clock=time.monotonic,
            )
        except NotReadyError as error:
            # The night's report then says why, not only that it timed out.
            raise NotReadyError(
                f"{error}\n{read_diagnosis(client, read, instance.namespace, OPERATOR_NAMESPACE)}"
            ) from None
        finally:
            client.close()

    return wait


def probe(settings: RunSettings) -> Callable[[Instance, KubeAccess], str]:
    def check(instance: Instance, access: KubeAccess) -> str:
        with sql_conninfo(instance, access) as conninfo:
            return run_probe(conninfo, probe_names(settings.run_id), MaterializeDialect(), settings.probe_timings)

    return check


def support_check(settings: RunSettings) -> Callable[[Instance, KubeAccess], str]:
    def check(instance: Instance, access: KubeAccess) -> str:
        with sql_conninfo(instance, access) as conninfo:
            return run_support_check(conninfo, settings.run_id)

    return check


def real_services(
    settings: RunSettings,
    console: Console,
    log: TargetLog,
    work_dir: Path,
    environ: Mapping[str, str] | None = None,
) -> Services:
    def open_(name: str) -> Stack:
        stack: Stack = open_stack(name, work_dir, settings.backend)
        return stack

    return Services(
        open_stack=open_,
        wait_ready=wait_ready(settings),
        probe=probe(settings),
        support_check=support_check(settings),
        retry=settings.retry,
        sleep=time.sleep,
        clock=time.monotonic,
        progress=console.line,
        engine_output=log.write,
        policy_packs=settings.policy_packs,
        environ=os.environ if environ is None else environ,
        which=shutil.which,
        secrets=frozenset({settings.backend.passphrase}),
    )


ServicesFor = Callable[[Target], Services]


def run_targets(targets: Sequence[Target], run_id: str, services_for: ServicesFor) -> list[TargetResult]:
    """Every target at once, each isolated; results in the order of `targets`."""

    def one(target: Target) -> TargetResult:
        try:
            return run_target(target, run_id, services_for(target))
        except Exception as error:
            # A bug outside the phases (they catch their own failures): still a result, never a lost target.
            return TargetResult(
                target=target.name,
                stack=stack_name(target.name, run_id),
                phases=[PhaseResult("runner", "failed", 0.0, f"{type(error).__name__}: {error}")],
            )

    if not targets:
        return []
    with ThreadPoolExecutor(max_workers=len(targets), thread_name_prefix="nightly") as pool:
        return list(pool.map(one, targets))


def run_night(targets: Sequence[Target], settings: RunSettings, console: Console) -> list[TargetResult]:
    logs: dict[str, TargetLog] = {}

    def services_for(target: Target) -> Services:
        log = logs[target.name] = TargetLog(settings.report_dir / f"{target.name}.log")
        # A project directory per target: the CLI keeps per-directory workspace
        # state (the selected stack), which parallel targets must not share.
        work_dir = prepare_project_dir(settings.project_dir / target.name)
        return real_services(settings, console, log, work_dir)

    try:
        return run_targets(targets, settings.run_id, services_for)
    finally:
        for log in logs.values():
            log.close()


def describe(result: TargetResult) -> str:
    verdict = "passed" if result.passed else "FAILED"
    return f"[{result.target}] {verdict} ({result.stack})"
