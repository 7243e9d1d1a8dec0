"""One target's night: its stack from nothing, checked, and back to nothing.

Phases, in order: preflight (what the machine must provide), configure (the
stack, with the example's config and the CI overrides), up (with the policy
pack), ready (every Materialize resource UpToDate), probe (SQL through
balancerd), support (a support replica created and expired by the control
plane's code), preview (must show no changes), then destroy and remove, which
run whenever a stack was created, whatever failed before. A failed destroy
leaves the stack in place for the leak sweep rather than dropping the only
record of what is still running.

Everything outside this module (the Automation API stack, the cluster, the
SQL connection, time) comes in through `Services`, so the order and the
failure handling are tested without a cloud.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from pulumi.automation import ConfigValue

from components.controlplane.connection import scrub
from components.settings import PROJECT
from tools.nightly.naming import stack_name
from tools.nightly.reach import Instance, KubeAccess, connection_password, instances, kube_access
from tools.nightly.retry import RetryPolicy, with_retries
from tools.nightly.targets import CiConfig, Target, Which, ci_config
from tools.stack_files import ROOT, config_text

PHASES = ("preflight", "configure", "up", "ready", "probe", "support", "preview", "destroy", "remove")
Outcome = Literal["passed", "failed", "skipped"]
# Preview operations that change nothing: resources kept as they are, and
# data sources or `.get()` lookups read again (every preview reads them).
NO_CHANGE_OPS = frozenset({"same", "read"})


class PerpetualDiff(RuntimeError):
    """A preview right after a successful up still wants to change something."""


class Stack(Protocol):
    """The parts of pulumi.automation.Stack a night uses (their keyword arguments as the Automation API has them)."""

    name: str
    workspace: Any

    def set_config(self, key: str, value: ConfigValue, *, path: bool = False) -> None: ...

    def up(self, **options: Any) -> Any: ...

    def preview(self, **options: Any) -> Any: ...

    def destroy(self, **options: Any) -> Any: ...


def unready_policy_packs(packs: Sequence[str]) -> list[str]:
    """Packs without the virtualenv their PulumiPolicy.yaml names (`venv`).

    The CLI does not create it for a local pack, and without it `up` fails
    only after the stack exists; checked first, nothing is created in vain.
    """
    return [
        f"the policy pack's virtualenv: python3 -m venv {pack}/venv"
        f" && {pack}/venv/bin/pip install -r {pack}/requirements.txt"
        for pack in packs
        if not (Path(pack) / "venv" / "bin" / "python").exists()
    ]


@dataclass
class Services:
    open_stack: Callable[[str], Stack]
    wait_ready: Callable[[Instance, KubeAccess], str]
    probe: Callable[[Instance, KubeAccess], str]
    # The control plane's support replicas against the real instance (support_check.py).
    support_check: Callable[[Instance, KubeAccess], str]
    retry: RetryPolicy
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    # One line per phase event, for the console.
    progress: Callable[[str], None]
    # Pulumi's own output and full error texts, for the target's log file.
    engine_output: Callable[[str], None]
    policy_packs: Sequence[str]
    environ: Mapping[str, str]
    which: Which
    home: Path = field(default_factory=Path.home)
    root: Path = ROOT
    # Values that must never appear in a report or log (the state passphrase).
    secrets: frozenset[str] = frozenset()
    # What keeps the policy packs from running (see unready_policy_packs).
    policy_pack_problems: Callable[[Sequence[str]], list[str]] = unready_policy_packs


@dataclass
class PhaseResult:
    phase: str
    outcome: Outcome
    seconds: float = 0.0
    detail: str = ""


@dataclass
class TargetResult:
    target: str
    stack: str
    phases: list[PhaseResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.phases) and all(phase.outcome == "passed" for phase in self.phases)


def format_duration(seconds: float) -> str:
    """12m03s, or 1h02m03s past an hour."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


