"""benchmarks/critical_path.py: the chain of long-running creates docs/performance.md reports.

On each example stack the heaviest chain to the first instance is the unavoidable one
(cluster -> system nodes -> cert-manager -> operator -> instance), and docs/performance.md
lists exactly that chain, so the document fails here when the graph changes.
"""

from __future__ import annotations

import pytest

from benchmarks.critical_path import critical_chain
from tools.offline.mocks import Registered
from tools.plan import evaluate_stack
from tools.stack_files import ROOT

INSTALL_STACKS = ["aws", "azure", "byo", "gcp", "local"]


POOLS = ("aws:eks/nodeGroup:NodeGroup", "gcp:container/nodePool:NodePool", "azure-native:containerservice:AgentPool")


def chain_of(stack: str) -> list[Registered]:
    evaluation, _ = evaluate_stack(stack, {})
    instance = next(r for r in evaluation.registered if r.type.endswith(":Materialize"))
    return critical_chain(evaluation, instance)


def chain(stack: str) -> list[str]:
    return [r.name for r in chain_of(stack)]


@pytest.mark.parametrize("stack", INSTALL_STACKS)
def test_the_heaviest_chain_is_the_unavoidable_one(stack: str) -> None:
    resources = chain_of(stack)
    names = [r.name for r in resources]
    assert names[-3:-1] == ["materialize-tls-release", "materialize-operator-release"]
    assert names[-1].endswith("-materialize")
    # Only system nodes are in front of the system components, never Materialize's own pool.
    assert all("system" in r.name for r in resources if r.type in POOLS)


@pytest.mark.parametrize("stack", INSTALL_STACKS)
def test_docs_performance_lists_each_chain(stack: str) -> None:
    text = (ROOT / "docs" / "performance.md").read_text()
    assert f"`{stack}`: " + " → ".join(f"`{n}`" for n in chain(stack)) in text


@pytest.mark.parametrize("stack", INSTALL_STACKS)
def test_docs_performance_says_how_long_each_step_on_the_chain_takes(stack: str) -> None:
    text = (ROOT / "docs" / "performance.md").read_text()
    table = text[text.index("### How long each step takes") :]
    missing = sorted(
        {r.type for r in chain_of(stack)} - {row.split("`")[1] for row in table.splitlines() if row.startswith("| `")}
    )
    assert not missing, f"docs/performance.md has no create-time row for {missing}"
