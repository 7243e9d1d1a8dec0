"""The region, checked offline against the list pulumi-aws ships (its `Region` enum).

A misspelt region would otherwise plan without complaint and fail only when the
provider first calls AWS. The enum is the provider's own list of regions it can
target (pulumi_aws/_enums.py, `class Region`), so a region AWS opens after the
pinned provider was released is refused until the pin moves; the message says so.
"""

from __future__ import annotations

import difflib

import pulumi_aws as aws

from components.settings import PROJECT


def known_regions() -> frozenset[str]:
    return frozenset(region.value for region in aws.Region)


def region_problem(region: str) -> str | None:
    known = known_regions()
    if region in known:
        return None
    close = difflib.get_close_matches(region, sorted(known), n=3)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    return (
        f"{PROJECT}:region: {region!r} is not an AWS region the pinned pulumi-aws knows; {hint}"
        f"(known: {', '.join(sorted(known))}; a region newer than the provider needs a newer pulumi-aws)"
    )
