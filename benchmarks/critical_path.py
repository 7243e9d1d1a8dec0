"""The chain of long-running creates in front of each example stack's first instance.

Run by hand (not part of the test suite):

    venv/bin/python -m benchmarks.critical_path [STACK ...]

It evaluates the stack as the offline plan does and walks the registered
dependency graph (the same edges the engine orders creates by: dependencies,
property dependencies, providers) back from the instance's `Materialize`
resource, following at each step the upstream resource with the most
long-running creates behind it. Long-running means a cloud control plane, node
pool, database server, NAT gateway, Helm release (each waits for its pods) or
the instance itself; everything else (roles, policies, Secrets, subnets) is
seconds. The output is that chain, in create order: what `pulumi up` cannot
overlap. docs/performance.md carries it per target.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Sequence

from tools.offline.evaluate import Evaluation
from tools.offline.mocks import Registered

LONG_RUNNING = frozenset(
    {
        "aws:eks/cluster:Cluster",
        "aws:eks/nodeGroup:NodeGroup",
        "aws:eks/addon:Addon",
        "aws:rds/instance:Instance",
        "aws:ec2/natGateway:NatGateway",
        "gcp:container/cluster:Cluster",
        "gcp:container/nodePool:NodePool",
        "gcp:sql/databaseInstance:DatabaseInstance",
        "gcp:servicenetworking/connection:Connection",
        "azure-native:containerservice:ManagedCluster",
        "azure-native:containerservice:AgentPool",
        "azure-native:dbforpostgresql:Server",
        "kubernetes:helm.sh/v3:Release",
        "kubernetes:apps/v1:DaemonSet",
        "kubernetes:apps/v1:StatefulSet",
        "kubernetes:batch/v1:Job",
        "kubernetes:materialize.cloud/v1:Materialize",
        "kubernetes:materialize.cloud/v1alpha1:Materialize",
    }
)


def critical_chain(evaluation: Evaluation, target: Registered) -> list[Registered]:
    """The long-running resources on the heaviest path to `target`, first created first."""
    by_urn = {r.urn: r for r in evaluation.registered}

    @functools.cache
    def heaviest(urn: str) -> tuple[int, tuple[str, ...]]:
        resource = by_urn[urn]
        best: tuple[int, tuple[str, ...]] = (0, ())
        for upstream in sorted(resource.engine_edges() & by_urn.keys()):
            best = max(best, heaviest(upstream), key=lambda weight_chain: weight_chain[0])
        own = resource.type in LONG_RUNNING
        return best[0] + own, best[1] + ((urn,) if own else ())

    return [by_urn[urn] for urn in heaviest(target.urn)[1]]


def main(argv: Sequence[str] | None = None) -> int:
    from tools.plan import evaluate_stack
    from tools.stack_files import stack_names

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.critical_path", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("stacks", nargs="*", help="example stacks (default: every install stack)")
    args = parser.parse_args(argv)
    for stack in args.stacks or [s for s in stack_names() if s != "support"]:
        evaluation, _ = evaluate_stack(stack, {})
        instances = [r for r in evaluation.registered if r.type.endswith(":Materialize")]
        if not instances:
            continue
        print(f"{stack}:")
        for resource in critical_chain(evaluation, instances[0]):
            print(f"  {resource.type}  {resource.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
