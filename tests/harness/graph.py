"""Walking the registered resource graph: what waits for what.

The engine orders creates (and, reversed, deletes) by each registration's
`dependencies`, `propertyDependencies` and provider. `upstream` and
`waits_for` follow exactly those edges. `may_wait_for` also follows every parent's edges, a superset the engine
does not need: asserting that A may NOT wait for B through it is the stronger
claim, so negative checks use it.
"""

from __future__ import annotations

from collections.abc import Iterable

from tools.offline.evaluate import Evaluation
from tools.offline.mocks import Registered


def upstream(evaluation: Evaluation, resource: Registered, *, through_parents: bool = False) -> set[str]:
    """Every URN `resource` waits for: dependencies and providers, transitively."""
    by_urn = {r.urn: r for r in evaluation.registered}
    seen: set[str] = set()
    todo = [resource.urn]
    while todo:
        current = by_urn.get(todo.pop())
        if current is None:
            continue
        nexts = current.engine_edges()
        if through_parents and current.parent in by_urn:
            nexts.add(current.parent)
        for urn in nexts - seen:
            seen.add(urn)
            todo.append(urn)
    return seen


def waits_for(evaluation: Evaluation, resource: Registered, other: Registered) -> bool:
    """True when the engine creates `other` before `resource` (directly or through others)."""
    return other.urn in upstream(evaluation, resource)


def may_wait_for(evaluation: Evaluation, resource: Registered, other: Registered) -> bool:
    """`waits_for`, also through every ancestor's edges (and the ancestors themselves)."""
    return other.urn in upstream(evaluation, resource, through_parents=True)


def waiting_on(evaluation: Evaluation, resource: Registered, others: Iterable[Registered]) -> list[str]:
    """The names of `others` that `resource` may wait for (empty: none)."""
    return [o.name for o in others if may_wait_for(evaluation, resource, o)]
