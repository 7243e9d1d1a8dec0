"""Deterministic stand-ins for provider-generated values (ids, names, addresses).

Mocked outputs must be the same on every evaluation, like a real stack's
outputs between two previews, so they are derived from names, never random.
"""

from __future__ import annotations

import hashlib


def stable_hex(*parts: str, length: int = 12) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]
