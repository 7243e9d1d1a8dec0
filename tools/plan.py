"""The offline plan: evaluate a stack under mocks and print what it would create.

    python -m tools.plan --stack byo
    python -m tools.plan --all

No Pulumi CLI, credentials or cluster are needed: the real program runs
against Pulumi mocks, so its configuration is validated exactly as in
`pulumi up`, and the resources it registers are printed as a tree. Secret
values are never printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pulumi

from components.settings import PROJECT
from tools.offline.evaluate import Evaluation, evaluate
from tools.offline.mocks import Registered
from tools.stack_files import ROOT, StackFileError, read_stack_config, stack_names

LICENSE_PLACEHOLDER = "offline-plan-placeholder-license-key"


def _name(r: Registered) -> str:
    metadata = r.inputs.get("metadata") or {}
    name = metadata.get("name", "")
    return f"{metadata['namespace']}/{name}" if metadata.get("namespace") else name


def _release(r: Registered) -> str:
    return f"{r.inputs.get('chart')} {r.inputs.get('version')} -> {r.inputs.get('namespace')}/{r.inputs.get('name')}"


def _service(r: Registered) -> str:
    spec = r.inputs.get("spec") or {}
    ports = ",".join(str(p.get("port")) for p in spec.get("ports", []))
    sources = spec.get("loadBalancerSourceRanges")
    allowed = f" from {','.join(sources)}" if sources else ""
    return f"{_name(r)} {spec.get('type', 'ClusterIP')} :{ports}{allowed}"


def _materialize(r: Registered) -> str:
    spec = r.inputs.get("spec") or {}
    return f"{_name(r)} {spec.get('environmentdImageRef')} environmentId={spec.get('environmentId')}"


def _secret(r: Registered) -> str:
    keys = sorted((r.inputs.get("stringData") or r.inputs.get("data") or {}).keys())
    return f"{_name(r)} keys={','.join(keys)} (values secret)"


def _support_replica(r: Registered) -> str:
    i = r.inputs
    billed = f" billedAs={i['billedAs']}" if i.get("billedAs") else ""
    internal = " internal" if i.get("internal") else ""
    return f"{i.get('cluster')}.{i.get('name')} size={i.get('size')}{billed}{internal} expires {i.get('expiresAt')}"


def _replica_set(r: Registered) -> str:
    members = ",".join(r.inputs.get("members") or [])
    return f"{_support_replica(r)} members={members}"


def _provider(r: Registered) -> str:
    return f"context={r.inputs.get('context')} clusterIdentifier={r.inputs.get('clusterIdentifier')}"


_SUMMARIES: dict[str, Callable[[Registered], str]] = {
    "kubernetes:helm.sh/v3:Release": _release,
    "kubernetes:core/v1:Service": _service,
    "kubernetes:core/v1:Secret": _secret,
    "pulumi:providers:kubernetes": _provider,
    "pulumi:pulumi:StackReference": lambda r: "reads what this stack deployed last (upgrade guard)",
    "random:index/randomPassword:RandomPassword": lambda r: f"length={r.inputs.get('length')} (value secret)",
    "pulumi-python:dynamic/controlplane:SupportReplica": _support_replica,
    "pulumi-python:dynamic/controlplane:ReplicaSet": _replica_set,
}


def summary(r: Registered) -> str:
    text = _materialize(r) if r.type.endswith(":Materialize") else _SUMMARIES.get(r.type, _name)(r)
    if r.protect:
        return f"{text} [protected]".strip()
    return text


def render(evaluation: Evaluation) -> str:
    children: dict[str, list[Registered]] = {}
    for r in evaluation.registered:
        children.setdefault(r.parent, []).append(r)
    for siblings in children.values():
        siblings.sort(key=lambda r: (r.type, r.name))
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for r in children.get(parent, []):
            detail = summary(r)
            lines.append(f"{'  ' * depth}{r.type}  {r.name}" + (f"  ({detail})" if detail else ""))
            walk(r.urn, depth + 1)

    recorded = {r.urn for r in evaluation.registered}
    for root in sorted(parent for parent in children if parent not in recorded):
        walk(root, 0)
    public = {k: v for k, v in evaluation.outputs.items() if k not in evaluation.secret_outputs}
    lines.append("")
    lines.append(f"{len(evaluation.registered)} resources. Outputs, with mocked cloud values (secrets hidden):")
    lines.append(json.dumps(public, indent=2, sort_keys=True, default=str))
    for key in sorted(evaluation.secret_outputs):
        lines.append(f"{key}: [secret]")
    return "\n".join(lines)


def plan_stack(stack: str, secrets: dict[str, str], root: Path = ROOT) -> str:
    evaluation, notes = evaluate_stack(stack, secrets, root)
    header = f"Plan for stack {stack!r} (offline, under mocks)" + "".join(f"\n  note: {n}" for n in notes)
    return f"{header}\n\n{render(evaluation)}"


def evaluate_stack(stack: str, secrets: dict[str, str], root: Path = ROOT) -> tuple[Evaluation, list[str]]:
    """An example stack's file evaluated under mocks, with notes on what was stood in for."""
    stack_config = read_stack_config(stack, root)
    values = dict(stack_config.values)
    notes = []
    unreadable = sorted(stack_config.encrypted - set(secrets))
    # A support stack (control plane) has no license key to stand in for.
    install = "support" not in set(values) | set(secrets) | stack_config.encrypted
    if install and ("licenseKey" in unreadable or ("licenseKey" not in values and "licenseKey" not in secrets)):
        secrets = {**secrets, "licenseKey": LICENSE_PLACEHOLDER}
        notes.append("licenseKey: a placeholder is used offline")
        unreadable = [key for key in unreadable if key != "licenseKey"]
    if unreadable:
        raise pulumi.RunError(
            f"stack {stack}: encrypted values cannot be read offline: {', '.join(unreadable)}; "
            "pass them with --secret KEY=VALUE"
        )
    return evaluate({**values, **secrets}, secret_keys=sorted(secrets), stack=stack), notes


def secret_argument(text: str) -> tuple[str, str]:
    """`KEY=VALUE` or, as `pulumi config` spells keys, `materialize:KEY=VALUE`."""
    key, separator, value = text.partition("=")
    key = key.strip().removeprefix(f"{PROJECT}:")
    if not separator or not key:
        # The text may be the secret itself: it is not echoed.
        raise argparse.ArgumentTypeError("expected KEY=VALUE, such as licenseKey=... (what was given is not shown)")
    if ":" in key:
        raise argparse.ArgumentTypeError(f"{key!r}: only {PROJECT}:* keys are read by the program")
    return key, value


def main(argv: Sequence[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plan", description=(__doc__ or "").split("\n\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--stack", help="stack name: stacks/Pulumi.<stack>.yaml")
    which.add_argument("--all", action="store_true", help="plan every stack in stacks/")
    parser.add_argument(
        "--secret",
        action="append",
        default=[],
        type=secret_argument,
        metavar="KEY=VALUE",
        help="a secret config value (for values encrypted in the stack file); KEY may carry the materialize: prefix",
    )
    args = parser.parse_args(argv)
    secrets = dict(args.secret)
    stacks = stack_names(root) if args.all else [args.stack]
    failed = False
    for stack in stacks:
        try:
            print(plan_stack(stack, secrets, root))
        except (pulumi.RunError, StackFileError) as error:
            print(f"error: stack {stack}: {error}", file=sys.stderr)
            failed = True
        print()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
