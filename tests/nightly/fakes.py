"""Stand-ins for what a night talks to: the Automation API stack, the cluster, SQL, and time.

`FakeStack` answers like pulumi.automation.Stack (same method names, real
OutputValue / PreviewResult / CommandError objects) and records every call
in a log shared with the other fakes, so a test can assert the order of
everything that happened to one target.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pulumi.automation import ConfigValue, OutputValue, PreviewResult
from pulumi.automation._cmd import CommandResult
from pulumi.automation.errors import CommandError

from tools.nightly.lifecycle import Services
from tools.nightly.reach import Instance, KubeAccess
from tools.nightly.retry import RetryPolicy

PASSWORD = "Zq8wTqhR4dQdLr3x"
CONNECTION = f"postgres://mz_system:{PASSWORD}@main-balancerd-lb.materialize-main.svc:6875/materialize?sslmode=require"
KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n"
LICENSE = "nightly-test-license-key"


def cli_error(message: str) -> CommandError:
    """An error as the Automation API raises it when the CLI exits non-zero."""
    return CommandError(
        CommandResult(stdout=f"Updating...\n    error: {message}", stderr=f"error: {message}", code=255)
    )


def cloud_outputs(instances: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A cloud stack's outputs, as plain values."""
    names = instances or {"main": "materialize-main"}
    return {
        "instances": {n: {"namespace": ns, "environmentId": "e-1", "sqlEndpoint": "x:6875"} for n, ns in names.items()},
        "connectionStrings": {n: CONNECTION for n in names},
        "kubeconfig": KUBECONFIG,
    }


@dataclass
class Script:
    """What a fake operation does on each call: raise the next error, or succeed when the list runs out."""

    errors: list[BaseException] = field(default_factory=list)

    def next(self) -> None:
        if self.errors:
            raise self.errors.pop(0)


class FakeWorkspace:
    def __init__(self, stack: FakeStack) -> None:
        self._stack = stack

    def remove_stack(self, stack_name: str, force: bool | None = None, preserve_config: bool | None = None) -> None:
        self._stack.record("remove", {"stack_name": stack_name})
        self._stack.scripts["remove"].next()


class FakeStack:
    def __init__(
        self,
        name: str,
        events: list[str],
        *,
        outputs: Mapping[str, Any] | None = None,
        change_summary: Mapping[str, int] | None = None,
        up_hook: Callable[[], None] = lambda: None,
    ) -> None:
        self.name = name
        self.events = events
        self.workspace = FakeWorkspace(self)
        self.config: dict[str, ConfigValue] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.scripts = {op: Script() for op in ("set_config", "up", "preview", "destroy", "remove")}
        self._outputs = dict(outputs if outputs is not None else cloud_outputs())
        self.change_summary = dict(change_summary if change_summary is not None else {"same": 42})
        self._up_hook = up_hook

    def record(self, op: str, options: dict[str, Any]) -> None:
        self.calls.append((op, options))
        self.events.append(f"{self.name}:{op}")
        # As the CLI would, line by line.
        if callable(options.get("on_output")):
            options["on_output"](f"{op} of {self.name}: engine output")

    def ops(self) -> list[str]:
        return [op for op, _ in self.calls if op != "set_config"]

    def set_config(self, key: str, value: ConfigValue, *, path: bool = False) -> None:
        self.calls.append(("set_config", {"key": key, "value": value, "path": path}))
        self.scripts["set_config"].next()
        self.config[key] = value

    def up(self, **options: Any) -> Any:
        self.record("up", options)
        self._up_hook()
        self.scripts["up"].next()
        outputs = {
            key: OutputValue(value, secret=key in ("connectionStrings", "kubeconfig"))
            for key, value in self._outputs.items()
        }
        return SimpleNamespace(outputs=outputs, summary=SimpleNamespace(resource_changes={"create": 57}))

    def preview(self, **options: Any) -> PreviewResult:
        self.record("preview", options)
        self.scripts["preview"].next()
        return PreviewResult(stdout="", stderr="", change_summary=self.change_summary)

    def destroy(self, **options: Any) -> Any:
        self.record("destroy", options)
        self.scripts["destroy"].next()
        return SimpleNamespace(summary=SimpleNamespace(resource_changes={"delete": 57}))


class FakeClock:
    """Time that passes only when something sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


@dataclass
class Night:
    """One target's stand-ins, wired into Services."""

    stack: FakeStack
    events: list[str]
    clock: FakeClock = field(default_factory=FakeClock)
    progress: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    ready_errors: list[BaseException] = field(default_factory=list)
    probe_errors: list[BaseException] = field(default_factory=list)
    support_errors: list[BaseException] = field(default_factory=list)
    checked: list[tuple[str, Instance, KubeAccess]] = field(default_factory=list)

    def _check(self, kind: str, errors: list[BaseException], instance: Instance, access: KubeAccess, ok: str) -> str:
        self.events.append(f"{self.stack.name}:{kind}:{instance.name}")
        self.checked.append((kind, instance, access))
        if errors:
            raise errors.pop(0)
        return ok

    def wait_ready(self, instance: Instance, access: KubeAccess) -> str:
        return self._check("ready", self.ready_errors, instance, access, "UpToDate (Applied)")

    def probe(self, instance: Instance, access: KubeAccess) -> str:
        return self._check("probe", self.probe_errors, instance, access, "view shows 3 rows, total 60")

    def support_check(self, instance: Instance, access: KubeAccess) -> str:
        ok = "quickstart.nightly_support_x created, read back, expired by reconcile"
        return self._check("support", self.support_errors, instance, access, ok)

    def open_stack(self, name: str) -> FakeStack:
        self.opened.append(name)
        assert name == self.stack.name, f"opened {name}, expected {self.stack.name}"
        return self.stack

    def services(
        self, *, environ: Mapping[str, str] | None = None, home: Path | None = None, retry: RetryPolicy | None = None
    ) -> Services:
        return Services(
            open_stack=self.open_stack,
            wait_ready=self.wait_ready,
            probe=self.probe,
            support_check=self.support_check,
            retry=retry or RetryPolicy(attempts=3, delays=(60.0, 180.0)),
            sleep=self.clock.sleep,
            clock=self.clock,
            progress=self.progress.append,
            engine_output=self.log.append,
            policy_packs=("/repo/policy",),
            policy_pack_problems=lambda packs: [],
            environ=environ if environ is not None else ENVIRON,
            which=lambda command: f"/usr/bin/{command}",
            home=home or Path("/nonexistent-home"),
        )


# Everything every target's preflight asks for.
ENVIRON = {
    "MATERIALIZE_LICENSE_KEY": LICENSE,
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "GOOGLE_APPLICATION_CREDENTIALS": "/creds.json",
    "NIGHTLY_GCP_PROJECT": "nightly-project-1",
    "ARM_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000000",
}
