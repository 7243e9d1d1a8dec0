"""Where this target's Azure resources go, and what every one of them carries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from components.targets.azure.names import Names


@dataclass(frozen=True)
class Home:
    """The resource group, region, names and tags shared by the target's components."""

    # The group's name as an output of the group when this stack creates it,
    # so everything in it waits for it without an explicit dependency.
    resource_group: pulumi.Input[str]
    location: str
    names: Names
    tags: Mapping[str, str]
    subscription_id: pulumi.Output[str]

    def tagged(self) -> dict[str, str]:
        return dict(sorted(self.tags.items()))
