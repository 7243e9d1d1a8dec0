"""Where pods may run: node selectors and tolerations."""

from __future__ import annotations

from typing import Any, Literal

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

    def helm_values(self) -> dict[str, Any]:
        """As the nodeSelector and tolerations values charts take."""
        return {"nodeSelector": self._selector(), "tolerations": self._tolerations()}

    def pod_spec_fields(self) -> dict[str, Any]:
        """As pod spec arguments (node_selector, tolerations), only those that are set."""
        fields: dict[str, Any] = {}
        if self.node_selector:
            fields["node_selector"] = self._selector()
        if self.tolerations:
            fields["tolerations"] = self._tolerations()
        return fields

    def _selector(self) -> dict[str, str]:
        # Sorted: the same settings always give the same resource inputs.
        return dict(sorted(self.node_selector.items()))

    def _tolerations(self) -> list[dict[str, str]]:
        return [toleration.to_kubernetes() for toleration in self.tolerations]


class NodePlacement(StrictModel):
    """Overrides for the node placement a target chooses."""

    materialize: Placement | None = None
    system: Placement | None = None
