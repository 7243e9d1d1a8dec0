"""AWS policy documents (IAM trust policies, S3 bucket policies) as the rules read them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .fields import as_list


def statements(policy: Any) -> list[Mapping[str, Any]]:
    """The statements of a policy given as JSON text or as a mapping; none when it is neither."""
    document = policy
    if isinstance(policy, str):
        try:
            document = json.loads(policy)
        except ValueError:
            return []
    if not isinstance(document, Mapping):
        return []
    listed = document.get("Statement")
    # A single statement may stand alone instead of in a list.
    return [s for s in one_or_many(listed) if isinstance(s, Mapping)]


def one_or_many(value: Any) -> list[Any]:
    """A policy element that may be one value or a list of them, as a list."""
    return as_list(value) or [value]
