"""How pulumi-kubernetes judges a `pulumi.com/waitFor` annotation against an object.

A model of the subset the program uses, after the provider's own code:
a JSON list means every expression must hold (provider/pkg/metadata/overrides.go
`ReadyCondition`, provider/pkg/await/condition/all.go); `condition=Type` wants
a status condition of that type with status True (condition/custom.go);
`jsonpath={path}=value` wants the path's first match, printed, to equal the
literal, and `jsonpath={path}` only that it matches (provider/pkg/jsonpath/jsonpath.go).
Only dotted paths with [index] steps are modelled; anything else is an error
here, so a new kind of expression cannot pass untested.
"""

from __future__ import annotations

import json
import re
from typing import Any

_STEP = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]")


def satisfied(annotation: str, obj: dict[str, Any]) -> bool:
    try:
        expressions = json.loads(annotation)
    except ValueError:
        expressions = [annotation]
    assert isinstance(expressions, list) and expressions
    return all(_holds(expression, obj) for expression in expressions)


def _holds(expression: str, obj: dict[str, Any]) -> bool:
    if expression.startswith("condition="):
        kind, _, wanted = expression.removeprefix("condition=").partition("=")
        conditions = (obj.get("status") or {}).get("conditions") or []
        return any(c.get("type") == kind and c.get("status") == (wanted or "True") for c in conditions)
    assert expression.startswith("jsonpath="), expression
    path, _, wanted = expression.removeprefix("jsonpath=").partition("}=")
    found = _select(path.removeprefix("{").removesuffix("}"), obj)
    if found is _MISSING:
        return False
    return not wanted or str(found) == wanted


_MISSING = object()


def _select(path: str, obj: Any) -> Any:
    position = 0
    node = obj
    while position < len(path):
        match = _STEP.match(path, position)
        assert match is not None, f"unmodelled JSONPath {path!r}"
        key, index = match.groups()
        if key is not None:
            if not isinstance(node, dict) or key not in node:
                return _MISSING
            node = node[key]
        else:
            if not isinstance(node, list) or int(index) >= len(node):
                return _MISSING
            node = node[int(index)]
        position = match.end()
    return _MISSING if node is None else node
