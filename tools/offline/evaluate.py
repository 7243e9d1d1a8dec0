"""Evaluate the real program under Pulumi mocks, in update mode, and return its graph.

Used by the offline plan and by the tests: the same code serves both."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks

from components import program
from components.settings import PROJECT
from tools.offline.mocks import RealisticMocks, RecordingMonitor, Registered
from tools.stack_files import config_text


@dataclass
class Evaluation:
    registered: list[Registered]
    outputs: dict[str, Any]
    secret_outputs: set[str]
    mocks: RealisticMocks

    def of_type(self, token: str) -> list[Registered]:
        return [r for r in self.registered if r.type == token]

    def one(self, token: str, name: str | None = None) -> Registered:
        found = [r for r in self.of_type(token) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {token} {name or ''}, found {[r.name for r in found]}"
        return found[0]

    def by_urn(self, urn: str) -> Registered:
        return next(r for r in self.registered if r.urn == urn)

    def types(self) -> set[str]:
        return {r.type for r in self.registered}

    def desired_state(self) -> dict[str, tuple[Any, ...]]:
        """What the engine would diff, per URN: inputs, secrecy, protection, dependencies.

        Registration order is left out: it is up to the event loop (dynamic resources pickle their
        provider asynchronously) and the engine does not diff it.
        """
        state = {
            r.urn: (r.inputs, sorted(r.secret_paths), r.protect, sorted(r.dependencies), r.parent)
            for r in self.registered
        }
        assert len(state) == len(self.registered), "two registrations share a URN"
        return state


def config_values(config: Mapping[str, Any]) -> dict[str, str]:
    """Stack config as the Pulumi CLI hands it to a program: strings and JSON."""
    return {f"{PROJECT}:{key}": config_text(value) for key, value in config.items()}


def evaluate(
    config: Mapping[str, Any],
    *,
    secret_keys: Iterable[str] = ("licenseKey",),
    previous_outputs: Mapping[str, Any] | None = None,
    stack: str = "dev",
    preview: bool = False,
    monitor: RecordingMonitor | None = None,
    main: Callable[[], Awaitable[Mapping[str, Any]]] = program.main,
) -> Evaluation:
    """Run components.program.main() (or another `main`) under mocks and wait for every registration.

    Pass a `monitor` to inspect what was registered even when the program fails.
    """
    mocks = RealisticMocks(previous_outputs)
    if monitor is None:
        monitor = RecordingMonitor(mocks)
    else:
        monitor.mocks = mocks
    pulumi_mocks.set_mocks(
        mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor, organization="organization"
    )
    pulumi.runtime.set_all_config(config_values(config), [f"{PROJECT}:{k}" for k in secret_keys])

    outputs: dict[str, Any] = {}
    secret_outputs: set[str] = set()

    async def collect() -> None:
        exports = await main()
        for key, value in exports.items():
            output = pulumi.Output.from_input(value)
            outputs[key] = await output.future()
            if await output.is_secret():
                secret_outputs.add(key)

    # The SDK's public way to run a program under mocks: it resets the
    # runtime's bookkeeping, runs the function, waits for every outstanding
    # registration and re-raises what the program raised.
    @pulumi.runtime.test
    def run() -> Any:
        return collect()

    run()
    return Evaluation(monitor.registered, outputs, secret_outputs, mocks)
