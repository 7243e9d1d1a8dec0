"""Command line of the doctor: read the config, run each section, report."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from components.metadata_url import parse_metadata_url
from tools.doctor.blob import check_blob
from tools.doctor.config import (
    ENV_KUBECONFIG,
    ENV_METADATA_URL,
    ENV_PERSIST_URL,
    DoctorConfig,
    Overrides,
    instance_namespace,
    instance_url,
    is_kubeconfig_content,
    load_config,
    placeholder_problems,
)
from tools.doctor.kubernetes import InstanceRef, check_kubernetes
from tools.doctor.postgres import check_postgres
from tools.doctor.report import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Check, Report, Status
from tools.stack_files import StackFileError, read_stack_config

SECTIONS = ("postgres", "blob", "kubernetes")
REPO_ROOT = Path(__file__).resolve().parents[2]
# Config keys the doctor reads; the report names where each came from.
_KEYS_USED = frozenset(
    {
        "metadataBackendUrl",
        "persistBackendUrl",
        "kubeconfig",
        "kubeContext",
        "instances",
        "swap",
        "certManager",
        "crdVersion",
    }
)

_DESCRIPTION = """\
Preflight checks for a bring-your-own Materialize install: can Materialize use
the Postgres metadata store, the blob store and the Kubernetes cluster that the
stack's config names? Run it from the repository root before `pulumi up`.
Every check prints one line: ok, warn, FAIL or skip, what was checked and, for
problems, how to fix it. Secrets are never printed.
"""

_EPILOG = f"""\
where values come from (later wins):
  stacks/Pulumi.<stack>.yaml, then `pulumi config --show-secrets` (when the
  pulumi CLI is on PATH), then environment variables, then flags.

  Prefer environment variables for secrets: flags end up in shell history.
    {ENV_METADATA_URL}   metadata URL (may contain {{instance}})
    {ENV_PERSIST_URL}    persist URL (may contain {{instance}})
    {ENV_KUBECONFIG}                kubeconfig path

exit codes:
  {EXIT_OK}  no check failed (warnings allowed)
  {EXIT_FAILED}  at least one check failed
  {EXIT_USAGE}  bad command line

examples:
  python -m tools.doctor --stack byo
  {ENV_METADATA_URL}='postgres://...' python -m tools.doctor --stack byo --skip kubernetes
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.doctor",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", help="stack name: reads stacks/Pulumi.<stack>.yaml and its Pulumi config")
    parser.add_argument(
        "--metadata-url",
        metavar="URL",
        help=f"Postgres metadata URL; overrides materialize:metadataBackendUrl (prefer {ENV_METADATA_URL})",
    )
    parser.add_argument(
        "--persist-url",
        metavar="URL",
        help=f"persist (blob) URL; overrides materialize:persistBackendUrl (prefer {ENV_PERSIST_URL})",
    )
    parser.add_argument(
        "--kubeconfig",
        metavar="PATH",
        help=f"kubeconfig file; overrides materialize:kubeconfig and {ENV_KUBECONFIG}",
    )
    parser.add_argument("--kube-context", metavar="NAME", help="kubeconfig context; overrides materialize:kubeContext")
    parser.add_argument(
        "--instance",
        metavar="NAME",
        action="append",
        default=[],
        help="check this instance only (repeatable); default: every instance in materialize:instances",
    )
    parser.add_argument(
        "--skip",
        choices=SECTIONS,
        action="append",
        default=[],
        help="skip a section (repeatable); it is reported as skipped, never as ok",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="connect/read timeout for each service (default: 10)",
    )
    parser.add_argument(
        "--no-pulumi",
        action="store_true",
        help="do not run the pulumi CLI; read only the stack file, environment and flags",
    )
    return parser


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    out: TextIO | None = None,
) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        # --help exits with 0; argparse errors with 2.
        return EXIT_OK if not exit_.code else EXIT_USAGE
    if args.timeout <= 0:
        parser.print_usage()
        return EXIT_USAGE
    if args.stack is not None:
        # A misspelt stack would otherwise check the environment alone and look fine.
        try:
            read_stack_config(args.stack, REPO_ROOT)
        except StackFileError as error:
            print(f"error: --stack {args.stack}: {error}", file=sys.stderr)
            return EXIT_USAGE
    environ = os.environ if environ is None else environ
    config = load_config(
        args.stack,
        Overrides(
            metadata_url=args.metadata_url,
            persist_url=args.persist_url,
            kubeconfig=args.kubeconfig,
            kube_context=args.kube_context,
            instances=tuple(args.instance),
        ),
        environ,
        REPO_ROOT,
        use_pulumi=not args.no_pulumi,
    )
    report = Report(out, secrets=config.secrets())
    skip = set(args.skip)

    report.extend(_config_checks(config, args.stack))
    for section, run in (("postgres", _postgres), ("blob", _blob), ("kubernetes", _kubernetes)):
        if section in skip:
            report.add(Check(Status.SKIP, section, f"skipped (--skip {section})"))
        else:
            try:
                run(report, config, args.timeout)
            except Exception as error:
                # A traceback could quote a URL; report the type only and go on.
                report.add(Check(Status.FAIL, section, f"the doctor hit an unexpected {type(error).__name__}"))
    report.print_summary()
    return report.exit_code()


