"""How long evaluating each example stack takes, against a floor measured in the same run.

Run by hand (not part of the test suite):

    venv/bin/python -m benchmarks.evaluate [--runs 5] [STACK ...]

For each stack, one process evaluates it as the offline plan does (`tools.plan`,
under mocks, every registration awaited). Its floor is a process that imports the
same Pulumi SDK modules and registers the same number of resources, each with as
many aliases as the SDK gave its counterpart and empty inputs, through the same
mocks and recording monitor: what any program of that
size on those SDKs costs. The ratio stack / floor is what this program adds
(settings, components, Helm values, reference checks). Both are timed as whole
processes (interpreter start-up included), alternating, and the medians are
compared. Numbers and the machine they came from: docs/performance.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Top-level packages whose modules the floor loads too: the SDKs, not this project's code.
SDK_PACKAGES = ("pulumi", "pulumi_aws", "pulumi_gcp", "pulumi_azure_native", "pulumi_kubernetes", "pulumi_random")


def _sdk_modules() -> list[str]:
    return sorted(m for m in sys.modules if m.split(".")[0] in SDK_PACKAGES)


def child_stack(stack: str, report: Path) -> None:
    from tools.plan import evaluate_stack

    evaluation, _ = evaluate_stack(stack, {})
    # The SDKs add aliases to many resources (azure-native: one per API version), which the engine's
    # URN computation pays for: the floor registers as many.
    aliases = [len(r.options.get("aliases") or []) for r in evaluation.registered]
    report.write_text(json.dumps({"modules": _sdk_modules(), "resources": len(aliases), "aliases": aliases}))


def child_floor(report: Path) -> None:
    spec = json.loads(report.read_text())
    for module in spec["modules"]:
        importlib.import_module(module)

    import pulumi

    from tools.offline.evaluate import evaluate

    async def register() -> dict[str, Any]:
        for index, count in enumerate(spec["aliases"]):
            aliases = [pulumi.Alias(type_=f"benchmark:index/v{n}:ConfigMap") for n in range(count)]
            # A type the mocks model with the fewest outputs: a namespace-less ConfigMap.
            opts = pulumi.ResourceOptions(aliases=aliases)
            pulumi.CustomResource("kubernetes:core/v1:ConfigMap", f"floor-{index}", {"data": {}}, opts)
        return {}

    evaluation = evaluate({}, secret_keys=(), main=register)
    assert len(evaluation.registered) == spec["resources"]


def _timed(command: list[str], quiet: bool = True) -> float:
    # Timed runs drop stderr: the SDK's event loop may print an ignored error at interpreter exit.
    start = time.perf_counter()
    subprocess.run(
        command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL if quiet else None
    )
    return time.perf_counter() - start


def measure(stack: str, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        report = Path(directory) / "report.json"
        own = [sys.executable, "-m", "benchmarks.evaluate", "--child-stack", stack, "--report", str(report)]
        floor = [sys.executable, "-m", "benchmarks.evaluate", "--child-floor", "--report", str(report)]
        _timed(own)  # warm-up; also writes what the floor must load and register
        _timed(floor)
        stack_times, floor_times = [], []
        for _ in range(runs):
            stack_times.append(_timed(own))
            floor_times.append(_timed(floor))
        resources = json.loads(report.read_text())["resources"]
    stack_median, floor_median = statistics.median(stack_times), statistics.median(floor_times)
    return {
        "stack": stack,
        "resources": resources,
        "stack_s": round(stack_median, 2),
        "floor_s": round(floor_median, 2),
        "ratio": round(stack_median / floor_median, 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    from tools.stack_files import stack_names

    parser = argparse.ArgumentParser(prog="python -m benchmarks.evaluate", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("stacks", nargs="*", help="example stacks (default: all)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each process (default 5)")
    parser.add_argument("--child-stack", help=argparse.SUPPRESS)
    parser.add_argument("--child-floor", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_stack:
        child_stack(args.child_stack, args.report)
        return 0
    if args.child_floor:
        child_floor(args.report)
        return 0
    print("| stack | resources | evaluate (s) | floor (s) | ratio |\n| --- | --- | --- | --- | --- |")
    for stack in args.stacks or stack_names():
        row = measure(stack, args.runs)
        print(f"| {row['stack']} | {row['resources']} | {row['stack_s']} | {row['floor_s']} | {row['ratio']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
