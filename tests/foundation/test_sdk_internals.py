"""The SDK internals the offline evaluator relies on still exist and behave (tools/offline/sdk_internals.py)."""

from __future__ import annotations

import asyncio

import pulumi
import pulumi_kubernetes as k8s

from tools.offline import sdk_internals


def test_sync_await_runs_a_coroutine_to_its_value() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert sdk_internals.sync_await(answer()) == 42


def test_ensure_event_loop_gives_a_usable_loop() -> None:
    loop = sdk_internals.ensure_event_loop()
    assert isinstance(loop, asyncio.AbstractEventLoop) and not loop.is_closed()


def test_sync_await_reads_an_output_outside_a_program() -> None:
    output = pulumi.Output.secret("value")
    assert sdk_internals.sync_await(output.future()) == "value"
    assert sdk_internals.sync_await(output.is_secret()) is True


def test_py_properties_lists_a_typed_args_class_by_its_pulumi_names() -> None:
    names = {name for _, name, _ in sdk_internals.py_properties(k8s.meta.v1.ObjectMetaArgs)}
    assert {"name", "namespace", "labels", "annotations"} <= names
