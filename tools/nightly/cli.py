"""Command line of the nightly: run, sweep, and the target list for CI's job matrix.

    python -m tools.nightly run --targets aws,gcp,azure [--run-label 123-1] [--report-dir reports/nightly]
    python -m tools.nightly sweep --older-than 6h [--dry-run]
    python -m tools.nightly targets [--only aws,gcp]      # JSON list of target names

Exit status: 0 when every target (or every swept stack) passed, 1 when any
failed, 2 for a usage error. The state backend is PULUMI_BACKEND_URL or
--backend, default a file backend in .pulumi-state/nightly.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from tools.nightly.naming import new_run_id
from tools.nightly.targets import select_targets
from tools.stack_files import ROOT

DEFAULT_REPORT_DIR = ROOT / "reports" / "nightly"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.nightly", description=(__doc__ or "").split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="bring targets up, check them, tear them down")
    run.add_argument("--targets", default="", help="comma-separated target names (default: all)")
    run.add_argument("--run-label", default=None, help="appended to the run id, e.g. the CI run id and attempt")
    run.add_argument("--backend", default=None, help="state backend URL (default: PULUMI_BACKEND_URL, else a file)")
    run.add_argument("--report-dir", type=Path, default=DEFAULT_REPORT_DIR, help="where the reports and logs go")
    run.add_argument("--ready-timeout", type=float, default=1200.0, help="seconds to wait for UpToDate after up")
    run.add_argument(
        "--durable-state",
        action="store_true",
        help="refuse a file backend for targets whose resources outlive this machine (CI)",
    )

    sweep = commands.add_parser("sweep", help="destroy ci-* stacks older than a threshold")
    sweep.add_argument("--older-than", default="6h", help="age such as 6h, 90m or 1d (default 6h)")
    sweep.add_argument("--backend", default=None, help="state backend URL (default: PULUMI_BACKEND_URL, else a file)")
    sweep.add_argument("--dry-run", action="store_true", help="list what would be destroyed, destroy nothing")
    sweep.add_argument("--targets", default="", help="only these targets' stacks (default: every ci-* stack)")

    targets = commands.add_parser("targets", help="print the target names as a JSON list (CI's job matrix)")
    targets.add_argument("--only", default="", help="comma-separated subset (default: all)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "targets":
            print(json.dumps([target.name for target in select_targets(args.only)]))
            return 0
        if args.command == "run":
            return _run(args)
        return _sweep(args)
    except (KeyError, ValueError) as error:
        print(f"error: {error.args[0] if error.args else error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from tools.nightly.report import markdown, write_reports
    from tools.nightly.runner import Console, RunSettings, describe, run_night
    from tools.nightly.workspace import BACKEND_ENV, resolve_backend

    targets = select_targets(args.targets)
    run_id = new_run_id(datetime.now(UTC), args.run_label)
    backend = resolve_backend(args.backend, os.environ)
    if args.durable_state and backend.url.startswith("file:"):
        outliving = [t.name for t in targets if t.resources_outlive_runner]
        if outliving:
            # Their cloud resources would outlive the only record of them, and the sweep could never find them.
            raise ValueError(
                f"{', '.join(outliving)}: a file backend ({backend.url}) dies with this machine; set {BACKEND_ENV}"
            )
    console = Console()
    console.line(f"nightly {run_id}: {', '.join(t.name for t in targets)} on {backend.url}")
    with tempfile.TemporaryDirectory(prefix="nightly-projects-") as work_dir:
        settings = RunSettings(
            run_id=run_id,
            backend=backend,
            project_dir=Path(work_dir),
            report_dir=args.report_dir,
            ready_timeout=args.ready_timeout,
        )
        results = run_night(targets, settings, console)
    xml_path, md_path = write_reports(results, run_id, args.report_dir)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as handle:
            handle.write(markdown(results, run_id))
    for result in results:
        console.line(describe(result))
    console.line(f"reports: {xml_path}, {md_path}")
    return 0 if all(result.passed for result in results) else 1


def _require_pulumi_cli() -> None:
    if shutil.which("pulumi") is None:
        raise ValueError("the Pulumi CLI is not on PATH; install it (https://www.pulumi.com/docs/install/) and retry")


def _sweep(args: argparse.Namespace) -> int:
    from tools.nightly.retry import RetryPolicy
    from tools.nightly.runner import Console
    from tools.nightly.sweep import AutomationSweepBackend, parse_age, sweep
    from tools.nightly.workspace import local_workspace, project_dir, resolve_backend, select_stack

    older_than = parse_age(args.older_than)
    _require_pulumi_cli()
    only = {target.name for target in select_targets(args.targets)} if args.targets.strip() else None
    backend = resolve_backend(args.backend, os.environ)
    console = Console()
    console.line(f"sweep: ci-* stacks idle for more than {args.older_than} on {backend.url}")
    with project_dir() as work_dir:
        automation = AutomationSweepBackend(
            local_workspace(work_dir, backend),
            lambda name: select_stack(name, work_dir, backend),
            on_output=lambda line: print(f"    {line}", flush=True),
        )
        items = sweep(
            automation,
            now=datetime.now(UTC),
            older_than=older_than,
            dry_run=args.dry_run,
            targets=only,
            retry=RetryPolicy(),
            sleep=time.sleep,
            progress=console.line,
        )
    failed = [item for item in items if item.outcome == "failed"]
    console.line(f"sweep: {len(items)} ci-* stacks seen, {len(failed)} failed")
    return 1 if failed else 0
