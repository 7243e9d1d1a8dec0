"""Where pods may run: node selectors and tolerations."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    field_validator,
)

from components.settings.base import LABEL_KEY, StrictModel


class Toleration(StrictModel):
    key: str
    operator: Literal["Equal", "Exists"] = "Equal"
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None

    def to_kubernetes(self) -> dict[str, str]:
        return self.model_dump(exclude_none=True)


class Placement(StrictModel):
    """Where a group of pods may run."""

    node_selector: dict[str, str] = Field(default_factory=dict, alias="nodeSelector")
    tolerations: list[Toleration] = Field(default_factory=list)

    @field_validator("node_selector")
    @classmethod
    def _label_keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not LABEL_KEY.match(key):
                raise ValueError(f"{key!r} is not a valid Kubernetes label key")
        return value


class NodePlacement(StrictModel):
    """Overrides for the node placement a target chooses."""

    materialize: Placement | None = None
    system: Placement | None = None