def _config_checks(config: DoctorConfig, stack: str | None) -> list[Check]:
    checks = []
    names = ", ".join(config.instances)
    origin = f"stack {stack}" if stack else "no stack (environment and flags only)"
    sources = ", ".join(f"{key} from {source}" for key, source in sorted(config.sources.items()) if key in _KEYS_USED)
    checks.append(Check(Status.OK, "config", f"{origin}; instances: {names}" + (f"; {sources}" if sources else "")))
    checks.extend(Check(Status.WARN, "config", note) for note in config.notes)
    for key, template in (("metadataBackendUrl", config.metadata_url), ("persistBackendUrl", config.persist_url)):
        if template:
            checks.extend(
                Check(Status.FAIL, "config", problem, "put {instance} in the database name / prefix")
                for problem in placeholder_problems(template, key, config.instances)
            )
    return checks


def _postgres(report: Report, config: DoctorConfig, timeout: float) -> None:
    if not config.metadata_url:
        report.add(
            Check(
                Status.FAIL,
                "postgres",
                "no metadata URL (materialize:metadataBackendUrl)",
                f"export {ENV_METADATA_URL}=..., or pulumi config set --secret metadataBackendUrl ...",
            )
        )
        return
    urls = {name: instance_url(config.metadata_url, name) for name in config.instances}
    server_of = {name: _server_of(url) for name, url in urls.items()}
    instances_on = Counter(server_of.values())
    for name, url in urls.items():
        sharing = instances_on[server_of[name]] if server_of[name] is not None else 1
        report.extend(check_postgres(url, f"postgres[{name}]", timeout, instances_on_server=sharing))


def _blob(report: Report, config: DoctorConfig, timeout: float) -> None:
    if not config.persist_url:
        report.add(
            Check(
                Status.FAIL,
                "blob",
                "no persist URL (materialize:persistBackendUrl)",
                f"export {ENV_PERSIST_URL}=..., or pulumi config set --secret persistBackendUrl ...",
            )
        )
        return
    for name in config.instances:
        report.extend(check_blob(instance_url(config.persist_url, name), f"blob[{name}]", timeout))


def _kubernetes(report: Report, config: DoctorConfig, timeout: float) -> None:
    source = config.sources.get("kubeconfig", "")
    if config.kubeconfig is not None:
        shown = "(kubeconfig contents)" if is_kubeconfig_content(config.kubeconfig) else config.kubeconfig
        context = config.kube_context or "its current-context"
        report.add(Check(Status.OK, "kubernetes", f"using kubeconfig {shown} from {source}, context {context}"))
    if config.overridden_kubeconfig is not None:
        report.add(
            Check(
                Status.WARN,
                "kubernetes",
                f"{source} replaces the stack's materialize:kubeconfig, so a different cluster may be checked",
                f"unset {ENV_KUBECONFIG} (or drop --kubeconfig) to check the stack's own cluster",
            )
        )
    instances = [InstanceRef(name, instance_namespace(config, name), config.crd_version) for name in config.instances]
    report.extend(
        check_kubernetes(
            config.kubeconfig,
            config.kube_context,
            config.swap,
            config.cert_manager_install,
            timeout,
            instances=instances,
        )
    )


def _server_of(url: str) -> tuple[str, int] | None:
    try:
        parsed = parse_metadata_url(url)
    except ValueError:
        return None
    return parsed.host, parsed.port
