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
        """As the nodeSelector and tolerations values charts take, only those that are set.

        Unset ones are left out so each chart keeps its own default, whose type
        differs between charts (the materialize-operator chart's
        `environmentd.tolerations` default is a map, cert-manager's a list):
        passing an empty list over a map default makes Helm warn and replace it.
        """
        return self._fields("nodeSelector", "tolerations")

    def pod_spec_fields(self) -> dict[str, Any]:
        """As pod spec arguments (node_selector, tolerations), only those that are set."""
        return self._fields("node_selector", "tolerations")

    def _fields(self, selector_key: str, tolerations_key: str) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if self.node_selector:
            fields[selector_key] = self._selector()
        if self.tolerations:
            fields[tolerations_key] = self._tolerations()
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