_ERROR_LINE = re.compile(r"(?:^|\s)error:\s*(\S.*)$", re.IGNORECASE)


def summarize_error(error: BaseException, limit: int = 800) -> str:
    """The lines of an error that say what went wrong (Pulumi's `error:` lines), not its whole output."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    found = [match.group(1) for line in lines if (match := _ERROR_LINE.search(line))]
    picked = list(dict.fromkeys(found))[:5] or lines[-3:] or [type(error).__name__]
    text = " | ".join(picked)
    if not found and type(error).__module__ == "builtins" and type(error) is not RuntimeError:
        # A KeyError's text alone ("'instances'") says nothing; its type does.
        text = f"{type(error).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def redact(text: str, secrets: set[str]) -> str:
    # Shorter values (an empty license key, say) would blot out ordinary text.
    return scrub(text, [secret for secret in secrets if len(secret) >= 4])


def _op_name(op: Any) -> str:
    return str(getattr(op, "value", op))


def describe_changes(changes: Mapping[Any, int]) -> str:
    parts = [f"{_op_name(op)} {count}" for op, count in sorted(changes.items(), key=lambda kv: _op_name(kv[0]))]
    return ", ".join(parts) if parts else "nothing"


def unexpected_changes(change_summary: Mapping[Any, int] | None) -> dict[str, int]:
    return {
        _op_name(op): count
        for op, count in (change_summary or {}).items()
        if count and _op_name(op) not in NO_CHANGE_OPS
    }


class _Night:
    """Runs the phases of one target, recording each; later phases are skipped once one fails."""

    def __init__(self, target: Target, stack: str, run_id: str, services: Services) -> None:
        self.target = target
        self.run_id = run_id
        self.services = services
        self.result = TargetResult(target=target.name, stack=stack)
        self.failed = False
        self.secrets: set[str] = set(services.secrets)
        self.stack: Stack | None = None
        self.config: CiConfig | None = None
        self.outputs: dict[str, Any] = {}
        self.access: KubeAccess | None = None
        self.instances: list[Instance] = []

    # Recording

    def _say(self, text: str) -> None:
        self.services.progress(f"[{self.target.name}] {text}")

    def step(self, phase: str, action: Callable[[], str]) -> bool:
        if self.failed:
            self.skip(phase, "an earlier phase failed")
            return False
        return self.always(phase, action)

    def always(self, phase: str, action: Callable[[], str]) -> bool:
        clock = self.services.clock
        self._say(f"{phase} started")
        start = clock()
        try:
            detail, outcome = action(), "passed"
        except Exception as error:
            self.services.engine_output(f"{phase} failed: {redact(str(error), self.secrets)}")
            detail, outcome = summarize_error(error), "failed"
            self.failed = True
        seconds = clock() - start
        detail = redact(detail, self.secrets)
        self.result.phases.append(PhaseResult(phase, outcome, seconds, detail))
        verdict = "ok" if outcome == "passed" else f"FAILED: {detail}"
        self._say(f"{phase} ... {format_duration(seconds)} {verdict}")
        return outcome == "passed"

    def skip(self, phase: str, why: str) -> None:
        self.result.phases.append(PhaseResult(phase, "skipped", 0.0, why))
        self._say(f"{phase} skipped ({why})")

    def retrying(self, phase: str, call: Callable[[], Any]) -> Any:
        def note(attempt: int, reason: str, error: BaseException) -> None:
            self._say(f"{phase}: transient error ({reason}), attempt {attempt + 1} of {self.services.retry.attempts}")
            self.services.engine_output(f"{phase} attempt {attempt} failed: {redact(str(error), self.secrets)}")

        return with_retries(call, self.services.retry, self.services.sleep, note)

    def _engine(self) -> dict[str, Any]:
        output = self.services.engine_output
        return {"on_output": output, "on_error": output, "color": "never"}

    # Phases

    def preflight(self) -> str:
        unmet = self.target.unmet(self.services.environ, self.services.which, self.services.home)
        unmet += self.services.policy_pack_problems(self.services.policy_packs)
        if unmet:
            raise RuntimeError("missing: " + "; ".join(unmet))
        return "credentials and tools present"

    def configure(self) -> str:
        self.config = ci_config(self.target, self.result.stack, self.run_id, self.services.environ, self.services.root)
        self.secrets.add(str(self.config.values.get("licenseKey", "")))
        self.stack = self.services.open_stack(self.result.stack)
        for key, value in sorted(self.config.values.items()):
            # At the top level, not with `--path`: `--path` would turn strings
            # such as "17" or "1.35" into numbers, while the program parses the
            # JSON of structured keys itself (components/settings/loading.py).
            self.stack.set_config(
                f"{PROJECT}:{key}", ConfigValue(value=config_text(value), secret=key in self.config.secret_keys)
            )
        return f"stacks/Pulumi.{self.target.example_stack}.yaml with CI overrides ({len(self.config.values)} keys)"

    def up(self) -> str:
        assert self.stack is not None
        stack = self.stack
        result = self.retrying("up", lambda: stack.up(policy_packs=list(self.services.policy_packs), **self._engine()))
        self.outputs = {key: getattr(value, "value", value) for key, value in (result.outputs or {}).items()}
        for url in (self.outputs.get("connectionStrings") or {}).values():
            self.secrets.add(str(url))
            password = connection_password(str(url))
            if password:
                self.secrets.add(password)
        summary = getattr(result, "summary", None)
        return describe_changes(getattr(summary, "resource_changes", None) or {})

    def _each_instance(self, check: Callable[[Instance, KubeAccess], str]) -> str:
        assert self.access is not None
        access = self.access
        return "; ".join(f"{i.name}: {check(i, access)}" for i in self.instances)

    def ready(self) -> str:
        assert self.config is not None
        self.access = kube_access(self.target, self.outputs, self.config.values, self.services.home)
        self.instances = instances(self.outputs, self.config.values)
        return self._each_instance(self.services.wait_ready)

    def probe(self) -> str:
        return self._each_instance(self.services.probe)

    def support(self) -> str:
        return self._each_instance(self.services.support_check)

    def preview(self) -> str:
        assert self.stack is not None
        stack = self.stack
        result = self.retrying("preview", lambda: stack.preview(diff=True, **self._engine()))
        changes = unexpected_changes(result.change_summary)
        if changes:
            raise PerpetualDiff(f"the preview after up wants changes: {describe_changes(changes)}")
        return f"no changes ({describe_changes(result.change_summary or {})})"

    def destroy(self) -> str:
        assert self.stack is not None
        stack = self.stack
        result = self.retrying("destroy", lambda: stack.destroy(**self._engine()))
        summary = getattr(result, "summary", None)
        return describe_changes(getattr(summary, "resource_changes", None) or {})

    def remove(self) -> str:
        assert self.stack is not None
        stack = self.stack
        self.retrying("remove", lambda: stack.workspace.remove_stack(stack.name))
        return f"stack {stack.name} removed"


def run_target(target: Target, run_id: str, services: Services) -> TargetResult:
    """All phases of one target; never raises for a failed phase, and destroys whatever it created."""
    night = _Night(target, stack_name(target.name, run_id), run_id, services)
    try:
        night.step("preflight", night.preflight)
        night.step("configure", night.configure)
        night.step("up", night.up)
        night.step("ready", night.ready)
        night.step("probe", night.probe)
        night.step("support", night.support)
        night.step("preview", night.preview)
    finally:
        if night.stack is None:
            night.skip("destroy", "no stack was created")
            night.skip("remove", "no stack was created")
        elif night.always("destroy", night.destroy):
            night.always("remove", night.remove)
        else:
            night.skip("remove", "destroy failed; the stack is left for the leak sweep")
    return night.result
